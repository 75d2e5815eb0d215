"""The duty cycle's rules (portal.duties.services), on the demo districts."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.duties import services
from portal.duties.models import Duty, DutyReviewRecord, DutyStatus, EvidenceFile
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant


@contextlib.contextmanager
def district(app, slug: str) -> Iterator[Tenant]:  # type: ignore[no-untyped-def]
    with app.app_context():
        with scope.cross_tenant("test"):
            tenant = db.session.execute(sa.select(Tenant).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tenant.id):
            yield tenant
        db.session.rollback()


def user(username: str) -> User:
    return db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()


def department(key: str) -> Department:
    return db.session.execute(sa.select(Department).filter_by(key=key)).scalar_one()


def duty_in(status: DutyStatus, dept_key: str = "civil_affairs") -> Duty:
    return (
        db.session.execute(
            sa.select(Duty)
            .where(Duty.period == services.current_period(), Duty.status == status)
            .where(Duty.department_id == department(dept_key).id)
            .order_by(Duty.measure_number)
        )
        .unique()
        .scalars()
        .first()
    )


def test_periods(app) -> None:  # type: ignore[no-untyped-def]
    assert services.period_for(dt.date(2026, 6, 30)) == "2026H1"
    assert services.period_for(dt.date(2026, 7, 1)) == "2026H2"
    assert services.period_bounds("2026H2") == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert services.previous_period("2026H1") == "2025H2"
    assert services.next_period("2026H2") == "2027H1"
    assert services.parse_period(" 2026h1 ") == "2026H1"
    for bad in ("2026H3", "26H1", "", "2026-H1", None):
        with pytest.raises(services.DutyError) as e:
            services.parse_period(bad)
        assert e.value.field == "period"
    with app.app_context():
        app.config["TODAY"] = "2027-02-03"
        try:
            assert services.current_period() == "2027H1"
        finally:
            app.config.pop("TODAY")
        assert services.current_period() == services.period_for(dt.date.today())


def test_demo_has_every_state_and_a_signed_previous_period(app) -> None:  # type: ignore[no-untyped-def]
    with district(app, "jiangyan"):  # a draft for comment: no duties until the lead adopts it
        assert (
            services.status_totals(services.status_matrix(services.current_period()))["total"] == 0
        )
    for slug in ("zhangdian", "jiading", "kaifeng"):
        with district(app, slug):
            current = services.current_period()
            totals = services.status_totals(services.status_matrix(current))
            assert all(totals[s.value] > 0 for s in DutyStatus), (slug, totals)
            previous = services.status_totals(
                services.status_matrix(services.previous_period(current))
            )
            assert previous["total"] > 0 and previous["accepted"] == previous["total"]


def test_generate_is_idempotent_and_warns_on_expired_policy(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        period = services.next_period(services.current_period())
        first = services.generate_duties(period)
        assert first.created == 51 and not first.warnings
        again = services.generate_duties(period)
        assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 51)
        db.session.commit()
    with district(fresh_app, "zhangdian"):
        result = services.generate_duties(services.next_period(services.current_period()))
        assert result.created == 25
        assert any("2026-01-07" in w for w in result.warnings)


def test_new_policy_version_updates_unsigned_duties_only(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.demo import load_policy_file
    from portal.policy.loader import apply_policy

    with district(fresh_app, "kaifeng") as tenant:
        period = services.current_period()
        before = {
            d.id: (d.measure_id, d.status)
            for d in db.session.execute(sa.select(Duty).where(Duty.period == period))
            .unique()
            .scalars()
        }
        data = load_policy_file("kaifeng")
        data["policy"]["effective_from"] = services.period_bounds(period)[0].isoformat()
        data["policy"]["doc_number"] = "汴政办〔2026〕1号"
        apply_policy(tenant, data)
        db.session.flush()
        result = services.generate_duties(period)
        signed = [i for i, (_m, s) in before.items() if s in services.SIGNED]
        assert result.kept_signed == len(signed) > 0
        assert result.updated == len(before) - len(signed)
        db.session.expire_all()
        for duty in (
            db.session.execute(sa.select(Duty).where(Duty.period == period)).unique().scalars()
        ):
            old_measure, old_status = before[duty.id]
            assert duty.status == old_status
            if old_status in services.SIGNED:
                assert duty.measure_id == old_measure
            else:
                assert duty.measure_id != old_measure
                assert duty.measure.version.doc_number == "汴政办〔2026〕1号"


def test_officer_logs_signs_off_and_lead_reviews(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["UPLOAD_DIR"] = str(tmp_path)
    with district(fresh_app, "kaifeng"):
        officer, lead = user("kaifeng-civil-affairs"), user("kaifeng-lead")
        duty = duty_in(DutyStatus.not_started)
        day = min(services.today(), duty.due_date)
        pdf = b"%PDF-1.4 demo evidence"
        entry = services.add_entry(
            duty,
            officer,
            services.EntryInput(day, "走访特殊家庭12户", "12", "3600.50"),
            [services.Upload("台账.pdf", pdf, day)],
        )
        assert duty.status == DutyStatus.in_progress
        evidence = db.session.execute(
            sa.select(EvidenceFile).filter_by(entry_id=entry.id)
        ).scalar_one()
        assert evidence.sha256 == hashlib.sha256(pdf).hexdigest() and evidence.size == len(pdf)
        assert services.evidence_path(evidence).read_bytes() == pdf

        with pytest.raises(services.DutyError) as e:
            services.sign_off(duty, officer, assessment="partly", statement="部分完成")
        assert e.value.field == "reason"
        with pytest.raises(services.NotAllowed):
            services.sign_off(duty, lead, assessment="fully", statement="x")
        services.sign_off(duty, officer, assessment="fully", statement="已全面落实")
        assert duty.status == DutyStatus.submitted and duty.submitted_by_id == officer.id

        # a second officer of the same department cannot accept
        with pytest.raises(services.NotAllowed):
            services.review(duty, officer, accept=True)
        with pytest.raises(services.DutyError) as e:
            services.review(duty, lead, accept=False, reason="  ")
        assert e.value.field == "reason"
        services.review(duty, lead, accept=True)
        assert duty.status == DutyStatus.accepted and duty.reviewed_by_id == lead.id

        # a later edit invalidates the acceptance and asks for a new sign-off
        assert services.update_entry(
            entry, officer, services.EntryInput(day, "走访特殊家庭13户", 13, "3600.50")
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
        with pytest.raises(services.NotAllowed):
            services.review(duty, lead, accept=True)


def test_entry_validation_names_the_field(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        officer = user("kaifeng-civil-affairs")
        duty = duty_in(DutyStatus.not_started)
        day = min(services.today(), duty.due_date)
        cases = [
            (services.EntryInput("2026-13-01", "x"), "work_date"),
            (services.EntryInput(day + dt.timedelta(days=400), "x"), "work_date"),
            (services.EntryInput(dt.date(2020, 1, 1), "x"), "work_date"),
            (services.EntryInput(day, "   "), "narrative"),
            (services.EntryInput(day, "x", "-1"), "families_reached"),
            (services.EntryInput(day, "x", "abc"), "families_reached"),
            (services.EntryInput(day, "x", 1, "1.234"), "amount_paid"),
            (services.EntryInput(day, "x", 1, "NaN"), "amount_paid"),
            (services.EntryInput(day, "x", 1, "-5"), "amount_paid"),
        ]
        for data, field in cases:
            with pytest.raises(services.DutyError) as e:
                services.add_entry(duty, officer, data)
            assert e.value.field == field, (data, e.value.message)
        for upload in (
            services.Upload("a.exe", b"MZ"),
            services.Upload("a.pdf", b"not a pdf"),
            services.Upload("a.pdf", b""),
            services.Upload("a.txt", b"\xff\xfe\xfa"),
            services.Upload("a.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024)),
        ):
            with pytest.raises(services.DutyError) as e:
                services.add_entry(duty, officer, services.EntryInput(day, "x"), [upload])
            assert e.value.field == "files"
        assert duty.status == DutyStatus.not_started


def test_conflict_and_overdue(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        officer = user("kaifeng-civil-affairs")
        duty = duty_in(DutyStatus.in_progress)
        shown = duty.row_version
        duty.review_note = "someone else saved"
        db.session.flush()
        with pytest.raises(services.ConflictError):
            services.sign_off(
                duty,
                officer,
                assessment="not_applicable",
                reason="无",
                statement="x",
                expected_version=shown,
            )
        assert duty.status == DutyStatus.in_progress
        assert not services.is_overdue(duty)
        fresh_app.config["TODAY"] = duty.due_date + dt.timedelta(days=1)
        try:
            assert services.is_overdue(duty)
            matrix = services.status_matrix(duty.period)
            assert services.status_totals(matrix)["overdue"] == sum(
                r.counts[s] for r in matrix for s in ("not_started", "in_progress", "returned")
            )
        finally:
            fresh_app.config.pop("TODAY")


def test_status_matrix_is_one_query(app) -> None:  # type: ignore[no-untyped-def]
    with district(app, "kaifeng"):
        statements: list[str] = []

        def count(conn, cursor, statement, *a) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            matrix = services.status_matrix()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert len([s for s in statements if "duties" in s]) == 1
        assert len(matrix) >= 10 and sum(r.total for r in matrix) == 51


def test_cli_generate(fresh_app) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    period = services.next_period(services.current_period())
    result = runner.invoke(args=["duties", "generate", "--tenant", "zhangdian", "--period", period])
    assert result.exit_code == 0, result.output
    assert f"zhangdian {period}: 25 created" in result.output
    assert "2026-01-07" in result.output  # the expired-policy warning
    again = runner.invoke(args=["duties", "generate", "--tenant", "zhangdian", "--period", period])
    assert "0 created" in again.output and "25 unchanged" in again.output
    assert runner.invoke(args=["duties", "generate", "--tenant", "nope"]).exit_code != 0
    assert runner.invoke(args=["duties", "generate", "--period", "2026H7"]).exit_code != 0
