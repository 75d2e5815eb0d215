"""The duty cycle's rules (rules, generation, storage, operations, queries) on the demo districts."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.duties import generation, operations, queries, rules, storage
from portal.duties.models import Duty, DutyReviewRecord, DutyStatus, EvidenceFile
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.grants import SYSTEM
from portal.kernel.periods import Period
from tests.conftest import statements
from tests.duties.helpers import district, duty_in, user


def test_periods_come_from_the_kernel_only() -> None:
    """No period arithmetic or today() of the duties' own (the kernel's Period and clock)."""
    root = Path(__file__).resolve().parents[2] / "portal" / "duties"
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("PERIOD_RE", "def period_for", "def parse_period", "dt.date.today()"):
            assert banned not in text, (path.name, banned)
        assert "db.session.commit(" not in text, path.name


def test_demo_has_every_state_and_a_signed_previous_period(app) -> None:  # type: ignore[no-untyped-def]
    with district(app, "jiangyan"):  # a draft for comment: no duties until the lead adopts it
        assert queries.status_totals(queries.status_matrix(Period.current().code))["total"] == 0
    for slug in ("zhangdian", "jiading", "kaifeng"):
        with district(app, slug):
            current = Period.current().code
            totals = queries.status_totals(queries.status_matrix(current))
            assert all(totals[s.value] > 0 for s in DutyStatus), (slug, totals)
            previous = queries.status_totals(
                queries.status_matrix(Period.parse(current).previous.code)
            )
            assert previous["total"] > 0 and previous["accepted"] == previous["total"]


def test_generate_is_idempotent_and_warns_on_expired_policy(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        period = Period.current().next.code
        first = generation.generate_duties(SYSTEM, period)
        assert first.created == 51 and not first.warnings
        again = generation.generate_duties(SYSTEM, period)
        assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 51)
        db.session.commit()
    with district(fresh_app, "zhangdian"):
        result = generation.generate_duties(SYSTEM, Period.current().next.code)
        assert result.created == 25
        assert any("2026年1月7日" in w for w in result.warnings)


def test_new_policy_version_updates_unsigned_duties_only(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.demo import load_policy_file
    from portal.policy.loader import apply_policy

    with district(fresh_app, "kaifeng") as tenant:
        period = Period.current().code
        before = {
            d.id: (d.measure_id, d.status)
            for d in db.session.execute(sa.select(Duty).where(Duty.period == period))
            .unique()
            .scalars()
        }
        data = load_policy_file("kaifeng")
        data["policy"]["effective_from"] = Period.parse(period).start.isoformat()
        data["policy"]["doc_number"] = "汴政办〔2026〕1号"
        apply_policy(tenant, data)
        db.session.flush()
        result = generation.generate_duties(SYSTEM, period)
        signed = [i for i, (_m, s) in before.items() if s in rules.SIGNED]
        assert result.kept_signed == len(signed) > 0
        assert result.updated == len(before) - len(signed)
        db.session.expire_all()
        for duty in (
            db.session.execute(sa.select(Duty).where(Duty.period == period)).unique().scalars()
        ):
            old_measure, old_status = before[duty.id]
            assert duty.status == old_status
            if old_status in rules.SIGNED:
                assert duty.measure_id == old_measure
            else:
                assert duty.measure_id != old_measure
                assert duty.measure.version.doc_number == "汴政办〔2026〕1号"


def test_officer_logs_signs_off_and_lead_reviews(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["UPLOAD_DIR"] = str(tmp_path)
    with district(fresh_app, "kaifeng"):
        officer, lead = user("kaifeng-civil-affairs"), user("kaifeng-lead")
        duty = duty_in(DutyStatus.not_started)
        day = min(today(), duty.due_date)
        pdf = b"%PDF-1.4 demo evidence"
        entry = operations.add_entry(
            duty,
            officer,
            operations.EntryInput(day, "走访特殊家庭12户", "12", "3600.50"),
            [storage.Upload("台账.pdf", pdf, day)],
            expected_version=duty.row_version,
        )
        assert duty.status == DutyStatus.in_progress
        evidence = db.session.execute(
            sa.select(EvidenceFile).filter_by(entry_id=entry.id)
        ).scalar_one()
        assert evidence.sha256 == hashlib.sha256(pdf).hexdigest() and evidence.size == len(pdf)
        # the file waits under a temporary name until the row is committed
        assert not storage.path_of(evidence).exists()
        db.session.commit()
        assert storage.path_of(evidence).read_bytes() == pdf
        assert not list(tmp_path.rglob("*.part"))

        with pytest.raises(rules.DutyError) as e:
            operations.sign_off(
                duty,
                officer,
                assessment="partly",
                statement="部分完成",
                expected_version=duty.row_version,
            )
        assert e.value.field == "reason"
        with pytest.raises(rules.NotAllowed):
            operations.sign_off(
                duty, lead, assessment="fully", statement="x", expected_version=duty.row_version
            )
        operations.sign_off(
            duty,
            officer,
            assessment="fully",
            statement="已全面落实",
            expected_version=duty.row_version,
        )
        assert duty.status == DutyStatus.submitted and duty.submitted_by_id == officer.id

        # a second officer of the same department cannot accept
        with pytest.raises(rules.NotAllowed):
            operations.review(duty, officer, accept=True, expected_version=duty.row_version)
        with pytest.raises(rules.DutyError) as e:
            operations.review(
                duty, lead, accept=False, reason="  ", expected_version=duty.row_version
            )
        assert e.value.field == "reason"
        operations.review(duty, lead, accept=True, expected_version=duty.row_version)
        assert duty.status == DutyStatus.accepted and duty.reviewed_by_id == lead.id

        # a later edit invalidates the acceptance and asks for a new sign-off
        assert operations.update_entry(
            entry,
            officer,
            operations.EntryInput(day, "走访特殊家庭13户", 13, "3600.50"),
            expected_version=entry.row_version,
        )
        assert duty.status == DutyStatus.in_progress and duty.reviewed_by_id is None
        actions = (
            db.session.execute(
                sa.select(DutyReviewRecord.action)
                .where(DutyReviewRecord.duty_id == duty.id)
                .order_by(DutyReviewRecord.at)
            )
            .scalars()
            .all()
        )
        assert actions == ["submitted", "accepted", "invalidated"]
        db.session.commit()


def test_reviewer_is_never_the_submitter(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        lead = user("kaifeng-lead")
        duty = duty_in(DutyStatus.submitted)
        duty.submitted_by_id = lead.id  # e.g. a lead who signed it off in a former role
        with pytest.raises(rules.NotAllowed):
            operations.review(duty, lead, accept=True, expected_version=duty.row_version)


def test_entry_validation_names_the_field(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        officer = user("kaifeng-civil-affairs")
        duty = duty_in(DutyStatus.not_started)
        day = min(today(), duty.due_date)
        cases = [
            (operations.EntryInput("2026-13-01", "x"), "work_date"),
            (operations.EntryInput(day + dt.timedelta(days=400), "x"), "work_date"),
            (operations.EntryInput(dt.date(2020, 1, 1), "x"), "work_date"),
            (operations.EntryInput(day, "   "), "narrative"),
            (operations.EntryInput(day, "x", "-1"), "families_reached"),
            (operations.EntryInput(day, "x", "abc"), "families_reached"),
            (operations.EntryInput(day, "x", 1, "1.234"), "amount_paid"),
            (operations.EntryInput(day, "x", 1, "NaN"), "amount_paid"),
            (operations.EntryInput(day, "x", 1, "-5"), "amount_paid"),
        ]
        for data, field in cases:
            with pytest.raises(rules.DutyError) as e:
                operations.add_entry(duty, officer, data, expected_version=duty.row_version)
            assert e.value.field == field, (data, e.value.message)
        for upload in (
            storage.Upload("a.exe", b"MZ"),
            storage.Upload("a.pdf", b"not a pdf"),
            storage.Upload("a.pdf", b""),
            storage.Upload("a.txt", b"\xff\xfe\xfa"),
            storage.Upload("a.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024)),
        ):
            with pytest.raises(rules.DutyError) as e:
                operations.add_entry(
                    duty,
                    officer,
                    operations.EntryInput(day, "x"),
                    [upload],
                    expected_version=duty.row_version,
                )
            assert e.value.field == "files"
        assert duty.status == DutyStatus.not_started


def test_conflict_and_overdue(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        officer = user("kaifeng-civil-affairs")
        duty = duty_in(DutyStatus.in_progress)
        shown = duty.row_version
        duty.review_note = "someone else saved"
        db.session.flush()
        with pytest.raises(rules.ConflictError):
            operations.sign_off(
                duty,
                officer,
                assessment="not_applicable",
                reason="无",
                statement="x",
                expected_version=shown,
            )
        assert duty.status == DutyStatus.in_progress
        assert not queries.is_overdue(duty)
        fresh_app.config["TODAY"] = duty.due_date + dt.timedelta(days=1)
        try:
            assert queries.is_overdue(duty)
            matrix = queries.status_matrix(duty.period)
            assert queries.status_totals(matrix)["overdue"] == sum(
                r.counts[s] for r in matrix for s in ("not_started", "in_progress", "returned")
            )
        finally:
            fresh_app.config.pop("TODAY")


def test_status_matrix_is_one_query(app) -> None:  # type: ignore[no-untyped-def]
    with district(app, "kaifeng"):
        with statements(app) as seen:
            matrix = queries.status_matrix()
        assert len([s for s in seen if "duties" in s]) == 1
        assert len(matrix) >= 10 and sum(r.total for r in matrix) == 51


def test_cli_generate(fresh_app) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    period = Period.current().next.code
    result = runner.invoke(args=["duties", "generate", "--tenant", "zhangdian", "--period", period])
    assert result.exit_code == 0, result.output
    assert f"zhangdian {period}: 25 created" in result.output
    assert "2026年1月7日" in result.output  # the expired-policy warning
    again = runner.invoke(args=["duties", "generate", "--tenant", "zhangdian", "--period", period])
    assert "0 created" in again.output and "25 unchanged" in again.output
    assert runner.invoke(args=["duties", "generate", "--tenant", "nope"]).exit_code != 0
    assert runner.invoke(args=["duties", "generate", "--period", "2026H7"]).exit_code != 0
