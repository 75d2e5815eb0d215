"""Audit coverage: every mapped model and every state-changing route leaves exactly the
expected audit event (actor, action, record, before/after).

HOW TO COVER YOUR MODEL OR ROUTE (the failure messages say the same):

* A new model needs nothing if the demo data has a row of it: the generic case clones a
  demo row (insert), changes one plain field (update) and deletes the clone (delete), and
  checks each event. If the demo has no row of it, or cloning cannot satisfy its
  constraints, add a factory to MODEL_FACTORIES (returns a new, unsaved instance).
  A model that must not be audited goes into NOT_AUDITED with the reason.
* A new POST/PUT/PATCH/DELETE route or API endpoint goes into ROUTES, keyed by endpoint:
  `Exercise(fn)` — `fn(app)` makes the request(s) as a real user and returns the list
  of `Expect(...)` events it must leave (nothing more, nothing less) — or, when that
  needs too much set-up, `Listed("action EntityType (chain) …", test="tests/…::test_x")`:
  the event shape and the test of yours that checks it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, Browser, make_app

ACTOR = "system:audit-coverage"

# --- the tables other engineers extend ---------------------------------------------------

#: Models deliberately not audited, with the reason.
NOT_AUDITED: dict[str, str] = {
    "AuditEvent": "the trail itself (append-only)",
    "AuditChainHead": "the chain heads, part of the trail's own machinery",
    "LoginAttempt": "the sign-in throttle; every attempt is an explicit login/login_failed event",
}


def _api_token(ctx: Ctx) -> Any:
    from portal.auth.models import ApiToken

    user = ctx.first("User")
    return ApiToken(
        user_id=user.id,
        tenant_id=user.tenant_id,
        name="coverage",
        prefix="pat_cover",
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
    )


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


def _measure_responsibility(ctx: Ctx) -> Any:
    from portal.policy.models import MeasureResponsibility, ResponsibilityRole

    return MeasureResponsibility(
        measure_id=ctx.first("Measure").id,
        department_id=ctx.make("Department").id,
        role=ResponsibilityRole.cooperating,
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
        filename="coverage.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        storage_key=f"coverage/{uuid.uuid4().hex}",
    )


def _duty_review_record(ctx: Ctx) -> Any:
    from portal.duties.models import DutyReviewRecord

    duty = ctx.make("Duty")
    return DutyReviewRecord(
        duty_id=duty.id, department_id=duty.department_id, action="submitted", note="coverage"
    )


def _meeting_child(model: str, **extra: Any) -> Callable[[Ctx], Any]:
    """A row hanging off a brand-new meeting (one per meeting and department)."""

    def make(ctx: Ctx) -> Any:
        meeting = ctx.make("Meeting")
        values = {"meeting_id": meeting.id, **extra}
        if model != "Minutes":
            values["department_id"] = ctx.first("Department").id
        return ctx.model(model)(**values)

    return make


#: Factories for models the generic clone cannot make: `fn(ctx) -> new unsaved instance`.
def _household_contact(ctx: Ctx) -> Any:
    from portal.register.models import HouseholdContact

    return HouseholdContact(
        user_id=ctx.first("HouseholdContact").user_id, household_id=ctx.make("Household").id
    )


def _officer_town(ctx: Ctx) -> Any:
    from portal.register.models import OfficerTown

    return OfficerTown(user_id=ctx.make("User").id, town_id=ctx.first("OfficerTown").town_id)


def _import_mapping(ctx: Ctx) -> Any:
    from portal.register.models import ImportMapping

    return ImportMapping(name=f"coverage-{uuid.uuid4().hex[:8]}", mapping={"name": "姓名"})


MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "HouseholdContact": _household_contact,
    "ImportMapping": _import_mapping,
    "OfficerTown": _officer_town,
    "Duty": _duty,
    "MeasureResponsibility": _measure_responsibility,
    "ApiToken": _api_token,
    "ProgressEntry": _progress_entry,
    "EvidenceFile": _evidence_file,
    "DutyReviewRecord": _duty_review_record,
    "MeetingInvitation": _meeting_child("MeetingInvitation"),
    "DepartmentReport": _meeting_child("DepartmentReport", body="coverage"),
    "Minutes": _meeting_child("Minutes", body="coverage"),
    "MinutesComment": _meeting_child("MinutesComment", body="coverage"),
}


@dataclass
class Expect:
    """One event a route must leave. `chain` is a district slug or "platform"."""

    action: str
    entity_type: str
    chain: str
    actor: str | None = None  # username; None: the user who made the request
    entity_id: str | None = None
    changed: set[str] | None = None  # for row events: exactly these fields changed


@dataclass
class Exercise:
    run: Callable[[Any], list[Expect]]


@dataclass
class Listed:
    """Not exercised here: the expected event shape, and the test that checks it."""

    expected: str
    test: str = ""


# --- route exercises -----------------------------------------------------------------------


def _signed_in(app: Any, username: str, password: str = DEMO_PASSWORD) -> Browser:
    b = Browser(app)
    assert b.login(username, password).status_code == 302
    return b


def _login(app: Any) -> list[Expect]:
    Browser(app).login("zhangdian-lead", "wrong-password-1")
    Browser(app).login("zhangdian-lead")
    return [
        Expect("login_failed", "User", "zhangdian", actor="anonymous"),
        Expect("login", "User", "zhangdian", actor="zhangdian-lead"),
        Expect("update", "User", "zhangdian", actor="zhangdian-lead", changed={"last_login_at"}),
    ]


def _logout(app: Any) -> list[Expect]:
    b = _signed_in(app, "zhangdian-finance")
    _mark(app)
    assert b.post("/logout", csrf_from="/t/zhangdian/").status_code == 302
    return [
        Expect("logout", "User", "zhangdian"),
        Expect("update", "User", "zhangdian", changed={"session_version"}),
    ]


def _change_password(app: Any) -> list[Expect]:
    b = _signed_in(app, "zhangdian-auditor")
    _mark(app)
    new = "Coverage-pass-2026!"
    r = b.post(
        "/account/password",
        {"current_password": DEMO_PASSWORD, "new_password": new, "confirm": new},
    )
    assert r.status_code == 302
    return [
        Expect("password_changed", "User", "zhangdian"),
        Expect(
            "update",
            "User",
            "zhangdian",
            changed={"password_hash", "session_version"},
        ),
    ]


def _set_locale(app: Any) -> list[Expect]:
    b = _signed_in(app, "zhangdian-lead")
    _mark(app)
    b.post("/account/locale", {"locale": "en"}, csrf_from="/t/zhangdian/")
    return [Expect("update", "User", "zhangdian", changed={"locale"})]


def _create_token(app: Any) -> list[Expect]:
    b = _signed_in(app, "zhangdian-lead")
    _mark(app)
    r = b.post("/account/tokens", {"name": "coverage"})
    secret = re.search(r"pat_[A-Za-z0-9_\-]{20,}", r.get_data(as_text=True)).group(0)
    _SECRETS.append(secret)
    return [
        Expect("create", "ApiToken", "zhangdian"),
        Expect("token_created", "ApiToken", "zhangdian"),
    ]


def _revoke_token(app: Any) -> list[Expect]:
    from portal.auth.models import ApiToken
    from portal.extensions import db
    from portal.tenancy import scope

    b = _signed_in(app, "zhangdian-lead")
    b.post("/account/tokens", {"name": "to revoke"})
    with app.app_context(), scope.cross_tenant("test"):
        token = db.session.execute(
            sa.select(ApiToken).filter_by(name="to revoke", revoked_at=None)
        ).scalar_one()
        token_id = token.id
    _mark(app)
    b.post(f"/account/tokens/{token_id}/revoke", csrf_from="/account/tokens")
    return [
        Expect("update", "ApiToken", "zhangdian", entity_id=str(token_id), changed={"revoked_at"}),
        Expect("token_revoked", "ApiToken", "zhangdian", entity_id=str(token_id)),
    ]


def _create_department(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    _mark(app)
    r = b.post(
        "/t/jiangyan/departments",
        {"key": "coverage_dept", "kind": "statistics", "name": "覆盖测试科"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return [Expect("create", "Department", "jiangyan")]


def _dept_id(app: Any, slug: str, key: str) -> uuid.UUID:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with app.app_context(), scope.cross_tenant("test"):
        return db.session.execute(
            sa.select(Department.id)
            .join(Tenant, Tenant.id == Department.tenant_id)
            .where(Tenant.slug == slug, Department.key == key)
        ).scalar_one()


def _set_department_active(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    _signed_in(app, "jiangyan-lead").post(
        "/t/jiangyan/departments",
        {"key": "coverage_dept2", "kind": "statistics", "name": "覆盖二科"},
    )
    dept = _dept_id(app, "jiangyan", "coverage_dept2")
    _mark(app)
    r = b.post(
        f"/t/jiangyan/departments/{dept}/active",
        {"active": "0"},
        csrf_from="/t/jiangyan/departments",
    )
    assert r.status_code == 302
    return [Expect("update", "Department", "jiangyan", entity_id=str(dept), changed={"active"})]


def _user_id(app: Any, username: str) -> uuid.UUID:
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        return db.session.execute(sa.select(User.id).filter_by(username=username)).scalar_one()


def _create_user(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    _mark(app)
    r = b.post(
        "/t/jiangyan/users",
        {"username": "cov-officer", "display_name": "覆盖", "role": "auditor"},
        csrf_from="/t/jiangyan/users",
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    _SECRETS.extend(re.findall(r'class="secret"[^>]*>\s*([^<\s]+)', r.get_data(as_text=True)))
    return [
        Expect("create", "User", "jiangyan"),
        Expect("account_created", "User", "jiangyan"),
    ]


def _set_user_active(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    uid = _user_id(app, "jiangyan-auditor")
    _mark(app)
    b.post(f"/t/jiangyan/users/{uid}/active", {"active": "0"}, csrf_from="/t/jiangyan/users")
    return [
        Expect(
            "update", "User", "jiangyan", entity_id=str(uid), changed={"active", "session_version"}
        ),
        Expect("account_deactivated", "User", "jiangyan", entity_id=str(uid)),
    ]


def _reset_user_password(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    uid = _user_id(app, "jiangyan-civil-affairs")
    _mark(app)
    r = b.post(f"/t/jiangyan/users/{uid}/reset", {}, csrf_from="/t/jiangyan/users")
    assert r.status_code == 200
    _SECRETS.extend(re.findall(r'class="secret"[^>]*>\s*([^<\s]+)', r.get_data(as_text=True)))
    return [
        Expect(
            "update",
            "User",
            "jiangyan",
            entity_id=str(uid),
            changed={"password_hash", "must_change_password", "session_version"},
        ),
        Expect("password_reset", "User", "jiangyan", entity_id=str(uid)),
    ]


def _change_status(app: Any) -> list[Expect]:
    b = _signed_in(app, "operator")
    _mark(app)
    r = b.post(
        "/platform/tenants/jiading/status",
        {"action": "suspend", "reason": "coverage"},
        csrf_from="/platform/tenants/jiading",
    )
    assert r.status_code == 302
    return [
        Expect("update", "Tenant", "platform", changed={"status", "status_changed_at"}),
        Expect("tenant_suspended", "Tenant", "platform"),
    ]


def _bearer(app: Any, username: str) -> dict[str, str]:
    from portal.auth.models import User
    from portal.auth.services import create_token
    from portal.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        _row, secret = create_token(user, "coverage", None)
        db.session.remove()
    _SECRETS.append(secret)
    return {"Authorization": f"Bearer {secret}"}


def _api_tenant_status(app: Any) -> list[Expect]:
    headers = _bearer(app, "operator")
    _mark(app)
    r = app.test_client().post(
        "/api/v1/platform/tenants/kaifeng/status",
        json={"action": "suspend", "reason": "coverage"},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "Tenant", "platform", changed={"status", "status_changed_at"}),
        Expect("tenant_suspended", "Tenant", "platform"),
    ]


def _scalars(app: Any, slug: str, statement: Callable[[Callable[[str], Any]], Any]) -> list:
    """Run one statement in a district's scope, outside any request; `statement` gets a
    model-by-name look-up."""
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tid):
            out = list(db.session.execute(statement(Ctx(db.session).model)).scalars())
        db.session.remove()
    return out


def _first_id(app: Any, model: str, slug: str, where: Any = None, skip: int = 0) -> Any:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tid):
            cls = Ctx(db.session).model(model)
            q = sa.select(cls).order_by(cls.id).offset(skip).limit(1)
            if where is not None:
                q = q.where(where(cls))
            row = db.session.execute(q).unique().scalar_one()
            out = (row.id, row)
            db.session.expunge_all()
        db.session.remove()
    return out


def _policy_add_value(app: Any) -> list[Expect]:
    benefit_id, _row = _first_id(app, "BenefitStandard", "zhangdian")
    b = _signed_in(app, "zhangdian-lead")
    _mark(app)
    r = b.post(
        f"/t/zhangdian/policy/benefits/{benefit_id}/values/new",
        {"amount": "1234.50", "effective_from": "2031-01-01", "source": "覆盖测试文件"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return [Expect("create", "BenefitValue", "zhangdian")]


def _policy_edit_measure(app: Any) -> list[Expect]:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    measure_id, _row = _first_id(app, "Measure", "jiangyan")
    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="jiangyan")).scalar_one()
        with scope.tenant_scope(tid):
            measure = db.session.get(Ctx(db.session).model("Measure"), (tid, measure_id))
            lead = [str(r.department_id) for r in measure.responsibilities if r.role == "lead"]
            coop = [str(r.department_id) for r in measure.responsibilities if r.role != "lead"]
            form = {
                "title": measure.title + "（覆盖）",
                "text": measure.text,
                "category": measure.category,
                "row_version": str(measure.row_version),
            }
        db.session.remove()
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/policy/measures/{measure_id}/edit"
    token = b.csrf(path)
    _mark(app)
    r = b.client.post(path, data={**form, "lead": lead, "cooperating": coop, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return [
        Expect(
            "update",
            "Measure",
            "jiangyan",
            entity_id=str(measure_id),
            changed={"title"},  # the version counter is set by the UPDATE itself
        )
    ]


# The duty exercises run in 嘉定 (kaifeng is suspended by an earlier case of this module).
def _officer_of(app: Any, slug: str, department_id: uuid.UUID) -> str:
    """The demo officer of a department (by id)."""
    from portal.demo import officer_username

    _id, dept = _first_id(app, "Department", slug, lambda cls: cls.id == department_id)
    return officer_username(slug, dept.key)


def _open_action_item(app: Any) -> tuple[uuid.UUID, Any, str]:
    """An open action item in 姜堰 and its department's officer (not civil affairs: that
    officer's password is reset by an earlier case)."""
    civil_affairs = _dept_id(app, "jiangyan", "civil_affairs")
    item_id, item = _first_id(
        app,
        "ActionItem",
        "jiangyan",
        lambda cls: sa.and_(cls.status == "open", cls.department_id != civil_affairs),
    )
    return item_id, item, _officer_of(app, "jiangyan", item.department_id)


def _duty_in(app: Any, *statuses: str, skip: int = 0) -> tuple[uuid.UUID, str]:
    """A current-period duty in one of `statuses`, and its department's first officer."""
    from portal.duties.services import current_period

    with app.app_context():
        period = current_period()
    duty_id, duty = _first_id(
        app,
        "Duty",
        "jiading",
        lambda cls: sa.and_(cls.period == period, cls.status.in_(statuses)),
        skip=skip,
    )
    return duty_id, _officer_of(app, "jiading", duty.department_id)


def _entry_form(duty_page: str) -> dict[str, str]:
    version = re.search(r'name="row_version"[^>]*value="(\d+)"', duty_page)
    return {
        "work_date": "2026-11-20",
        "narrative": "覆盖测试：电话回访特殊家庭。",
        "families_reached": "1",
        "amount_paid": "0",
        "row_version": version.group(1) if version else "",
    }


def _duty_add_entry(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress")
    b = _signed_in(app, officer)
    path = f"/t/jiading/duties/{duty_id}"
    form = _entry_form(b.get(path).get_data(as_text=True))
    _mark(app)
    r = b.post(f"{path}/entries", form, csrf_from=path)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [Expect("create", "ProgressEntry", "jiading")]  # the duty was in progress already


def _duty_edit_entry(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress")
    entry_id, _row = _first_id(app, "ProgressEntry", "jiading", lambda cls: cls.duty_id == duty_id)
    b = _signed_in(app, officer)
    path = f"/t/jiading/duties/{duty_id}/entries/{entry_id}/edit"
    page = b.get(path).get_data(as_text=True)
    shown = {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
        for name in ("work_date", "families_reached", "amount_paid")
    }
    form = {**_entry_form(page), **shown, "narrative": "覆盖测试：修改后的工作记录。"}
    _mark(app)
    r = b.post(path, form, csrf_from=path)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect("update", "ProgressEntry", "jiading", entity_id=str(entry_id), changed={"narrative"})
    ]


def _duty_sign_off(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=1)  # not the one entries go to
    b = _signed_in(app, officer)
    path = f"/t/jiading/duties/{duty_id}"
    page = b.get(path).get_data(as_text=True)
    version = re.search(r'name="row_version"[^>]*value="(\d+)"', page).group(1)
    _mark(app)
    r = b.post(
        f"{path}/sign-off",
        {"assessment": "fully", "statement": "覆盖测试：已全面落实。", "row_version": version},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect(
            "update",
            "Duty",
            "jiading",
            entity_id=str(duty_id),
            changed={
                "assessment",
                "sign_off_statement",
                "status",
                "submitted_at",
                "submitted_by_id",
            },
        ),
        Expect("create", "DutyReviewRecord", "jiading"),
        Expect("duty.sign_off", "Duty", "jiading", entity_id=str(duty_id)),
    ]


def _duty_review(app: Any) -> list[Expect]:
    duty_id, _officer = _duty_in(app, "submitted")
    b = _signed_in(app, "jiading-lead")
    path = f"/t/jiading/duties/{duty_id}"
    page = b.get(path).get_data(as_text=True)
    version = re.findall(r'name="row_version"[^>]*value="(\d+)"', page)[-1]
    _mark(app)
    r = b.post(
        f"{path}/review",
        {"decision": "return", "reason": "覆盖测试：请补充材料。", "row_version": version},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect(
            "update",
            "Duty",
            "jiading",
            entity_id=str(duty_id),
            changed={"review_note", "reviewed_at", "reviewed_by_id", "status"},
        ),
        Expect("create", "DutyReviewRecord", "jiading"),
        Expect("duty.returned", "Duty", "jiading", entity_id=str(duty_id)),
    ]


def _duty_generate(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiading-lead")
    _mark(app)
    r = b.post("/t/jiading/duties/generate", {"period": "2027H1"}, csrf_from="/t/jiading/duties/")
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    (made,) = _scalars(
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


def _meeting_rows(app: Any, slug: str, model: str, meeting_id: uuid.UUID) -> int:
    (n,) = _scalars(
        app,
        slug,
        lambda m: (
            sa.select(sa.func.count())
            .select_from(m(model))
            .where(m(model).meeting_id == meeting_id)
        ),
    )
    return n


# The meeting exercises run in 姜堰 on its demo meetings or on one made for the case.
def _meeting_new(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")
    _mark(app)
    r = b.post(
        "/t/jiangyan/meetings/new",
        {
            "kind": "ad_hoc",
            "title": "覆盖测试专题会议",
            "meeting_date": "2027-03-01",
            "start_time": "09:00",
            "place": "区卫健委会议室",
            "chair": "分管副区长",
        },
        csrf_from="/t/jiangyan/meetings/new",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    meeting_id = uuid.UUID(re.search(r"/meetings/([0-9a-f-]{36})", r.headers["Location"]).group(1))
    invited = _meeting_rows(app, "jiangyan", "MeetingInvitation", meeting_id)
    agenda = _meeting_rows(app, "jiangyan", "AgendaItem", meeting_id)
    assert invited > 5 and agenda > 0
    return (
        [Expect("create", "Meeting", "jiangyan", entity_id=str(meeting_id))]
        + [Expect("create", "MeetingInvitation", "jiangyan")] * invited
        + [Expect("create", "AgendaItem", "jiangyan")] * agenda
        + [Expect("create", "Minutes", "jiangyan")]  # the empty draft
    )


def _new_meeting_id(app: Any, title: str) -> uuid.UUID:
    """A planned ad hoc meeting of every department, made before the case's mark."""
    b = _signed_in(app, "jiangyan-lead")
    r = b.post(
        "/t/jiangyan/meetings/new",
        {"kind": "ad_hoc", "title": title, "meeting_date": "2027-04-01", "chair": "主任"},
        csrf_from="/t/jiangyan/meetings/new",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return uuid.UUID(re.search(r"/meetings/([0-9a-f-]{36})", r.headers["Location"]).group(1))


def _meeting_edit(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：待修改的会议")
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    page = b.get(path).get_data(as_text=True)
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    _mark(app)
    r = b.post(
        f"{path}/edit",
        {
            "kind": "ad_hoc",
            "title": "覆盖测试：修改后的会议",
            "meeting_date": "2027-04-01",
            "chair": "主任",
            "place": "区政府第二会议室",
            "row_version": version,
        },
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect(
            "update", "Meeting", "jiangyan", entity_id=str(meeting_id), changed={"title", "place"}
        )
    ]


def _meeting_add_decision(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：议定事项")
    dept = _dept_id(app, "jiangyan", "civil_affairs")
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    _mark(app)
    r = b.post(
        f"{path}/decisions",
        {
            "decision": "覆盖测试：各成员单位按季度报送台账。",
            "action_text": "报送第一季度台账",
            "departments": [str(dept)],
            "due_date": "2027-05-01",
        },
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect("create", "Decision", "jiangyan"),
        Expect("create", "ActionItem", "jiangyan"),
    ]


def _meeting_close_action_item(app: Any) -> list[Expect]:
    item_id, item, officer = _open_action_item(app)
    b = _signed_in(app, officer)
    _mark(app)
    r = b.post(
        f"/t/jiangyan/meetings/action-items/{item_id}",
        {"op": "close", "note": "覆盖测试：已完成。", "row_version": str(item.row_version)},
        csrf_from="/t/jiangyan/meetings/action-items",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect(
            "update",
            "ActionItem",
            "jiangyan",
            entity_id=str(item_id),
            changed={"closed_at", "closed_by_id", "closing_note", "status"},
        ),
        Expect("action_item_closed", "ActionItem", "jiangyan", entity_id=str(item_id)),
    ]


def _api_entry_create(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=2)
    headers = _bearer(app, officer)
    _mark(app)
    r = app.test_client().post(
        f"/api/v1/duties/{duty_id}/entries",
        json={
            "work_date": "2026-11-21",
            "narrative": "覆盖测试：接口登记。",
            "families_reached": 1,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    return [Expect("create", "ProgressEntry", "jiading", actor=officer)]


def _api_duty_sign_off(app: Any) -> list[Expect]:
    duty_id, officer = _duty_in(app, "in_progress", skip=3)
    headers = _bearer(app, officer)
    _mark(app)
    r = app.test_client().post(
        f"/api/v1/duties/{duty_id}/sign-off",
        json={"assessment": "fully", "statement": "覆盖测试：接口签报。"},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "Duty", "jiading", actor=officer, entity_id=str(duty_id)),
        Expect("create", "DutyReviewRecord", "jiading", actor=officer),
        Expect("duty.sign_off", "Duty", "jiading", actor=officer, entity_id=str(duty_id)),
    ]


def _api_duty_review(app: Any) -> list[Expect]:
    duty_id, _officer = _duty_in(app, "submitted")
    headers = _bearer(app, "jiading-lead")
    _mark(app)
    r = app.test_client().post(
        f"/api/v1/duties/{duty_id}/review",
        json={"decision": "accept"},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "Duty", "jiading", actor="jiading-lead", entity_id=str(duty_id)),
        Expect("create", "DutyReviewRecord", "jiading", actor="jiading-lead"),
        Expect("duty.accepted", "Duty", "jiading", actor="jiading-lead", entity_id=str(duty_id)),
    ]


def _invited(app: Any, meeting_id: uuid.UUID) -> set[uuid.UUID]:
    invitation = "MeetingInvitation"
    return set(
        _scalars(
            app,
            "jiangyan",
            lambda m: sa.select(m(invitation).department_id).where(
                m(invitation).meeting_id == meeting_id
            ),
        )
    )


def _meeting_attendance(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：出席情况")
    dept = sorted(_invited(app, meeting_id), key=str)[0]
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    _mark(app)
    r = b.post(
        f"{path}/attendance",
        {f"attendance-{dept}": "delegate", f"delegate-{dept}": "李副局长"},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [
        Expect("update", "MeetingInvitation", "jiangyan", changed={"attendance", "delegate_name"}),
        # recording attendance marks the meeting held
        Expect("update", "Meeting", "jiangyan", entity_id=str(meeting_id), changed={"status"}),
    ]


def _meeting_invite(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：补充邀请")
    everyone = {_dept_id(app, "jiangyan", k) for k in ("civil_affairs", "finance", "justice")}
    dept = sorted(everyone - _invited(app, meeting_id), key=str)[0]
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    _mark(app)
    r = b.post(f"{path}/invite", {"department": str(dept)}, csrf_from=path)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    assert dept in _invited(app, meeting_id)
    return [Expect("create", "MeetingInvitation", "jiangyan")]


def _meeting_minutes(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：会议纪要")
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    page = b.get(path).get_data(as_text=True)
    form = page[page.index('id="minutes-form"') :]
    version = re.search(r'name="row_version" value="(\d+)"', form).group(1)
    _mark(app)
    r = b.post(
        f"{path}/minutes",
        {"op": "save", "body": "## 会议纪要\n\n覆盖测试。", "row_version": version},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [Expect("update", "Minutes", "jiangyan", changed={"body", "updated_at"})]


def _meeting_add_action(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：追加任务")
    dept = _dept_id(app, "jiangyan", "finance")
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    b.post(f"{path}/decisions", {"decision": "覆盖测试：落实资金。"}, csrf_from=path)
    decision_id, _row = _first_id(
        app, "Decision", "jiangyan", lambda cls: cls.meeting_id == meeting_id
    )
    _mark(app)
    r = b.post(
        f"{path}/decisions/{decision_id}/actions",
        {"action_text": "拨付资金", "departments": [str(dept)], "due_date": "2027-06-30"},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [Expect("create", "ActionItem", "jiangyan")]


def _platform_create_lead(app: Any) -> list[Expect]:
    b = _signed_in(app, "operator")
    _mark(app)
    r = b.post(
        "/platform/tenants/zhangdian/leads",
        {"username": "zhangdian-lead2", "display_name": "覆盖测试负责人"},
        csrf_from="/platform/tenants/zhangdian",
    )
    assert r.status_code in (200, 302), r.get_data(as_text=True)[:800]
    secret = re.search(r'id="temporary-password">([^<]+)<', r.get_data(as_text=True))
    if secret:
        _SECRETS.append(secret.group(1))
    return [
        Expect("create", "User", "zhangdian"),
        Expect("account_created", "User", "zhangdian"),
        Expect("account_created", "User", "platform"),
    ]


def _platform_lead_action(what: str) -> Callable[[Any], list[Expect]]:
    """Deactivate or reset a lead account made for the case (the demo leads stay usable)."""

    def run(app: Any) -> list[Expect]:
        b = _signed_in(app, "operator")
        username = f"zhangdian-lead-{what}"
        r = b.post(
            "/platform/tenants/zhangdian/leads",
            {"username": username, "display_name": "覆盖测试负责人"},
            csrf_from="/platform/tenants/zhangdian",
        )
        assert r.status_code in (200, 302), r.get_data(as_text=True)[:800]
        uid = _user_id(app, username)
        path = f"/platform/tenants/zhangdian/leads/{uid}"
        _mark(app)
        if what == "active":
            r = b.post(f"{path}/active", {"active": "0"}, csrf_from="/platform/tenants/zhangdian")
            event, changed = "account_deactivated", {"active", "session_version"}
        else:
            r = b.post(f"{path}/reset", {}, csrf_from="/platform/tenants/zhangdian")
            # (a new lead must change the password already: that flag stays as it was)
            event, changed = "password_reset", {"password_hash", "session_version"}
            secret = re.search(r'id="temporary-password">([^<]+)<', r.get_data(as_text=True))
            if secret:
                _SECRETS.append(secret.group(1))
        assert r.status_code in (200, 302), r.get_data(as_text=True)[:800]
        return [
            Expect("update", "User", "zhangdian", entity_id=str(uid), changed=changed),
            Expect(event, "User", "zhangdian", entity_id=str(uid)),
            Expect(event, "User", "platform"),
        ]

    return run


def _invited_officer(app: Any, meeting_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """An invited department (not civil affairs, whose officer an earlier case resets)."""
    skip = _dept_id(app, "jiangyan", "civil_affairs")
    dept_id = sorted(_invited(app, meeting_id) - {skip}, key=str)[0]
    return dept_id, _officer_of(app, "jiangyan", dept_id)


def _submit_report(b: Browser, meeting_id: uuid.UUID) -> None:
    path = f"/t/jiangyan/meetings/{meeting_id}/report"
    page = b.get(path).get_data(as_text=True)  # drafts the report on first open
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    r = b.post(
        path,
        {
            "op": "submit",
            "body": "覆盖测试：本部门半年工作汇报。",
            "families_reached": "3",
            "amount_paid": "900",
            "not_delivered": "",
            "row_version": version,
        },
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]


def _meeting_my_report(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：部门汇报")
    _dept, officer = _invited_officer(app, meeting_id)
    b = _signed_in(app, officer)
    b.get(f"/t/jiangyan/meetings/{meeting_id}/report")  # the draft exists before the mark
    _mark(app)
    _submit_report(b, meeting_id)
    return [
        Expect(
            "update",
            "DepartmentReport",
            "jiangyan",
            actor=officer,
            changed={
                "amount_paid",
                "body",
                "families_reached",
                "status",
                "submitted_at",
                "submitted_by_id",
                "updated_at",
            },
        ),
        Expect("report_submitted", "DepartmentReport", "jiangyan", actor=officer),
    ]


def _meeting_return_report(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：退回汇报")
    dept, officer = _invited_officer(app, meeting_id)
    _submit_report(_signed_in(app, officer), meeting_id)
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    _mark(app)
    r = b.post(f"{path}/reports/{dept}/return", {}, csrf_from=path)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [Expect("update", "DepartmentReport", "jiangyan")]


def _platform_archive(app: Any) -> list[Expect]:
    b = _signed_in(app, "operator")
    _mark(app)
    r = b.post("/platform/tenants/zhangdian/archive", {}, csrf_from="/platform/tenants/zhangdian")
    assert r.status_code == 200 and r.data[:2] == b"PK", r.status_code
    return [Expect("tenant_archive_exported", "Tenant", "platform")]


def _meeting_agenda_add(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：议程")
    b = _signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    _mark(app)
    r = b.post(
        f"{path}/agenda",
        {"op": "add", "title": "覆盖测试议题", "detail": "补充议题"},
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return [Expect("create", "AgendaItem", "jiangyan")]


def _api_create_meeting(app: Any) -> list[Expect]:
    headers = _bearer(app, "jiangyan-lead")
    _mark(app)
    r = app.test_client().post(
        "/api/v1/meetings",
        json={"kind": "ad_hoc", "title": "覆盖测试：接口建会", "date": "2027-05-10"},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    meeting_id = uuid.UUID(r.get_json()["id"])
    invited = _meeting_rows(app, "jiangyan", "MeetingInvitation", meeting_id)
    agenda = _meeting_rows(app, "jiangyan", "AgendaItem", meeting_id)
    who = "jiangyan-lead"
    return (
        [Expect("create", "Meeting", "jiangyan", actor=who, entity_id=str(meeting_id))]
        + [Expect("create", "MeetingInvitation", "jiangyan", actor=who)] * invited
        + [Expect("create", "AgendaItem", "jiangyan", actor=who)] * agenda
        + [Expect("create", "Minutes", "jiangyan", actor=who)]
    )


def _api_close_action_item(app: Any) -> list[Expect]:
    item_id, item, officer = _open_action_item(app)
    headers = _bearer(app, officer)
    _mark(app)
    r = app.test_client().post(
        f"/api/v1/action-items/{item_id}",
        json={"note": "覆盖测试：接口办结。", "close": True, "row_version": item.row_version},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "ActionItem", "jiangyan", actor=officer, entity_id=str(item_id)),
        Expect("action_item_closed", "ActionItem", "jiangyan", actor=officer),
    ]


#: Every state-changing route and API endpoint, by endpoint name.
ROUTES: dict[str, Exercise | Listed] = {
    # duties (issue: duties and sign-off) — checked by the duties tests named here
    "duties.generate": Exercise(_duty_generate),
    "duties.add_entry": Exercise(_duty_add_entry),
    "duties.edit_entry": Exercise(_duty_edit_entry),
    "duties.sign_off": Exercise(_duty_sign_off),
    "duties.review": Exercise(_duty_review),
    "api.entry_create": Exercise(_api_entry_create),
    "api.duty_sign_off": Exercise(_api_duty_sign_off),
    "api.duty_review": Exercise(_api_duty_review),
    # meetings (issue: joint meetings) — checked by the meetings tests named here
    "meetings.new": Exercise(_meeting_new),
    "meetings.arrangement": Listed(
        "update MeetingArrangement (changed fields, district chain), actor the lead",
        test="tests/test_meetings_views.py::test_lead_edits_arrangement_and_officer_cannot",
    ),
    "meetings.edit": Exercise(_meeting_edit),
    "meetings.agenda_action": Exercise(_meeting_agenda_add),
    "meetings.attendance": Exercise(_meeting_attendance),
    "meetings.invite": Exercise(_meeting_invite),
    "meetings.minutes": Exercise(_meeting_minutes),
    "meetings.add_decision": Exercise(_meeting_add_decision),
    "meetings.add_action": Exercise(_meeting_add_action),
    "meetings.my_report": Exercise(_meeting_my_report),
    "meetings.return_report": Exercise(_meeting_return_report),
    "meetings.update_action_item": Exercise(_meeting_close_action_item),
    "api.create_meeting": Exercise(_api_create_meeting),
    "api.update_report": Listed(
        "as meetings.my_report, actor the token's user",
        test="tests/test_meetings_api.py",
    ),
    "api.update_action_item": Exercise(_api_close_action_item),
    "policy.add_value": Exercise(_policy_add_value),
    "policy.edit_measure": Exercise(_policy_edit_measure),
    "api.platform_tenant_status": Exercise(_api_tenant_status),
    "api.platform_onboard": Listed(
        "as platform.onboard_confirm: the new district's rows in its own chain + "
        "tenant_onboarding + tenant_active Tenant (platform chain), actor the operator's token user",
        test="tests/platform/test_api.py::test_operator_api_lists_onboards_and_suspends",
    ),
    "auth.login": Exercise(_login),
    "auth.logout": Exercise(_logout),
    "auth.change_password": Exercise(_change_password),
    "auth.set_locale": Exercise(_set_locale),
    "auth.tokens": Exercise(_create_token),
    "auth.revoke_token": Exercise(_revoke_token),
    "auth.reauth": Listed(
        "no event: re-entering the password only refreshes the session's re-auth time "
        "(a wrong password changes nothing)"
    ),
    "district_admin.create_department": Exercise(_create_department),
    "district_admin.set_department_active": Exercise(_set_department_active),
    "district_admin.create_user": Exercise(_create_user),
    "district_admin.set_user_active": Exercise(_set_user_active),
    "district_admin.reset_user_password": Exercise(_reset_user_password),
    "platform.change_status": Exercise(_change_status),
    "platform.onboard_preview": Listed(
        "no event: the preview validates the policy file and writes nothing",
        test="tests/platform/test_console.py",
    ),
    "platform.onboard_confirm": Listed(
        "create Tenant/Department/User/policy rows (new district's chain) + tenant_onboarded "
        "Tenant (platform chain), actor the operator",
        test="tests/platform/test_console.py",
    ),
    "platform.purge": Listed(
        "tenant_purged Tenant (platform chain) with row counts; business rows deleted by "
        "Core statements on purpose (their chain is kept)",
        test="tests/platform/test_lifecycle.py",
    ),
    # families register (issue 16) — checked by the register tests named here
    "register.search": Listed("no event: the typed search becomes a blind index in a redirect"),
    "register.reveal": Listed(
        "pii_reveal Person (district chain) with the reason, the masked ID and its blind "
        "index, actor the user",
        test="tests/register/test_masking.py::test_reveal_needs_a_reason_shows_once_and_is_audited",
    ),
    "register.propose": Listed(
        "create ChangeRequest (district chain; ID and phone numbers sealed), actor the town officer",
        test="tests/register/test_operations.py",
    ),
    "register.propose_change": Listed(
        "create ChangeRequest kind change (district chain), actor the town officer",
        test="tests/register/test_operations.py::test_exit_and_change_through_the_pages",
    ),
    "register.propose_exit": Listed(
        "create ChangeRequest kind exit (district chain), actor the town officer",
        test="tests/register/test_operations.py::test_exit_and_change_through_the_pages",
    ),
    "register.decide": Listed(
        "update ChangeRequest + create/update Household and Person rows (confirm; numbers "
        "masked, blind index in clear), actor the eligibility officer",
        test="tests/register/test_storage.py::test_no_audit_event_holds_a_plaintext_number",
    ),
    "register.confirm_batch": Listed(
        "as register.decide for each request of the batch + register_batch_confirmed",
        test="tests/register/test_import.py::test_import_preview_reject_download_and_confirm",
    ),
    "register.areas": Listed(
        "create Area per new town/village, actor the lead",
        test="tests/register/test_areas.py",
    ),
    "register.import_sheet": Listed(
        "upload: no event; preview: create/update ImportMapping; import: create ChangeRequest "
        "per valid row + one register_import event with the counts",
        test="tests/register/test_import.py::test_import_preview_reject_download_and_confirm",
    ),
    "platform.download_archive": Exercise(_platform_archive),
    "platform.create_lead": Exercise(_platform_create_lead),
    "platform.set_lead_active": Exercise(_platform_lead_action("active")),
    "platform.reset_lead_password": Exercise(_platform_lead_action("reset")),
}

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _audit_export(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-auditor")
    _mark(app)
    r = b.get("/t/jiangyan/audit/export.csv?action=login")
    assert r.status_code == 200
    return [Expect("export", "AuditEvent", "jiangyan")]


def _platform_audit_export(app: Any) -> list[Expect]:
    b = _signed_in(app, "operator")
    _mark(app)
    assert b.get("/platform/audit/export.jsonl").status_code == 200
    return [Expect("export", "AuditEvent", "platform")]


def _export_policy(app: Any) -> list[Expect]:
    b = _signed_in(app, "operator")
    _mark(app)
    assert b.get("/platform/tenants/zhangdian/policy.yaml").status_code == 200
    return [Expect("tenant_config_exported", "Tenant", "platform")]


def _duties_export(app: Any) -> list[Expect]:
    b = _signed_in(app, "jiangyan-lead")  # (the auditor is deactivated by an earlier case)
    _mark(app)
    r = b.get("/t/jiangyan/duties/export.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    return [Expect("duties.export", "period", "jiangyan")]


def _meeting_id(app: Any, slug: str) -> uuid.UUID:
    meeting_id, _row = _first_id(app, "Meeting", slug)
    return meeting_id


def _meetings_export(kind: str) -> Callable[[Any], list[Expect]]:
    def run(app: Any) -> list[Expect]:
        meeting_id = _meeting_id(app, "jiangyan")
        b = _signed_in(app, "jiangyan-lead")
        _mark(app)
        r = b.get(f"/t/jiangyan/meetings/{meeting_id}/export/{kind}.docx")
        assert r.status_code == 200 and r.data[:2] == b"PK"
        return [Expect("export", "Meeting", "jiangyan", entity_id=str(meeting_id))]

    return run


#: GET routes that hand out data as a file (exports, downloads): each must leave its event.
#: A GET endpoint counts as a download when its name says export/download or its URL ends
#: in a file extension.
DOWNLOADS: dict[str, Exercise | Listed] = {
    "audit.export": Exercise(_audit_export),
    "audit.platform_export": Exercise(_platform_audit_export),
    "platform.export_policy": Exercise(_export_policy),
    "duties.export": Exercise(_duties_export),
    "meetings.export_minutes": Exercise(_meetings_export("minutes")),
    "meetings.export_prep_pack": Exercise(_meetings_export("prep-pack")),
    "register.export": Listed(
        "export Household (district chain) with its filters, row count and masked=true",
        test="tests/register/test_masking.py::test_export_is_masked_and_audited",
    ),
}
DOWNLOAD_RULE = re.compile(r"export|download")

#: Flask-Admin model views (portal/admin): every write goes through the scoped Session, so
#: the flush hook records it like any other ORM change (the model cases below prove the
#: capture per model); their endpoints are covered by this rule rather than one by one.
FLASK_ADMIN = re.compile(r"^(tadmin|padmin)(_\w+)?\.")
FLASK_ADMIN_NOTE = Listed(
    "Flask-Admin: create/update/delete of the view's model → create/update/delete events "
    "(flush hook), actor the signed-in user; export: the view's CSV export",
)


def _covered(endpoint: str, table: dict) -> bool:
    return endpoint in table or bool(FLASK_ADMIN.match(endpoint))


FILE_URL = re.compile(r"\.(?:[a-z]{2,5}|<[^>]+>)$")

# --- harness -----------------------------------------------------------------------------

_SECRETS: list[str] = []
_MARKS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def cov_app(databases):  # type: ignore[no-untyped-def]
    """One demo database for the whole module (each case diffs the chain heads)."""
    application = make_app(databases.new(demo=True))
    yield application
    from portal.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _heads(app: Any) -> dict[uuid.UUID, int]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("audit coverage"):
        rows = db.session.execute(
            sa.select(AuditEvent.tenant_id, sa.func.max(AuditEvent.seq)).group_by(
                AuditEvent.tenant_id
            )
        ).all()
        db.session.remove()
    return dict(rows)


def _mark(app: Any) -> None:
    """Events before this point (set-up requests) are not the route's."""
    _MARKS["heads"] = _heads(app)


def _new_events(app: Any, since: dict[uuid.UUID, int]) -> list[Any]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("audit coverage"):
        rows = []
        for tid, seq in _heads(app).items():
            if seq > since.get(tid, 0):
                rows += (
                    db.session.execute(
                        sa.select(AuditEvent)
                        .where(AuditEvent.tenant_id == tid, AuditEvent.seq > since.get(tid, 0))
                        .order_by(AuditEvent.seq)
                    )
                    .scalars()
                    .all()
                )
        db.session.expunge_all()
        db.session.remove()
    return rows


def _slugs(app: Any) -> dict[uuid.UUID, str]:
    from portal.audit.models import PLATFORM_CHAIN
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        out = dict(db.session.execute(sa.select(Tenant.id, Tenant.slug)).all())
    out[PLATFORM_CHAIN] = "platform"
    return out


def _state_changing_endpoints(app: Any) -> list[str]:
    return sorted(
        {
            r.endpoint
            for r in app.url_map.iter_rules()
            if STATE_CHANGING & set(r.methods or ()) and r.endpoint != "static"
        }
    )


def _download_endpoints(app: Any) -> list[str]:
    return sorted(
        {
            r.endpoint
            for r in app.url_map.iter_rules()
            if "GET" in (r.methods or ())
            and r.endpoint != "static"
            and (DOWNLOAD_RULE.search(r.endpoint) or FILE_URL.search(r.rule))
        }
    )


def test_every_download_is_in_the_table(cov_app) -> None:  # type: ignore[no-untyped-def]
    endpoints = _download_endpoints(cov_app)
    missing = [e for e in endpoints if not _covered(e, DOWNLOADS)]
    assert not missing, (
        "exports/downloads without audit coverage — add each to DOWNLOADS in "
        "tests/test_audit_coverage.py as Exercise(fn) or Listed('<expected event>', test=…) "
        "(record them with trail.record(db.session, 'export' or 'download', entity_type=…, "
        "summary=…, data={'rows': n, …})):\n  " + "\n  ".join(missing)
    )
    stale = [e for e in DOWNLOADS if e not in endpoints]
    assert not stale, f"DOWNLOADS lists endpoints that no longer exist: {stale}"


def test_every_state_changing_route_is_in_the_table(cov_app) -> None:  # type: ignore[no-untyped-def]
    endpoints = _state_changing_endpoints(cov_app)
    missing = [e for e in endpoints if not _covered(e, ROUTES)]
    assert not missing, (
        "state-changing routes without audit coverage — add each to ROUTES in "
        "tests/test_audit_coverage.py as Exercise(fn) (fn makes the request and returns "
        "the Expect(...) events it must leave) or Listed('<expected event shape>', "
        "test='<your test that checks it>'):\n  " + "\n  ".join(missing)
    )
    stale = [e for e in ROUTES if e not in endpoints]
    assert not stale, f"ROUTES lists endpoints that no longer exist: {stale}"


@pytest.mark.parametrize(
    "endpoint",
    sorted(e for e, c in {**ROUTES, **DOWNLOADS}.items() if isinstance(c, Exercise)),
)
def test_route_leaves_exactly_the_expected_events(cov_app, endpoint) -> None:  # type: ignore[no-untyped-def]
    case = {**ROUTES, **DOWNLOADS}[endpoint]
    assert isinstance(case, Exercise)
    _mark(cov_app)
    expected = case.run(cov_app)
    events = _new_events(cov_app, _MARKS["heads"])
    slugs = _slugs(cov_app)
    got = sorted((e.action, e.entity_type, slugs.get(e.tenant_id, "?")) for e in events)
    want = sorted((x.action, x.entity_type, x.chain) for x in expected)
    assert got == want, f"{endpoint}: events {got}, expected {want}; changes " + str(
        [(e.action, e.entity_type, sorted(json.loads(e.changes))) for e in events]
    )
    for x in expected:
        ev = next(
            e
            for e in events
            if (e.action, e.entity_type, slugs.get(e.tenant_id))
            == (x.action, x.entity_type, x.chain)
        )
        if x.actor is not None:
            assert ev.actor_name == x.actor, (endpoint, x, ev.actor_name)
        else:
            assert ev.actor_name not in ("anonymous", "system"), (endpoint, x, ev.actor_name)
            assert ev.ip and ev.request_id, (endpoint, x)
        if x.entity_id is not None:
            assert ev.entity_id == x.entity_id, (endpoint, x, ev.entity_id)
        if x.changed is not None:
            changes = json.loads(ev.changes)
            assert set(changes) == x.changed, (endpoint, x.action, set(changes))
            for name, diff in changes.items():
                assert "before" in diff and "after" in diff, (endpoint, name, diff)
                assert diff["before"] != diff["after"] or diff["before"] == "***", (name, diff)


def test_no_secret_from_the_exercised_routes_is_in_the_trail(cov_app, databases) -> None:  # type: ignore[no-untyped-def]
    """Runs after the route cases (module order): tokens and temporary passwords they showed."""
    if not _SECRETS:
        pytest.skip("needs the route cases of this module to run first")
    engine = sa.create_engine(databases.owner_url(cov_app.config["SQLALCHEMY_DATABASE_URI"]))
    with engine.connect() as conn:
        text = "\n".join(
            "|".join(str(v) for v in row)
            for row in conn.execute(sa.text("SELECT * FROM audit_events"))
        )
    engine.dispose()
    for secret in [*_SECRETS, DEMO_PASSWORD, "Coverage-pass-2026!"]:
        assert secret not in text, secret[:10]


# --- models ------------------------------------------------------------------------------


class Ctx:
    """Helpers for factories: existing demo rows, and other models' new rows."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def model(self, name: str) -> type:
        from portal.db import Base

        return next(m.class_ for m in Base.registry.mappers if m.class_.__name__ == name)

    def first(self, name: str) -> Any:
        cls = self.model(name)
        row = self.session.execute(sa.select(cls).limit(1)).unique().scalars().first()
        assert row is not None, f"no demo row of {name} to build on"
        return row

    def make(self, name: str) -> Any:
        """A new, flushed row of another model (for parents a factory needs)."""
        obj = MODEL_FACTORIES[name](self) if name in MODEL_FACTORIES else _clone(self.first(name))
        self.session.add(obj)
        self.session.flush()
        return obj


def _unique_sets(table: sa.Table) -> list[set[str]]:
    sets = [
        {c.name for c in con.columns}
        for con in table.constraints
        if isinstance(con, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
    ]
    sets += [{c.name for c in ix.columns} for ix in table.indexes if ix.unique]
    sets += [{c.name} for c in table.columns if c.unique]
    return sets


def _vary(column: sa.Column, value: Any) -> Any:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.String):
        room = (kind.length or 200) - 4
        return f"{str(value)[:room]}~cv{uuid.uuid4().hex[0]}"
    if isinstance(kind, sa.Integer):
        return (value or 0) + 10_000 + uuid.uuid4().int % 1_000_000  # never twice the same
    if isinstance(kind, sa.Date):
        return value + dt.timedelta(days=3653)
    return None


def _variable(column: sa.Column) -> bool:
    if column.foreign_keys or column.name == "tenant_id":
        return False
    kind = column.type
    if isinstance(kind, sa.String) and not isinstance(kind, sa.Enum):
        return (kind.length or 200) >= 8
    return isinstance(kind, sa.Uuid | sa.Integer | sa.Date)


def _clone(src: Any) -> Any:
    """A copy of a demo row that satisfies its primary key and unique constraints."""
    from portal.db import new_id

    cls = type(src)
    mapper = sa.inspect(cls)
    table = mapper.local_table
    version = mapper.version_id_col.key if mapper.version_id_col is not None else None
    values = {}
    for attr in mapper.column_attrs:
        if attr.key == version:
            continue
        values[attr.key] = copy.deepcopy(getattr(src, attr.key))
    for unique in _unique_sets(table):
        candidates = [table.c[n] for n in sorted(unique) if _variable(table.c[n])]
        assert candidates, (
            f"{cls.__name__}: cannot clone a demo row (unique {sorted(unique)} has no column "
            "to vary) — add a factory to MODEL_FACTORIES in tests/test_audit_coverage.py"
        )
        col = next((c for c in candidates if c.primary_key), candidates[0])
        key = mapper.get_property_by_column(col).key
        values[key] = new_id() if col.name == "id" else _vary(col, values[key])
    return cls(**values)


def _plain_field(mapper: Any) -> Any:
    """A column the update step may change: plain text first, then a number, a flag, a date."""
    table = mapper.local_table
    in_unique = set().union(*_unique_sets(table))
    version = mapper.version_id_col.key if mapper.version_id_col is not None else None
    from portal.audit import trail

    for want in (sa.String, sa.Integer, sa.Boolean, sa.Date, sa.DateTime):
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if (
                isinstance(col.type, want)
                and not isinstance(col.type, sa.Enum | sa.JSON)
                and not col.primary_key
                and not col.foreign_keys
                and col.name not in in_unique
                and attr.key != version
                and not trail._is_secret(mapper.class_, attr.key)
                and not attr.key.endswith("_id")
            ):
                return attr
    return None


def _changed_value(old: Any) -> Any:
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + 1
    if isinstance(old, dt.datetime):
        return old + dt.timedelta(seconds=1)
    if isinstance(old, dt.date):
        return old + dt.timedelta(days=1)
    if old is None:
        return None
    return f"{old}~upd"[:60]


def _model_names() -> list[str]:
    from portal import models  # noqa: F401 - every domain's models
    from portal.db import Base

    return sorted(m.class_.__name__ for m in Base.registry.mappers)


def _chain_events(chain: uuid.UUID, after: int) -> list[Any]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with scope.cross_tenant("audit coverage"):
        return list(
            db.session.execute(
                sa.select(AuditEvent)
                .where(AuditEvent.tenant_id == chain, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )


def _chain_head(chain: uuid.UUID) -> int:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with scope.cross_tenant("audit coverage"):
        return (
            db.session.execute(
                sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.tenant_id == chain)
            ).scalar()
            or 0
        )


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@pytest.mark.parametrize("name", _model_names())
def test_model_changes_leave_exactly_the_expected_events(cov_app, name) -> None:  # type: ignore[no-untyped-def]
    """Insert, update one plain field, delete: one event each, with the exact values."""
    from portal.audit import trail
    from portal.audit.trail import _entity_id, _field_value
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with cov_app.app_context():
        ctx = Ctx(db.session)
        cls = ctx.model(name)
        if not trail.is_audited(cls):
            assert name in NOT_AUDITED, (
                f"{name} sets __audit__ = False: add it to NOT_AUDITED in "
                "tests/test_audit_coverage.py with the reason it must not be audited"
            )
            return
        assert name not in NOT_AUDITED, f"{name} is audited: remove it from NOT_AUDITED"
        mapper = sa.inspect(cls)
        columns = [a.key for a in mapper.column_attrs]
        version = mapper.version_id_col.key if mapper.version_id_col is not None else None
        tenant_owned = "tenant_id" in mapper.columns and name != "Tenant"
        kaifeng = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        zone = scope.tenant_scope(kaifeng) if tenant_owned else scope.cross_tenant("coverage")
        with zone, trail.acting_as(trail.system_actor("audit-coverage")):
            # 1. insert
            if name in MODEL_FACTORIES:
                obj = MODEL_FACTORIES[name](ctx)
            else:
                src = db.session.execute(sa.select(cls).limit(1)).unique().scalars().first()
                assert src is not None, (
                    f"{name}: the demo data has no row to clone — add a factory to "
                    "MODEL_FACTORIES in tests/test_audit_coverage.py (fn(ctx) -> new unsaved "
                    "instance; ctx.first('Model') gives a demo row, ctx.make('Model') a new one)"
                )
                obj = _clone(src)
            db.session.add(obj)
            db.session.flush()
            chain = trail._chain_for(obj)
            entity_id = _entity_id(obj)
            inserted = {k: getattr(obj, k) for k in columns}
            head = _chain_head(chain)
            db.session.commit()
            mine = [
                e
                for e in _chain_events(chain, head)
                if (e.entity_type, e.entity_id) == (name, entity_id)
            ]
            assert [e.action for e in mine] == ["create"], f"{name}: {[e.action for e in mine]}"
            ev = mine[0]
            assert ev.actor_name == ACTOR and ev.actor_role == "system"
            assert ev.department_id == trail._department_of(obj), name
            assert json.loads(ev.changes) == _as_json(
                {
                    k: {"after": _field_value(cls, k, v)}
                    for k, v in inserted.items()
                    if v is not None
                }
            ), name

            if getattr(cls, "__immutable__", False):  # rows are only ever added
                db.session.delete(obj)
                with pytest.raises(ValueError, match="never changed"):
                    db.session.flush()
                db.session.rollback()
                return

            # 2. update one plain field (models with none skip this step)
            attr = _plain_field(mapper)
            old = getattr(obj, attr.key) if attr is not None else None
            new = _changed_value(old)
            if attr is not None and new is not None:
                setattr(obj, attr.key, new)
                head = _chain_head(chain)
                db.session.commit()
                events = _chain_events(chain, head)
                assert [(e.action, e.entity_type, e.entity_id) for e in events] == [
                    ("update", name, entity_id)
                ], name
                changes = json.loads(events[0].changes)
                assert set(changes) - {version} == {attr.key}, (name, changes)
                assert changes[attr.key] == _as_json(
                    {
                        "before": _field_value(cls, attr.key, old),
                        "after": _field_value(cls, attr.key, new),
                    }
                ), name

            # 3. delete
            loaded = {k: getattr(obj, k) for k in columns}
            head = _chain_head(chain)
            db.session.delete(obj)
            db.session.commit()
            events = _chain_events(chain, head)
            assert [(e.action, e.entity_type, e.entity_id) for e in events] == [
                ("delete", name, entity_id)
            ], name
            assert json.loads(events[0].changes) == _as_json(
                {k: {"before": _field_value(cls, k, v)} for k, v in loaded.items() if v is not None}
            ), name
        db.session.remove()
