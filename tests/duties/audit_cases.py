"""Audit coverage cases of the duties domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit import coverage
from tests.audit.coverage import Ctx, Exercise, Expect, Listed


def _duty(ctx: Ctx) -> Any:
    from portal.duties.models import Duty
    from portal.policy.models import ResponsibilityRole

    measure = ctx.first("Measure")
    return Duty(
        period="2030H1",
        department_id=ctx.first("Department").id,
        measure_id=measure.id,
        measure_number=f"{measure.number}~cv{uuid.uuid4().hex[:4]}",
        role=ResponsibilityRole.lead,
        due_date=dt.date(2030, 6, 30),
    )


def _progress_entry(ctx: Ctx) -> Any:
    from portal.duties.models import ProgressEntry

    duty = ctx.make("Duty")
    return ProgressEntry(
        duty_id=duty.id,
        department_id=duty.department_id,
        work_date=dt.date(2026, 11, 1),
        narrative="coverage entry",
        families_reached=3,
    )


def _evidence_file(ctx: Ctx) -> Any:
    from portal.duties.models import EvidenceFile

    entry = ctx.make("ProgressEntry")
    return EvidenceFile(
        entry_id=entry.id,
        department_id=entry.department_id,
        **coverage.stored_file(
            "coverage.pdf", "application/pdf", 10, f"coverage/{uuid.uuid4().hex}"
        ),
    )


def _duty_review_record(ctx: Ctx) -> Any:
    from portal.duties.models import DutyReviewRecord

    duty = ctx.make("Duty")
    return DutyReviewRecord(
        duty_id=duty.id, department_id=duty.department_id, action="submitted", note="coverage"
    )


def _duty_in(app: Any, *statuses: str, skip: int = 0) -> tuple[uuid.UUID, str]:
    """A current-period duty in one of `statuses`, and its department's first officer."""
    from portal.kernel.periods import Period

    with app.app_context():
        period = Period.current().code
    duty_id, duty = coverage.first_id(
        app,
        "Duty",
        "jiading",
        lambda cls: sa.and_(cls.period == period, cls.status.in_(statuses)),
        skip=skip,
    )
    return duty_id, coverage.officer_of(app, "jiading", duty.department_id)


def _entry_form(duty_page: str) -> dict[str, str]:
    version = re.search(r'name="row_version"[^>]*value="(\d+)"', duty_page)
    return {
        "work_date": "2026-11-20",
        "narrative": "覆盖测试：电话回访特殊家庭。",
        "families_reached": "1",
        "amount_paid": "0",
        "row_version": version.group(1) if version else "",
    }


def _post_on_duty_page(
    app: Any, b: Any, duty_id: uuid.UUID, action: str, fields: dict, last: bool = False
) -> None:
    """Posts one of the duty page's forms with the version the page shows."""
    path = f"/t/jiading/duties/{duty_id}"
    version = coverage.row_version(b.get(path).get_data(as_text=True), last=last)
    coverage.marked_post(
        app, b, f"{path}/{action}", {**fields, "row_version": version}, csrf_from=path
    )


def _duty_add_entry(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress")
    b = coverage.signed_in(app, officer)
    path = f"/t/jiading/duties/{duty_id}"
    form = _entry_form(b.get(path).get_data(as_text=True))
    coverage.marked_post(app, b, f"{path}/entries", form, csrf_from=path)
    return [Expect("create", "ProgressEntry", "jiading")]  # the duty was in progress already


def _duty_edit_entry(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress")
    entry_id, _row = coverage.first_id(
        app, "ProgressEntry", "jiading", lambda cls: cls.duty_id == duty_id
    )
    b = coverage.signed_in(app, officer)
    path = f"/t/jiading/duties/{duty_id}/entries/{entry_id}/edit"
    page = b.get(path).get_data(as_text=True)
    shown = {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
        for name in ("work_date", "families_reached", "amount_paid")
    }
    form = {**_entry_form(page), **shown, "narrative": "覆盖测试：修改后的工作记录。"}
    coverage.marked_post(app, b, path, form, csrf_from=path)
    return [
        Expect("update", "ProgressEntry", "jiading", entity_id=str(entry_id), changed={"narrative"})
    ]


def _status_moved(duty_id: Any, action: str, changed: set[str]) -> list[Expect]:
    """A sign-off or review: the duty's columns, its review record, the named event."""
    return [
        Expect("update", "Duty", "jiading", entity_id=str(duty_id), changed=changed),
        Expect("create", "DutyReviewRecord", "jiading"),
        Expect(action, "Duty", "jiading", entity_id=str(duty_id)),
    ]


def _duty_sign_off(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=1)  # not the one entries go to
    _post_on_duty_page(
        app,
        coverage.signed_in(app, officer),
        duty_id,
        "sign-off",
        {"assessment": "fully", "statement": "覆盖测试：已全面落实。"},
    )
    signed = {"assessment", "sign_off_statement", "status", "submitted_at", "submitted_by_id"}
    return _status_moved(duty_id, "duty.sign_off", signed)


def _duty_review(app: Any) -> list[Expect]:
    duty_id, _officer = _duty_in(app, "submitted")
    _post_on_duty_page(
        app,
        coverage.signed_in(app, "jiading-lead"),
        duty_id,
        "review",
        {"decision": "return", "reason": "覆盖测试：请补充材料。"},
        last=True,  # the review form comes after the others
    )
    reviewed = {"review_note", "reviewed_at", "reviewed_by_id", "status"}
    return _status_moved(duty_id, "duty.returned", reviewed)


def _duty_generate(app: Any) -> list[Expect]:
    b = coverage.signed_in(app, "jiading-lead")
    coverage.marked_post(
        app, b, "/t/jiading/duties/generate", {"period": "2027H1"}, csrf_from="/t/jiading/duties/"
    )
    (made,) = coverage.scalars(
        app,
        "jiading",
        lambda model: (
            sa.select(sa.func.count())
            .select_from(model("Duty"))
            .where(model("Duty").period == "2027H1")
        ),
    )
    assert made > 20
    return [Expect("create", "Duty", "jiading")] * made + [
        Expect("duties.generate", "period", "jiading")
    ]


def _api_post(app: Any, username: str, duty_id: Any, action: str, body: dict, ok: int) -> None:
    """Posts `body` to the duty's API `action` with the row_version the API requires (read
    before the mark, so only the write's events are compared)."""
    headers = coverage.bearer(app, username)
    client = app.test_client()
    version = client.get(f"/api/v1/duties/{duty_id}", headers=headers).get_json()["row_version"]
    coverage.mark(app)
    r = client.post(
        f"/api/v1/duties/{duty_id}/{action}", json={**body, "row_version": version}, headers=headers
    )
    assert r.status_code == ok, r.get_json()


def _api_entry_create(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=2)
    entry = {"work_date": "2026-11-21", "narrative": "覆盖测试：接口登记。", "families_reached": 1}
    _api_post(app, officer, duty_id, "entries", entry, 201)
    return [Expect("create", "ProgressEntry", "jiading", actor=officer)]


def _api_duty_sign_off(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=3)
    sign_off = {"assessment": "fully", "statement": "覆盖测试：接口签报。"}
    _api_post(app, officer, duty_id, "sign-off", sign_off, 200)
    return [
        Expect("update", "Duty", "jiading", actor=officer, entity_id=str(duty_id)),
        Expect("create", "DutyReviewRecord", "jiading", actor=officer),
        Expect("duty.sign_off", "Duty", "jiading", actor=officer, entity_id=str(duty_id)),
    ]


def _api_duty_review(app: Any) -> list[Expect]:
    duty_id, _officer = _duty_in(app, "submitted")
    _api_post(app, "jiading-lead", duty_id, "review", {"decision": "accept"}, 200)
    return [
        Expect("update", "Duty", "jiading", actor="jiading-lead", entity_id=str(duty_id)),
        Expect("create", "DutyReviewRecord", "jiading", actor="jiading-lead"),
        Expect("duty.accepted", "Duty", "jiading", actor="jiading-lead", entity_id=str(duty_id)),
    ]


#: State-changing routes and API endpoints of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "duties.generate": Exercise(_duty_generate),
    "duties.add_entry": Exercise(_duty_add_entry),
    "duties.edit_entry": Exercise(_duty_edit_entry),
    "duties.sign_off": Exercise(_duty_sign_off),
    "duties.review": Exercise(_duty_review),
    "api.entry_create": Exercise(_api_entry_create),
    "api.duty_sign_off": Exercise(_api_duty_sign_off),
    "api.duty_review": Exercise(_api_duty_review),
}

#: Exports and downloads of this domain.
DOWNLOADS: dict[str, Exercise | Listed] = {
    # (the auditor is deactivated by an earlier case)
    "duties.export": coverage.download(
        "jiangyan-lead",
        "/t/jiangyan/duties/export.xlsx",
        Expect("duties.export", "period", "jiangyan"),
        zipped=True,
    ),
}

#: Factories for models the generic clone cannot make.
MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "Duty": _duty,
    "ProgressEntry": _progress_entry,
    "EvidenceFile": _evidence_file,
    "DutyReviewRecord": _duty_review_record,
}
