"""Evidence files follow the transaction, storage faults keep the user's input, the stale
version check is required, and regeneration answers the policy and onboarding signals."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from portal.duties import operations, rules, storage
from portal.duties.generation import GenerationResult
from portal.duties.models import Duty, DutyStatus, EvidenceFile, ProgressEntry
from portal.extensions import db
from portal.kernel import signals
from portal.kernel.clock import today
from portal.kernel.periods import Period
from portal.kernel.uow import attempt
from tests.conftest import count_of, new_api_token
from tests.duties.helpers import district, duty_in, user

BASE = "/t/kaifeng/duties"
PDF = b"%PDF-1.4 evidence for the fault test"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _entry(duty: Duty) -> operations.EntryInput:
    return operations.EntryInput(min(today(), duty.due_date), "入户走访", 3, "0")


def _add_entry_with_files(app: Any, tmp_path: Path, uploads: list) -> ProgressEntry:
    """Adds (not commits) an entry with `uploads` on an in-progress duty of 开封's civil
    affairs, inside `district`; the files go to `tmp_path`."""
    app.config["UPLOAD_DIR"] = str(tmp_path)
    duty = duty_in(DutyStatus.in_progress)
    return operations.add_entry(
        duty,
        user("kaifeng-civil-affairs"),
        _entry(duty),
        uploads,
        expected_version=duty.row_version,
    )


def _entry_with_files(app: Any, tmp_path: Path, uploads: list) -> list[EvidenceFile]:
    """As `_add_entry_with_files`, committed; the entry's evidence rows."""
    entry = _add_entry_with_files(app, tmp_path, uploads)
    db.session.commit()
    return list(db.session.execute(sa.select(EvidenceFile).filter_by(entry_id=entry.id)).scalars())


def test_a_failed_commit_leaves_no_file(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        _add_entry_with_files(fresh_app, tmp_path, [storage.Upload("台账.pdf", PDF)])
        assert len(_files(tmp_path)) == 1  # written, under its temporary name only
        assert _files(tmp_path)[0].name.endswith(".part")

        def refuse(conn) -> None:  # type: ignore[no-untyped-def]
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

        sa.event.listen(db.engine, "commit", refuse)
        try:
            with pytest.raises(sa.exc.OperationalError):
                db.session.commit()
        finally:
            sa.event.remove(db.engine, "commit", refuse)
        db.session.rollback()
        assert _files(tmp_path) == []
        assert count_of(EvidenceFile, EvidenceFile.sha256 == hashlib.sha256(PDF).hexdigest()) == 0


def test_a_broken_rule_after_the_file_leaves_no_file(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):

        def add_then_fail() -> None:
            _add_entry_with_files(fresh_app, tmp_path, [storage.Upload("台账.pdf", PDF)])
            raise rules.DutyError("a later rule")

        outcome = attempt(add_then_fail)
        assert not outcome.ok and _files(tmp_path) == []


def test_a_committed_entry_has_its_file_and_nothing_else(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        rows = _entry_with_files(
            fresh_app,
            tmp_path,
            [storage.Upload("a.pdf", PDF), storage.Upload("b.txt", "说明".encode())],
        )
        paths = sorted(storage.path_of(r) for r in rows)
        assert sorted(_files(tmp_path)) == paths and len(paths) == 2


def test_unwritable_upload_dir_keeps_the_input(fresh_app, login_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    fresh_app.config["UPLOAD_DIR"] = str(blocker / "uploads")  # mkdir fails (as root too)
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        duty_id, before, tenant_id = duty.id, duty.row_version, duty.tenant_id
        day = min(today(), duty.due_date).isoformat()
        entries = db.session.execute(
            sa.select(sa.func.count()).select_from(ProgressEntry).filter_by(duty_id=duty.id)
        ).scalar()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    url = f"{BASE}/{duty_id}"
    page = officer.get(url).get_data(as_text=True)
    version = re.findall(r'name="row_version" value="(\d+)"', page)[0]
    r = officer.post(
        f"{url}/entries",
        {
            "work_date": day,
            "narrative": "存储故障时保留的工作内容",
            "families_reached": "4",
            "amount_paid": "0",
            "row_version": version,
            "files": (io.BytesIO(PDF), "台账.pdf"),
        },
        csrf_from=url,
        content_type="multipart/form-data",
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 503
    assert "文件无法保存" in body and "存储故障时保留的工作内容" in body
    with district(fresh_app, "kaifeng"):
        assert db.session.get(Duty, (tenant_id, duty_id)).row_version == before
        assert (
            db.session.execute(
                sa.select(sa.func.count()).select_from(ProgressEntry).filter_by(duty_id=duty_id)
            ).scalar()
            == entries
        )


def test_row_version_is_required_on_every_form_and_api_update(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        submitted = duty_in(DutyStatus.submitted)
        entry = db.session.execute(
            sa.select(ProgressEntry).filter_by(duty_id=duty.id).limit(1)
        ).scalar_one()
        ids = (duty.id, submitted.id, entry.id)
        tenant_id, day = duty.tenant_id, min(today(), duty.due_date).isoformat()
        versions = (duty.row_version, submitted.row_version, entry.row_version)
    duty_id, submitted_id, entry_id = ids
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    lead = login_as("kaifeng-lead", fresh_app)
    url = f"{BASE}/{duty_id}"
    for b, path, data in (
        (officer, f"{url}/entries", {"work_date": day, "narrative": "无版本"}),
        (officer, f"{url}/entries/{entry_id}/edit", {"work_date": day, "narrative": "无版本"}),
        (officer, f"{url}/sign-off", {"assessment": "fully", "statement": "无版本"}),
        (lead, f"{BASE}/{submitted_id}/review", {"decision": "accept"}),
    ):
        r = b.post(path, data, csrf_from=url if b is officer else f"{BASE}/{submitted_id}")
        body = r.get_data(as_text=True)
        assert r.status_code == 400, path
        assert "版本" in body, path
    api = officer.app.test_client()
    headers = {"Authorization": f"Bearer {new_api_token(officer)}"}
    for path, body in (
        (f"/api/v1/duties/{duty_id}/entries", {"work_date": day, "narrative": "无版本"}),
        (f"/api/v1/duties/{duty_id}/sign-off", {"assessment": "fully", "statement": "x"}),
    ):
        r = api.post(path, json=body, headers=headers)
        assert r.status_code == 400 and r.get_json()["error"]["message"].startswith("row_version")
    with district(fresh_app, "kaifeng"):
        now = (
            db.session.get(Duty, (tenant_id, duty_id)).row_version,
            db.session.get(Duty, (tenant_id, submitted_id)).row_version,
            db.session.get(ProgressEntry, (tenant_id, entry_id)).row_version,
        )
    assert now == versions


def test_policy_change_regenerates_through_the_signal(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng") as tenant:
        period = Period.current().code
        duty = duty_in(DutyStatus.not_started)
        key = (duty.department_id, duty.measure_number)
        db.session.delete(duty)
        db.session.flush()
        results = signals.responses(signals.policy_changed.send(tenant, version=None, actor=None))
        result = next(r for r in results if isinstance(r, GenerationResult))
        assert (result.period, result.created) == (period, 1)
        again = db.session.execute(
            sa.select(Duty).where(
                Duty.period == period,
                Duty.department_id == key[0],
                Duty.measure_number == key[1],
            )
        ).scalar_one()
        assert again.status == DutyStatus.not_started
        # onboarding: the same receiver shape, nothing left to create
        onboarded = signals.responses(signals.tenant_onboarded.send(tenant, version=None))
        assert [r.created for r in onboarded if isinstance(r, GenerationResult)] == [0]


def test_the_receiver_scopes_itself_to_the_district(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with fresh_app.app_context():
        with scope.cross_tenant("test"):
            tenant = db.session.execute(sa.select(Tenant).filter_by(slug="zhangdian")).scalar_one()
        results = signals.responses(signals.policy_changed.send(tenant, version=None))
        result = next(r for r in results if isinstance(r, GenerationResult))
        assert result.created == 0 and result.unchanged + result.kept_signed > 0
        db.session.rollback()


def test_nobody_without_the_grant_generates(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.duties.generation import generate_duties

    with district(fresh_app, "kaifeng"):
        for who in (None, user("kaifeng-civil-affairs"), user("kaifeng-auditor")):
            with pytest.raises(rules.NotAllowed):
                generate_duties(who)


def test_duties_answer_the_platform_statistics(app) -> None:  # type: ignore[no-untyped-def]
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        ids = list(db.session.execute(sa.select(Tenant.id)).scalars())
        answers = signals.responses(signals.tenant_statistics.send(None, tenant_ids=ids))
        counts: dict = {}
        for answer in answers:
            for tenant_id, figures in answer.items():
                counts.setdefault(tenant_id, {}).update(figures)
        expected = dict(
            db.session.execute(
                sa.select(Duty.tenant_id, sa.func.count())
                .where(Duty.period == Period.current().code)
                .group_by(Duty.tenant_id)
            ).all()
        )
        duty_counts = {t: c for t, c in counts.items() if "duties_total" in c}  # others: meetings
        assert expected and {t: c["duties_total"] for t, c in duty_counts.items()} == expected
        assert all(0 < c["duties_accepted"] < c["duties_total"] for c in duty_counts.values())
        db.session.rollback()


def test_downloads_name_the_file_safely(fresh_app, login_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        uploads = [
            storage.Upload("x\u202eexe.txt", "说明".encode()),
            storage.Upload("台账.pdf", PDF),
        ]
        files = {f.filename: f.id for f in _entry_with_files(fresh_app, tmp_path, uploads)}
    assert set(files) == {"xexe.txt", "台账.pdf"}  # the bidi control is gone
    b = login_as("kaifeng-civil-affairs", fresh_app)
    text = b.get(f"{BASE}/evidence/{files['xexe.txt']}")
    assert text.status_code == 200 and text.data == "说明".encode()
    assert text.headers["Content-Type"].count("charset") == 1
    pdf = b.get(f"{BASE}/evidence/{files['台账.pdf']}")
    assert pdf.status_code == 200 and pdf.data == PDF
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and ".pdf" in disposition


def test_api_storage_fault_is_a_clear_503(fresh_app, login_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import base64

    blocker = tmp_path / "full"
    blocker.write_text("x")
    fresh_app.config["UPLOAD_DIR"] = str(blocker / "uploads")
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        duty_id, version, day = duty.id, duty.row_version, min(today(), duty.due_date)
        tenant_id = duty.tenant_id
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    headers = {"Authorization": f"Bearer {new_api_token(officer)}"}
    r = officer.app.test_client().post(
        f"/api/v1/duties/{duty_id}/entries",
        json={
            "work_date": day.isoformat(),
            "narrative": "接口登记",
            "row_version": version,
            "evidence": [{"filename": "a.pdf", "content_base64": base64.b64encode(PDF).decode()}],
        },
        headers=headers,
    )
    assert r.status_code == 503
    error = r.get_json()["error"]
    assert error["code"] == "storage_unavailable" and "文件无法保存" in error["message"]
    with district(fresh_app, "kaifeng"):
        assert db.session.get(Duty, (tenant_id, duty_id)).row_version == version


def test_no_user_is_refused_not_waved_through(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        submitted = duty_in(DutyStatus.submitted)
        for action in (
            lambda: operations.add_entry(
                duty, None, _entry(duty), expected_version=duty.row_version
            ),
            lambda: operations.sign_off(
                duty, None, assessment="fully", statement="x", expected_version=duty.row_version
            ),
            lambda: operations.review(
                submitted, None, accept=True, expected_version=submitted.row_version
            ),
        ):
            with pytest.raises(rules.NotAllowed):
                action()
