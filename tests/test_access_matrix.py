"""The access matrix: every URL rule of the app × every role × every scope context.

HOW TO CLASSIFY A NEW ROUTE (the test fails until you do):

Add one entry to `ROUTES` below, keyed by the Flask endpoint name, e.g.

    "duties.detail": Route("district", "duty.read", ids={"duty_id": "Duty"}),
    "api.duty": Route("api", "duty.read", ids={"duty_id": "Duty"}),
    "platform.thing": Route("platform", "tenant.manage"),
    "auth.something": Route("account"),

- kind: "public" (anyone), "account" (any signed-in user, no tenant in the URL),
  "district" (under /t/<slug>/, needs `perm`), "platform" (operators, needs `perm`),
  "api" (/api/v1, bearer token, needs `perm`).
- perm: the permission from portal/kernel/grants.py GRANTS; must equal the view's
  `@requires`/`@api_requires` permission when it has one.
- ids: URL parameter → mapped class name (a real record is taken from the demo DB for
  each context: own tenant/own department, other department, other tenant) or a
  callable `(samples, ctx) -> value`.
- ok: status for an allowed role (int, or {"GET": 200, "POST": 302}); POSTs send `data`
  plus a valid CSRF token, so choose `data` that does not break later cells.
- deny: status for a role without `perm` (403, or 404 for `@requires(..., status=404)`).
- expect: a callable `(role, ctx, method) -> status | None` overriding everything.

The matrix runs on its own demo database (POSTs of allowed roles may change it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Browser, demo_app

A, B = "kaifeng", "zhangdian"  # B has meetings: 嘉定's document sets up none
ROLES = ("anon", "operator", "lead", "officer", "auditor", "town", "village")
USERS = {
    "operator": "operator",
    "lead": f"{A}-lead",
    "officer": f"{A}-civil-affairs",
    "auditor": f"{A}-auditor",
    # the register's roles (portal/register): the demo's first household, person and
    # request lie in the town officer's town, and the village contact is assigned to it
    "town": f"{A}-town1",
    "village": f"{A}-village1",
}
ROLE_VALUES = {
    "operator": "platform_operator",
    "lead": "district_lead",
    "officer": "dept_officer",
    "auditor": "auditor",
    "town": "town_officer",
    "village": "village_contact",
}
# Contexts: own tenant (own department for officers), another department of the own
# tenant, a record of tenant B in tenant A's URL, and tenant B's URL.
OWN, OTHER_DEPT, OTHER_RECORD, OTHER_TENANT = "own", "other_dept", "other_record", "other_tenant"


@dataclass(frozen=True)
class Route:
    kind: str
    perm: str | None = None
    ids: Mapping[str, str | Callable[[Any, str], Any]] = field(default_factory=dict)
    ok: int | Mapping[str, int] = 200
    deny: int = 403
    data: Mapping[str, str] = field(default_factory=dict)
    fresh_client: bool = False  # the request ends the session (sign-out)
    expect: Callable[[str, str, str], int | None] | None = None
    query: Mapping[str, str | Callable[[Any, str], Any]] = field(default_factory=dict)
    # status for a role holding `perm`, per (role, ctx, method); replaces `ok` and the
    # generic 404s for out-of-scope records (Flask-Admin checks some flags first)
    allowed: Callable[[str, str, str], int] | None = None
    # cells whose record the demo lacks are skipped instead of failing (generated routes)
    optional_samples: bool = False


def _tenant_lead(samples: Samples, ctx: str) -> uuid.UUID:
    return samples.user_id(B, "district_lead")


def _reset_target(samples: Samples, ctx: str) -> uuid.UUID:
    """A user whose password the lead may reset: an officer the matrix does not sign in
    as (the first user by id was chance: ids made in one millisecond order at random,
    and the lead itself is refused, "use Change password")."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
    with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
        found = db.session.execute(
            sa.select(User.id)
            .where(User.role == "dept_officer", User.username.not_in(USERS.values()))
            .order_by(User.username)
        ).scalar()
        db.session.remove()
    assert found, f"no other officer in {slug}"
    return found


def _tenant_slug(samples: Samples, ctx: str) -> str:
    return B


def _random_id(samples: Samples, ctx: str) -> uuid.UUID:
    return uuid.uuid4()


def _audit_seq(samples: Samples, ctx: str) -> int:
    """An event of tenant A's chain that belongs to no department (officers: 404)."""
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    tenant = samples.tenants[A]
    with samples.app.app_context(), scope.tenant_scope(tenant):
        seq = db.session.execute(
            sa.select(sa.func.min(AuditEvent.seq)).where(
                AuditEvent.tenant_id == tenant, AuditEvent.department_id.is_(None)
            )
        ).scalar()
        db.session.remove()
    return seq


def _audit_department(samples: Samples, ctx: str) -> Any:
    """Another department of tenant A than the officer's (its history: officers 404)."""
    return samples.record("Department", OWN)


def _entry_of_duty(samples: Samples, ctx: str) -> uuid.UUID:
    """A progress entry of the sampled duty (the edit URL needs both to match)."""
    from portal.duties.models import ProgressEntry
    from portal.extensions import db
    from portal.tenancy import scope

    duty_id = samples.record("Duty", ctx)
    slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
    with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
        found = db.session.execute(
            sa.select(ProgressEntry.id).where(ProgressEntry.duty_id == duty_id).limit(1)
        ).scalar()
        db.session.remove()
    assert found, "the sampled duty has no progress entry in the demo"
    return found


def _lead_only_post(role: str, ctx: str, method: str) -> int | None:
    """Meeting pages readable by all district roles whose POST only the lead may use
    (the view checks `meeting.manage` after finding the record): officers and auditors
    get 403 where they can see the record."""
    if method != "POST" or role not in ("officer", "auditor"):
        return None
    if ctx == OWN or (ctx == OTHER_DEPT and role == "auditor"):
        return 403
    return None


def _preview_writers(role: str, ctx: str, method: str) -> int | None:
    """The Markdown preview: readers of meetings who write no Markdown (auditors) get 403."""
    return 403 if role == "auditor" and ctx == OWN else None


def _report_department(samples: Samples, ctx: str) -> uuid.UUID:
    """A department with a report in the context's sample meeting (any department when the
    meeting has no reports, as the demo's ad hoc meeting)."""
    from portal.extensions import db
    from portal.meetings.models import DepartmentReport
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    meeting_id = samples.record("Meeting", ctx)
    slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
    with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
        found = (
            db.session.execute(
                sa.select(DepartmentReport.department_id)
                .where(DepartmentReport.meeting_id == meeting_id)
                .order_by(DepartmentReport.id)
            ).scalar()
            or db.session.execute(sa.select(Department.id).order_by(Department.id)).scalar()
        )
        db.session.remove()
    return found


def _no_report_in_uninvited_meeting(role: str, ctx: str, method: str) -> int | None:
    """OTHER_DEPT pairs the ad hoc demo meeting (civil affairs not invited) with a
    department that has no report there: 404 for those allowed to look."""
    if ctx == OTHER_DEPT and role in ("lead", "auditor"):
        from portal.auth.models import Role
        from portal.kernel.grants import GRANTS

        return (
            404
            if Role(ROLE_VALUES[role])
            in GRANTS["meeting.manage" if method == "POST" else "district.read_all"]
            else None
        )
    return None


def _login_expect(role: str, ctx: str, method: str) -> int:
    if role == "anon":
        return 200 if method == "GET" else 401  # POST without credentials: form error
    return 302  # already signed in: sent home


def _register_officer(role: str, ctx: str, method: str) -> int | None:
    """The matrix's officer (civil affairs) holds the register grants officers have, but
    only the eligibility department (卫健) works with the register: 404 everywhere."""
    return 404 if role == "officer" else None


def _register_areas(role: str, ctx: str, method: str) -> int | None:
    """Everyone who reads the register sees the areas; only the lead adds them."""
    if role == "officer" or (role != "lead" and method == "POST" and role in REGISTER_ROLES):
        return 404
    return None


REGISTER_ROLES = ("lead", "auditor", "town", "village")


def _benefit_claims(role: str, ctx: str, method: str) -> int | None:
    """Claims are read by every benefits role; only town officers (and the eligibility
    officer) enter them: the lead and the auditor get 404 on POST, an empty form 400."""
    if role == "officer":
        return 404
    if method == "POST" and ctx == OWN:
        if role in ("lead", "auditor"):
            return 404
        if role == "town":
            return 400
    return None


def _care_sample(model: str) -> Callable[[Any, str], Any]:
    """An open assignment of the demo's first household (in the town officer's town) and
    its contact person."""

    def sample(samples: Samples, ctx: str) -> Any:
        from portal.care.models import Assignment
        from portal.extensions import db
        from portal.register.models import Household
        from portal.tenancy import scope

        slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
        first = sa.select(Household.id).where(Household.number == "D000001").scalar_subquery()
        column = Assignment.id if model == "Assignment" else Assignment.contact_id
        stmt = (
            sa.select(column)
            .where(Assignment.household_id == first, Assignment.ended_on.is_(None))
            .order_by(Assignment.id)
            .limit(1)
        )
        with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
            found = db.session.execute(stmt).scalar()
            db.session.remove()
        assert found, f"no care sample {model} in {slug}"
        return found

    return sample


def _checkup_sample(samples: Samples, ctx: str) -> Any:
    """A check-up of the demo's first household (the one the household sample names). 开封's
    document sets no check-ups, so its demo has none: the first call records one for the
    household's first member in the matrix's own database (as a town officer would)."""
    import datetime as dt

    from portal.care.models import Checkup
    from portal.extensions import db
    from portal.register.models import Household, Person
    from portal.tenancy import scope

    slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
    with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
        first = db.session.execute(
            sa.select(Household.id).where(Household.number == "D000001")
        ).scalar_one()
        found = db.session.execute(
            sa.select(Checkup.id).where(Checkup.household_id == first).order_by(Checkup.id)
        ).scalar()
        if found is None:
            person = db.session.execute(
                sa.select(Person.id).where(Person.household_id == first, Person.position == 0)
            ).scalar_one()
            checkup = Checkup(household_id=first, person_id=person, done_on=dt.date(2026, 5, 1))
            db.session.add(checkup)
            db.session.commit()  # a sample for the matrix, outside any request
            found = checkup.id
        db.session.remove()
    return found


def _followup_visit(samples: Samples, ctx: str) -> Any:
    """A demo visit that asks for follow-up (the meeting's care follow-ups page)."""
    from portal.care.models import Visit
    from portal.extensions import db
    from portal.tenancy import scope

    slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
    stmt = sa.select(Visit.id).where(Visit.follow_up.is_(True)).order_by(Visit.id).limit(1)
    with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
        found = db.session.execute(stmt).scalar()
        db.session.remove()
    assert found, f"no follow-up visit in {slug}"
    return found


def _register_sample(model: str) -> Callable[[Any, str], Any]:
    """The demo's first household (D000001: in the town officer's town, assigned to the
    village contact), its first member, or the district's first change request."""

    def sample(samples: Samples, ctx: str) -> Any:
        from portal.extensions import db
        from portal.register.models import ChangeRequest, Household, Person
        from portal.tenancy import scope

        slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
        first = sa.select(Household.id).where(Household.number == "D000001").scalar_subquery()
        stmt = {
            "Household": sa.select(Household.id).where(Household.number == "D000001"),
            "Person": sa.select(Person.id).where(
                Person.household_id == first, Person.position == 0
            ),
            "ChangeRequest": sa.select(ChangeRequest.id)
            .order_by(ChangeRequest.proposed_at)
            .limit(1),
        }[model]
        with samples.app.app_context(), scope.tenant_scope(samples.tenants[slug]):
            found = db.session.execute(stmt).scalar()
            db.session.remove()
        assert found, f"no register sample {model} in {slug}"
        return found

    sample.model = model  # type: ignore[attr-defined]  # a record: OTHER_RECORD is checked too
    return sample


def _register_route(
    perm: str,
    sample: str | None = None,
    ok: int | Mapping[str, int] = 200,
    expect: Callable[[str, str, str], int | None] | None = _register_officer,
) -> Route:
    """A families-register page: denied as missing (404); `sample` names the demo record
    its URL is about (household, person, change request)."""
    ids = {REGISTER_IDS[sample]: _register_sample(sample)} if sample else {}
    return Route("district", perm, ids=ids, ok=ok, deny=404, expect=expect)


REGISTER_IDS = {"Household": "household_id", "Person": "person_id", "ChangeRequest": "request_id"}


def _register_account(role_value: str) -> Callable[[Any, str], Any]:
    """The district's first account of this register role (A: kaifeng-town1 /
    kaifeng-village1, whose village lies in the town officer's town); B's for the other
    contexts."""

    def sample(samples: Samples, ctx: str) -> Any:
        return samples.user_id(B if ctx in (OTHER_RECORD, OTHER_TENANT) else A, role_value)

    sample.model = "User"  # type: ignore[attr-defined]  # OTHER_RECORD is checked too
    return sample


def _audit_no_grant(role: str, ctx: str, method: str) -> int | None:
    """The audit viewer answers 403 to a district role holding neither audit grant (the
    register's town officer and village contact): the same for every record, so it tells
    nothing about one."""
    if role in ("town", "village") and ctx != OTHER_TENANT:
        return 403
    return None


def _notice_post(role: str, ctx: str, method: str) -> int | None:
    """Everyone in the district reads notices; only the lead posts (officers and auditors
    get 403 on POST in their own district)."""
    if method == "POST" and role in ("officer", "auditor") and ctx == OWN:
        return 403
    return None


def _meeting(perm: str, ok: int | Mapping[str, int] = 200, **kw: Any) -> Route:
    """A page about one meeting of the district (`meeting_id`, plus any other `ids`)."""
    ids = {"meeting_id": "Meeting", **kw.pop("ids", {})}
    return Route("district", perm, ids=ids, ok=ok, **kw)


def _tenant(ok: int = 200, lead: bool = False, **kw: Any) -> Route:
    """An operator's page about one district (and its lead's account when `lead`)."""
    ids = {"tenant_slug": _tenant_slug, **({"user_id": _tenant_lead} if lead else {})}
    return Route("platform", "tenant.manage", ids=ids, ok=ok, **kw)


def _configure(ids: Mapping[str, str], ok: int | Mapping[str, int]) -> Route:
    """A page of the lead's policy configuration; denied as missing (404)."""
    return Route("district", "district.configure", ids=ids, deny=404, ok=ok)


def _care(perm: str, ids: Mapping[str, Any] | None = None, ok: Any = 200, **kw: Any) -> Route:
    """A care page; denied as missing (404)."""
    return Route("district", perm, ids=ids or {}, ok=ok, deny=404, **kw)


def _benefits(perm: str, cycle: bool = True, ok: int = 200) -> Route:
    """A benefits page (about one payment cycle unless `cycle` is False): denied as
    missing, and only the register's departments among officers (`_register_officer`)."""
    ids = {"cycle_id": "PaymentCycle"} if cycle else {}
    return Route("district", perm, ids=ids, ok=ok, deny=404, expect=_register_officer)


def _contact_account(perm: str, role_value: str, ok: Any, **kw: Any) -> Route:
    """A register page about one account of the register's roles; denied as missing."""
    ids = {"user_id": _register_account(role_value)}
    return Route("district", perm, ids=ids, ok=ok, deny=404, **kw)


HOUSEHOLD = {"household_id": _register_sample("Household")}


ROUTES: dict[str, Route] = {
    # -- public and account
    "index": Route("public", expect=lambda role, ctx, m: 302),
    "healthz": Route("public"),
    "ready": Route("public"),
    "static": Route("public", ids={"filename": lambda s, c: "portal.css"}),
    "auth.login": Route("public", expect=_login_expect),
    "auth.logout": Route("account", ok=302, fresh_client=True),
    "auth.set_locale": Route("account", ok=302, data={"locale": "zh_Hans_CN"}),
    "auth.change_password": Route("account", ok=200),
    "auth.reauth": Route("account", ok=200),
    "auth.tokens": Route("account", ok=200),
    "auth.revoke_token": Route("account", ids={"token_id": _random_id}, ok=404),
    # -- district (tenancy, platform's district pages)
    "district.home": Route("district", "district.home", deny=404),
    "district_admin.departments": Route("district", "district.configure"),
    "district_admin.create_department": Route("district", "district.configure", ok=400),
    "district_admin.set_department_active": Route(
        "district",
        "district.configure",
        ids={"department_id": "Department"},
        ok=302,
        data={"active": "1"},
    ),
    "district_admin.users": Route("district", "district.configure"),
    "district_admin.create_user": Route("district", "district.configure", ok=302),
    "district_admin.set_user_active": Route(
        "district", "district.configure", ids={"user_id": "User"}, ok=302, data={"active": "1"}
    ),
    "district_admin.reset_user_password": Route(
        "district", "district.configure", ids={"user_id": _reset_target}, ok=200
    ),
    # -- workspace: messages, notices, online users (portal/messages, portal/workspace)
    "messages.index": Route("district", "message.read", deny=404),
    "messages.read": Route(
        "district", "message.read", ids={"message_id": _random_id}, ok=404, deny=404
    ),
    "messages.read_all": Route("district", "message.read", ok=302, deny=404),
    "messages.notices": Route(
        "district", "notice.read", ok={"GET": 200, "POST": 400}, deny=404, expect=_notice_post
    ),
    "messages.notice": Route(
        "district", "notice.read", ids={"notice_id": _random_id}, ok=404, deny=404
    ),
    "messages.withdraw": Route("district", "notice.post", ids={"notice_id": _random_id}, ok=404),
    "platform_notices.index": Route("platform", "platform.notice", ok={"GET": 200, "POST": 400}),
    "platform_notices.withdraw": Route(
        "platform", "platform.notice", ids={"broadcast_id": _random_id}, ok=404
    ),
    "workspace.online": Route("district", "session.manage"),
    "workspace.sign_out": Route("district", "session.manage", ids={"user_id": _random_id}, ok=404),
    "workspace.platform_online": Route("platform", "platform.sessions"),
    "workspace.platform_sign_out": Route(
        "platform", "platform.sessions", ids={"user_id": _random_id}, ok=404
    ),
    # -- duties
    "duties.index": Route("district", "duty.read", deny=404),
    "duties.review_queue": Route("district", "duty.review", deny=404),
    "duties.detail": Route("district", "duty.read", ids={"duty_id": "Duty"}, deny=404),
    "duties.add_entry": Route("district", "duty.log", ids={"duty_id": "Duty"}, ok=400),
    "duties.edit_entry": Route(
        "district",
        "duty.log",
        ids={"duty_id": "Duty", "entry_id": _entry_of_duty},
        ok={"GET": 200, "POST": 400},
    ),
    "duties.sign_off": Route("district", "duty.sign_off", ids={"duty_id": "Duty"}, ok=400),
    "duties.review": Route("district", "duty.review", ids={"duty_id": "Duty"}, ok=400),
    "duties.evidence": Route(
        "district", "duty.read", ids={"evidence_id": _random_id}, ok=404, deny=404
    ),
    "duties.export": Route("district", "duty.export", deny=404),
    "duties.generate": Route("district", "duty.review", ok=302),
    # -- joint meetings (portal/meetings)
    "meetings.index": Route("district", "meeting.read"),
    "meetings.new": Route("district", "meeting.manage", ok={"GET": 200, "POST": 400}),
    # An allowed meeting POST without its fields is answered by the form shown again with
    # the message (400), also when it does not carry the row_version it edits.
    "meetings.arrangement": Route(
        "district", "meeting.read", ok={"GET": 200, "POST": 400}, expect=_lead_only_post
    ),
    "meetings.detail": _meeting("meeting.read"),
    "meetings.preview_markdown": Route(
        "district", "meeting.read", data={"text": "**预览**"}, expect=_preview_writers
    ),
    "meetings.edit": _meeting("meeting.manage", 400),
    "meetings.agenda_action": _meeting("meeting.manage", 400),
    "meetings.attendance": _meeting("meeting.manage", 400),
    "meetings.invite": _meeting("meeting.manage", 400),
    "meetings.minutes": _meeting("meeting.read", 400, data={"op": "save"}, expect=_lead_only_post),
    "meetings.add_decision": _meeting("meeting.manage", 400),
    "meetings.add_action": _meeting("meeting.manage", 400, ids={"decision_id": "Decision"}),
    "meetings.my_report": _meeting(
        "meeting.report", {"GET": 200, "POST": 400}, data={"op": "save"}
    ),
    # a department's report: none in a meeting it was not invited to
    "meetings.department_report": _meeting(
        "district.read_all",
        ids={"department_id": _report_department},
        expect=_no_report_in_uninvited_meeting,
    ),
    "meetings.return_report": _meeting(
        "meeting.manage",
        400,
        ids={"department_id": _report_department},
        expect=_no_report_in_uninvited_meeting,
    ),
    "meetings.export_minutes": _meeting("district.read_all"),
    "meetings.export_prep_pack": _meeting("district.read_all"),
    # care follow-ups taken up as action items (nothing chosen: refused beside the field)
    "meetings.care_followups_page": _meeting("meeting.manage"),
    "meetings.followup_action": _meeting("meeting.manage", 400, ids={"visit_id": _followup_visit}),
    "meetings.followup_link": _meeting("meeting.manage", 400, ids={"visit_id": _followup_visit}),
    "meetings.action_items": Route("district", "meeting.read"),
    "meetings.update_action_item": Route(
        "district", "meeting.read", ids={"item_id": "ActionItem"}, ok=400
    ),
    # -- policy
    "policy.index": Route("district", "policy.read", deny=404),
    # empty form: field errors, nothing saved
    "policy.edit_measure": _configure({"measure_id": "Measure"}, {"GET": 200, "POST": 422}),
    "policy.add_value": _configure({"benefit_id": "BenefitStandard"}, {"GET": 200, "POST": 422}),
    # 开封's version is final: nothing to adopt, back to the policy page
    "policy.adopt": _configure({"version_id": "PolicyVersion"}, 303),
    # no decision in the form (and 开封's policy is in force: nothing to decide)
    "policy.after_expiry": _configure({"version_id": "PolicyVersion"}, 400),
    # -- platform
    "platform.console": Route("platform", "platform.console"),
    "platform.onboard": Route("platform", "tenant.manage"),
    "platform.policy_format": Route("platform", "platform.console"),
    "platform.onboard_preview": Route("platform", "tenant.manage", ok=400),
    "platform.onboard_confirm": Route("platform", "tenant.manage", ok=422),
    "platform.tenant": _tenant(),
    "platform.change_status": _tenant(400),
    "platform.purge": _tenant(302),
    "platform.export_policy": _tenant(),
    "platform.download_archive": _tenant(),
    "platform.create_lead": _tenant(302),
    "platform.set_lead_active": _tenant(302, lead=True, data={"active": "1"}),
    "platform.reset_lead_password": _tenant(200, lead=True),
    # -- audit trail viewer (officers read only their own department's records: 404 here)
    "audit.events": Route("district", "audit.read"),
    "audit.logins": Route("district", "audit.read"),
    "audit.export": Route("district", "audit.read", ids={"fmt": lambda s, c: "csv"}),
    "audit.event": Route(
        "district", "audit.read", ids={"seq": _audit_seq}, deny=404, expect=_audit_no_grant
    ),
    "audit.history": Route(
        "district",
        "audit.read",
        ids={"entity_type": lambda s, c: "Department", "entity_id": _audit_department},
        deny=404,
        expect=_audit_no_grant,
    ),
    "audit.platform_events": Route("platform", "platform.audit.read"),
    "audit.platform_event": Route("platform", "platform.audit.read", ids={"seq": lambda s, c: 1}),
    "audit.platform_export": Route(
        "platform", "platform.audit.read", ids={"fmt": lambda s, c: "jsonl"}
    ),
    # -- care (portal/care): like the register, only the eligibility department among
    # officers; rows follow the household (village contacts: theirs; town officers: town)
    "care.dashboard": Route("district", "care.dashboard", deny=404, expect=_register_officer),
    "care.drill": Route("district", "care.dashboard", deny=404, expect=_register_officer),
    "care.roster": Route("district", "care.read", deny=404, expect=_register_officer),
    "care.roster_export": Route("district", "care.export", deny=404, expect=_register_officer),
    "care.mine": _care("care.visit"),
    # the town officer's contact persons (no reason / no contact chosen: refused, 302)
    "care.contacts": _care("care.contacts", ok={"GET": 200, "POST": 400}),
    "care.deactivate_contact": _care("care.contacts", {"contact_id": _care_sample("Contact")}, 302),
    "care.assign": _care("care.contacts", HOUSEHOLD, 302),
    "care.reassign": _care("care.contacts", {"assignment_id": _care_sample("Assignment")}, 302),
    # the town's village-contact accounts (the register's account operations): an empty
    # form is refused (400); "reactivate" an active account changes nothing (302); a
    # reset without its confirmation box is refused (400) — the matrix's village contact
    # keeps its password and session
    "care.accounts": _care("care.contacts", ok={"GET": 200, "POST": 400}),
    "care.account_active": _care(
        "care.contacts",
        {"user_id": _register_account("village_contact")},
        302,
        data={"active": "1"},
    ),
    "care.account_reset": _care(
        "care.contacts",
        {"user_id": _register_account("village_contact")},
        {"GET": 200, "POST": 400},
    ),
    "care.household": _care("care.read", HOUSEHOLD, expect=_register_officer),
    "care.record_visit": _care(
        "care.visit",
        HOUSEHOLD,
        302,
        data={"kind": "phone", "visited_on": "2026-01-05", "findings": "matrix"},
    ),
    # no member chosen: refused beside the field (400), nothing written
    "care.record_contract": _care("care.health", HOUSEHOLD, 400, expect=_register_officer),
    "care.record_checkup": _care(
        "care.health", HOUSEHOLD, 400, data={"done_on": "2026-01-05"}, expect=_register_officer
    ),
    # correct-by-delete: the confirmation page; a POST without a reason is refused (400)
    "care.delete_checkup": _care(
        "care.health",
        {**HOUSEHOLD, "checkup_id": _checkup_sample},
        {"GET": 200, "POST": 400},
        expect=_register_officer,
    ),
    # -- families register (portal/register): a town officer, a village contact and the
    # eligibility officer are covered by tests/register/test_scope.py
    "register.index": _register_route("register.read"),
    "register.search": _register_route("register.read", ok=302),
    "register.export_full": _register_route("register.export_full", ok=302),
    "register.export": _register_route("register.export"),
    "register.household": _register_route("register.read", "Household"),
    "register.reveal": _register_route("register.reveal", "Person", ok=302),
    "register.propose": _register_route(
        "register.propose", ok={"GET": 200, "POST": 400}, expect=None
    ),
    "register.propose_change": _register_route(
        "register.propose", "Household", ok=302, expect=None
    ),
    "register.propose_exit": _register_route("register.propose", "Household", ok=302, expect=None),
    "register.requests_queue": _register_route("register.read"),
    "register.decide": _register_route("register.confirm", "ChangeRequest", ok=302),
    "register.confirm_batch": Route(
        "district",
        "register.confirm",
        ids={"batch": lambda s, c: "import-none"},
        ok=302,
        deny=404,
        expect=_register_officer,
    ),
    "register.areas": _register_route(
        "register.read", ok={"GET": 200, "POST": 400}, expect=_register_areas
    ),
    "register.import_sheet": _register_route(
        "register.import", ok={"GET": 200, "POST": 400}, expect=None
    ),
    # no upload under this token: 404 for everyone (an upload's progress is its owner's)
    "register.import_progress": Route(
        "district", "register.import", ids={"token": lambda s, c: "0" * 32}, ok=404, deny=404
    ),
    # accounts: empty forms answer 400 (nothing changes); "reactivate" an active
    # account changes nothing (302); another district's account is 404
    "register.accounts_page": Route("district", "register.contacts", deny=404),
    "register.bind_officer": _contact_account("register.officers", "town_officer", 400),
    "register.create_contact": Route("district", "register.contacts", ok=400, deny=404),
    "register.reassign_contact": _contact_account("register.contacts", "village_contact", 400),
    "register.contact_active": _contact_account(
        "register.contacts", "village_contact", 302, data={"active": "1"}
    ),
    "register.contact_households": _contact_account(
        "register.contacts",
        "village_contact",
        {"GET": 200, "POST": 400},
        data={"household": "not-a-household"},
    ),
    # -- benefits (portal/benefits): the matrix's officer (civil affairs) is neither the
    # eligibility (卫健) nor the finance (财政) department: 404 everywhere
    "benefits.index": _benefits("benefits.read", cycle=False),
    "benefits.create": _benefits("benefits.compute", cycle=False, ok=400),
    "benefits.cycle": _benefits("benefits.read"),
    "benefits.step": _benefits("benefits.read", ok=400),
    "benefits.bank_file": _benefits("benefits.pay"),
    "benefits.results": _benefits("benefits.pay"),
    "benefits.funding": _benefits("benefits.export"),
    "benefits.claims": Route("district", "benefits.read", deny=404, expect=_benefit_claims),
    "benefits.bank_file_layout": Route(
        "district", "district.configure", ok={"GET": 200, "POST": 400}, deny=404
    ),
    # care (portal/care/api.py): the civil-affairs officer gets 404 like on the pages; a
    # visit without the household's row_version is refused (400)
    "api.care_households": Route("api", "care.read", expect=_register_officer),
    "api.care_household": Route("api", "care.read", ids=HOUSEHOLD, expect=_register_officer),
    "api.care_visits": Route("api", "care.read", ids=HOUSEHOLD, expect=_register_officer),
    "api.care_record_visit": Route("api", "care.visit", ids=HOUSEHOLD, ok=400),
    "api.households": Route("api", "register.read", expect=_register_officer),
    "api.households_search": Route("api", "register.read", ok=400, expect=_register_officer),
    "api.household": Route(
        "api",
        "register.read",
        ids={"household_id": _register_sample("Household")},
        expect=_register_officer,
    ),
    # -- JSON API
    "api.me": Route("api", "account.self"),
    "api.departments": Route("api", "district.home"),
    "api.department": Route("api", "district.home", ids={"department_id": "Department"}),
    "api.duties_list": Route("api", "duty.read"),
    "api.duty_detail": Route("api", "duty.read", ids={"duty_id": "Duty"}),
    "api.entries_list": Route("api", "duty.read", ids={"duty_id": "Duty"}),
    "api.entry_create": Route("api", "duty.log", ids={"duty_id": "Duty"}, ok=400),
    "api.duty_sign_off": Route("api", "duty.sign_off", ids={"duty_id": "Duty"}, ok=400),
    "api.duty_review": Route("api", "duty.review", ids={"duty_id": "Duty"}, ok=400),
    "api.policy": Route("api", "policy.read"),
    "api.platform_tenants": Route("api", "platform.console"),
    "api.platform_tenant": Route("api", "platform.console", ids={"tenant_slug": _tenant_slug}),
    "api.platform_tenant_status": Route(
        "api", "tenant.manage", ids={"tenant_slug": _tenant_slug}, ok=400
    ),
    "api.platform_onboard": Route("api", "tenant.manage", ok=400),
    "api.meetings": Route("api", "meeting.read"),
    "api.create_meeting": Route("api", "meeting.manage", ok=400),
    "api.meeting": Route("api", "meeting.read", ids={"meeting_id": "Meeting"}),
    "api.agenda": Route("api", "meeting.read", ids={"meeting_id": "Meeting"}),
    "api.reports": Route("api", "meeting.read", ids={"meeting_id": "Meeting"}),
    "api.report": Route("api", "meeting.read", ids={"report_id": "DepartmentReport"}),
    "api.update_report": Route(
        "api", "meeting.report", ids={"report_id": "DepartmentReport"}, ok=400
    ),
    "api.action_items": Route("api", "meeting.read"),
    "api.action_item": Route("api", "meeting.read", ids={"item_id": "ActionItem"}),
    "api.update_action_item": Route(
        "api", "action_item.update", ids={"item_id": "ActionItem"}, ok=400
    ),
}


# -- Flask-Admin (portal/admin/views.py). Issues 13 and 19: the district back office is
# the lead's alone (officers and auditors get 404, like a page that does not exist);
# leads change departments and accounts and read every other tenant-owned model;
# the platform admin: operators only.
ADMIN_WRITABLE = {"tadmin_departments": "Department", "tadmin_users": "User"}
ADMIN_PERM = "district.configure"


def _admin_allowed(writable: bool, creatable: bool, export_perm: str):  # type: ignore[no-untyped-def]
    """Statuses of Flask-Admin's routes for a role allowed to read the view."""

    def allowed(role: str, ctx: str, method: str, name: str) -> int:
        from portal.auth.models import Role
        from portal.kernel.grants import GRANTS

        writer = writable and Role(ROLE_VALUES[role]) in GRANTS["district.configure"]
        out_of_scope = ctx == OTHER_RECORD or (ctx == OTHER_DEPT and role == "officer")
        if name == "index_view":
            return 200
        if name == "details_view":
            return 404 if out_of_scope else 200
        if name == "edit_view":
            if not writer:
                return 302
            return 404 if out_of_scope else 200  # POST {}: the form re-renders with errors
        if name == "create_view":
            return 200 if writer and creatable else 302
        if name in ("delete_view", "action_view"):
            return 302  # no id / no action: back to the list
        if name == "export":
            return 200 if Role(ROLE_VALUES[role]) in GRANTS[export_perm] else 302
        if name == "ajax_lookup":
            return 404  # no ajax look-ups configured
        if name == "ajax_update":
            return 404  # no list-editable columns
        raise AssertionError(f"unknown Flask-Admin route {name}")

    return allowed


def admin_routes(app: Any) -> dict[str, Route]:
    """Classification of every Flask-Admin endpoint, by view."""
    from portal.extensions import db

    tables = {m.local_table.name: m.class_ for m in db.Model.registry.mappers}
    routes: dict[str, Route] = {}
    for endpoint in app.view_functions:
        view, _, name = endpoint.partition(".")
        if view not in ("tadmin", "padmin") and not view.startswith(("tadmin_", "padmin_")):
            continue
        if name == "static":  # Flask-Admin's assets, under the admin's URL
            routes[endpoint] = Route(
                "district" if view == "tadmin" else "public",
                "district.home",
                ids={"filename": lambda s, c: "admin/css/bootstrap4/admin.css"},
                expect=_admin_static if view == "tadmin" else None,
            )
            continue
        if view == "tadmin":
            routes[endpoint] = Route("district", ADMIN_PERM, deny=404)
            continue
        if view == "padmin":
            routes[endpoint] = Route("platform", "platform.console")
            continue
        if view.startswith("padmin_"):
            routes[endpoint] = _admin_route(
                "platform", "platform.console", name, None, False, False, "platform.console", 403
            )
            continue
        table = view.removeprefix("tadmin_")
        if view in ADMIN_WRITABLE:
            model_name = ADMIN_WRITABLE[view]
            writable, creatable = True, view == "tadmin_departments"
        else:
            model_name = tables[table].__name__
            writable = creatable = False
        routes[endpoint] = _admin_route(
            "district", ADMIN_PERM, name, model_name, writable, creatable, ADMIN_PERM, 404
        )
    return routes


def _admin_static(role: str, ctx: str, method: str) -> int:
    """No sign-in needed; a signed-in user of another tenant still gets 404."""
    if role == "anon" or (ctx == OWN and role != "operator"):
        return 200
    return 404


def _admin_route(  # type: ignore[no-untyped-def]
    kind, perm, name, model_name, writable, creatable, export_perm, deny
) -> Route:
    allowed = _admin_allowed(writable, creatable, export_perm)
    query: dict[str, Any] = {}
    ids: dict[str, Any] = {}
    if name in ("details_view", "edit_view") and model_name:
        query["id"] = model_name
    elif name in ("details_view", "edit_view"):
        query["id"] = _tenant_id
    if name == "export":
        ids["export_type"] = lambda s, c: "csv"
    if name == "ajax_lookup":
        query["name"] = lambda s, c: "department"
    return Route(
        kind,
        perm,
        ids=ids,
        query=query,
        deny=deny,
        optional_samples=True,
        allowed=lambda role, ctx, method: allowed(role, ctx, method, name),
    )


def _tenant_id(samples: Samples, ctx: str) -> Any:
    return samples.tenants[B]


class Samples:
    """Real record ids from the matrix database, per context."""

    def __init__(self, app: Any) -> None:
        from portal.auth.models import User
        from portal.extensions import db
        from portal.tenancy import scope
        from portal.tenancy.models import Tenant

        self.app = app
        with app.app_context(), scope.cross_tenant("access matrix samples"):
            self.tenants = dict(db.session.execute(sa.select(Tenant.slug, Tenant.id)).all())
            users = db.session.execute(
                sa.select(User).where(User.username.in_(USERS.values()))
            ).scalars()
            by_name = {u.username: u for u in users}
            self.protected_user_ids = {u.id for u in by_name.values()}
            self.officer_department_id = by_name[USERS["officer"]].department_id
            db.session.remove()
        self._cache: dict[tuple[str, str], Any] = {}

    def user_id(self, slug: str, role: str) -> uuid.UUID:
        from portal.auth.models import User
        from portal.extensions import db
        from portal.tenancy import scope

        with self.app.app_context(), scope.tenant_scope(self.tenants[slug]):
            found = db.session.execute(
                sa.select(User.id).where(User.role == role).order_by(User.username)
            ).scalar()
            db.session.remove()
        assert found, f"no {role} in {slug}"
        return found

    def record(self, model_name: str, ctx: str, required: bool = True) -> Any:
        key = (model_name, ctx)
        if key not in self._cache:
            self._cache[key] = self._find(model_name, ctx)
        assert self._cache[key] is not None or not required, (
            f"the demo has no {model_name} row for context {ctx!r}: add demo data or give "
            "the route's ids a callable in tests/test_access_matrix.py"
        )
        return self._cache[key]

    def _find(self, model_name: str, ctx: str) -> Any:
        from portal.extensions import db
        from portal.tenancy import scope

        cls = db.Model.registry._class_registry.get(model_name)
        assert cls is not None, f"no mapped class {model_name!r} (used in ROUTES ids)"
        dept_owned = getattr(cls, "__department_owned__", False)
        slug = B if ctx in (OTHER_RECORD, OTHER_TENANT) else A
        department = self.officer_department_id if ctx == OWN and dept_owned else None
        query = sa.select(cls).order_by(cls.id)
        if ctx == OTHER_DEPT:
            query = query.where(sa.not_(cls.department_criteria(self.officer_department_id)))
        if hasattr(cls, "username"):
            query = query.where(cls.id.not_in(self.protected_user_ids))
        if model_name == "Department":
            query = query.where(cls.id != self.officer_department_id)
        with self.app.app_context(), scope.tenant_scope(self.tenants[slug], department):
            row = db.session.execute(query.limit(1)).unique().scalar()
            found = row.id if row is not None else None
            db.session.remove()
        return found


@pytest.fixture(scope="module")
def matrix_app(databases):  # type: ignore[no-untyped-def]
    with demo_app(databases) as application:
        yield application


def _contexts(route: Route, samples: Samples) -> list[str]:
    if route.kind == "district":
        contexts = [OWN, OTHER_TENANT]
    elif route.kind == "api":
        contexts = [OWN]
    else:
        return [OWN]
    models = [
        m if isinstance(m, str) else m.model
        for m in [*route.ids.values(), *route.query.values()]
        if isinstance(m, str) or hasattr(m, "model")
    ]
    if models:
        contexts.append(OTHER_RECORD)
    if any(_dept_owned(m) for m in models):
        contexts.append(OTHER_DEPT)
    return contexts


def _dept_owned(model_name: str) -> bool:
    from portal.extensions import db

    cls = db.Model.registry._class_registry.get(model_name)
    return bool(getattr(cls, "__department_owned__", False))


def allowed(route: Route, role: str) -> bool:
    from portal.auth.models import Role
    from portal.kernel.grants import GRANTS

    return Role(ROLE_VALUES[role]) in GRANTS[route.perm]  # type: ignore[index]


def expected(route: Route, role: str, ctx: str, method: str) -> int:
    if route.expect is not None:
        status = route.expect(role, ctx, method)
        if status is not None:
            return status
    ok = route.ok[method] if isinstance(route.ok, Mapping) else route.ok
    if route.kind == "public":
        return ok
    if role == "anon":
        return 401 if route.kind == "api" else 302
    if route.kind == "account":
        return ok
    if route.kind == "platform":
        if not allowed(route, role):
            return route.deny
        return route.allowed(role, ctx, method) if route.allowed else ok
    if route.kind == "district" and (role == "operator" or ctx == OTHER_TENANT):
        return 404
    if not allowed(route, role):
        return route.deny
    if route.allowed is not None:
        return route.allowed(role, ctx, method)
    if ctx == OTHER_RECORD:
        return 404
    if ctx == OTHER_DEPT and role == "officer":
        return 404
    return ok


def route_url(app: Any, endpoint: str, route: Route, ctx: str, samples: Samples) -> str | None:
    """The URL for one context, or None when the demo lacks an optional sample."""
    values: dict[str, Any] = {}
    required = not route.optional_samples
    for name, source in [*route.ids.items(), *route.query.items()]:
        if callable(source):
            values[name] = source(samples, ctx)
        else:
            values[name] = samples.record(source, ctx, required)
            if values[name] is None:
                return None
    if route.kind == "district":
        values["slug"] = B if ctx == OTHER_TENANT else A
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


class Clients:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._clients: dict[str, Browser] = {}
        self._csrf: dict[str, str] = {}

    def login(self, role: str) -> Browser:
        b = Browser(self.app)
        if role != "anon":
            r = b.login(USERS[role])
            assert r.status_code == 302, f"{USERS[role]} cannot sign in: {r.status_code}"
        return b

    def get(self, role: str) -> Browser:
        if role not in self._clients:
            self._clients[role] = self.login(role)
        return self._clients[role]

    def forget(self, role: str) -> None:
        self._clients.pop(role, None)
        self._csrf.pop(role, None)

    def csrf(self, role: str, client: Browser) -> str:
        if role not in self._csrf:
            self._csrf[role] = client.csrf("/login" if role == "anon" else "/account/password")
        return self._csrf[role]

    def bearer(self, role: str) -> dict[str, str]:
        if role == "anon":
            return {}
        key = f"token:{role}"
        if key not in self._csrf:
            from portal.auth import services
            from portal.auth.models import User
            from portal.extensions import db

            with self.app.app_context():
                user = db.session.execute(
                    sa.select(User).filter_by(username=USERS[role])
                ).scalar_one()
                _token, secret = services.create_token(user, "access matrix", None)
                db.session.commit()  # services never commit
                db.session.remove()
            self._csrf[key] = secret
        return {"Authorization": f"Bearer {self._csrf[key]}"}


def _methods(rule: Any) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def all_routes(app: Any) -> dict[str, Route]:
    return {**ROUTES, **admin_routes(app)}


def test_every_url_rule_is_classified(matrix_app) -> None:  # type: ignore[no-untyped-def]
    endpoints = {rule.endpoint: rule.rule for rule in matrix_app.url_map.iter_rules()}
    missing = sorted(set(endpoints) - set(all_routes(matrix_app)))
    assert not missing, (
        "URL rules not classified in the access matrix: "
        + ", ".join(f"{e} ({endpoints[e]})" for e in missing)
        + ". Add each endpoint to ROUTES in tests/test_access_matrix.py, e.g. "
        f'"{missing[0]}": Route("district", "<permission>", ids={{"<param>": "<Model>"}}) '
        "— the module docstring says how."
    )
    stale = sorted(set(all_routes(matrix_app)) - set(endpoints))
    assert not stale, f"ROUTES classifies endpoints the app no longer has: {stale}"


def test_classified_permissions_match_the_views(matrix_app) -> None:  # type: ignore[no-untyped-def]
    from portal.kernel.grants import GRANTS

    wrong = []
    for endpoint, route in ROUTES.items():
        view = matrix_app.view_functions.get(endpoint)
        declared = getattr(view, "required_permission", None)
        if route.kind in ("district", "platform", "api"):
            if route.perm not in GRANTS:
                wrong.append(f"{endpoint}: unknown permission {route.perm!r}")
            elif declared is not None and declared != route.perm:
                wrong.append(f"{endpoint}: classified {route.perm!r}, view requires {declared!r}")
    assert not wrong, "\n".join(wrong)


def test_access_matrix(matrix_app) -> None:  # type: ignore[no-untyped-def]
    samples = Samples(matrix_app)
    clients = Clients(matrix_app)
    rules = sorted(matrix_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    failures: list[str] = []
    cells = 0
    routes = all_routes(matrix_app)
    skipped: list[str] = []
    for rule in rules:
        route = routes.get(rule.endpoint)
        if route is None:
            continue  # reported by test_every_url_rule_is_classified
        for ctx in _contexts(route, samples):
            url = route_url(matrix_app, rule.endpoint, route, ctx, samples)
            if url is None:
                skipped.append(f"{rule.endpoint} ({ctx})")
                continue
            for role in ROLES:
                for method in _methods(rule):
                    want = expected(route, role, ctx, method)
                    client = clients.login(role) if route.fresh_client else clients.get(role)
                    kw: dict[str, Any] = {}
                    if route.kind == "api":
                        kw["headers"] = clients.bearer(role)
                    elif method == "POST":
                        token = (
                            client.csrf("/login" if role == "anon" else "/account/password")
                            if route.fresh_client
                            else clients.csrf(role, client)
                        )
                        kw["data"] = {**route.data, "csrf_token": token}
                    response = client.client.open(url, method=method, buffered=True, **kw)
                    response.close()  # streamed exports hold their request context until closed
                    cells += 1
                    if route.fresh_client:  # sign-out ends every session of the user
                        clients.forget(role)
                    if response.status_code != want:
                        failures.append(
                            f"{method} {url} [{rule.endpoint}] as {role} ({ctx}): "
                            f"got {response.status_code}, expected {want}"
                        )
        # a method the rule does not take
        if "DELETE" not in rule.methods:
            url = route_url(matrix_app, rule.endpoint, route, OWN, samples)
            if url is None:
                continue
            response = clients.get("anon").client.open(url, method="DELETE")
            cells += 1
            if response.status_code != 405:
                failures.append(f"DELETE {url}: got {response.status_code}, expected 405")
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)
    if skipped:
        print(f"access matrix: {cells} cells; skipped (no demo record): {', '.join(skipped)}")
