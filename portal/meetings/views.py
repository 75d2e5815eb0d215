"""Joint-meeting pages under /t/<slug>/meetings (thin: rules live in the operations).

Leads prepare, hold, minute and follow up meetings; officers see the meetings their
department is invited to, write and submit their department's report, comment on
circulated minutes and update/close their department's action items; auditors read.
Out-of-scope ids answer 404 (the scoped session finds nothing).

Every write goes through `attempt` (the kernel's unit of work): on success the request
commits once and the page is shown again at the form's anchor; on a broken rule the
same page is rendered with everything the user typed, the message beside the field and
a summary at the top of that form (its action URL carries the form's anchor, so the
browser scrolls to it).

This module holds the blueprint, the labels, the shared form helpers, the list, create
and arrangement pages and the home panels; the meeting page's forms are in
`views_meeting.py`, reports, exports and action items in `views_followup.py`. URLs and
endpoint names (`meetings.<function>`) are the blueprint's, wherever the function lives.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal import listing
from portal.extensions import db
from portal.kernel import clock, memo, periods
from portal.kernel.grants import can, requires
from portal.kernel.labels import labeller
from portal.kernel.periods import Period
from portal.kernel.rules import RuleError
from portal.kernel.uow import attempt
from portal.meetings import arrangement as arrangement_ops
from portal.meetings import audit_actions as vocabulary
from portal.meetings import queries, rules
from portal.meetings.models import (
    ActionStatus,
    Attendance,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MinutesStatus,
    ReportStatus,
)
from portal.policy import labels as policy_labels
from portal.tenancy import scope
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav
from portal.webhelpers import found_or_404

T = TypeVar("T")

bp = Blueprint("meetings", __name__, url_prefix="/t/<slug>/meetings", template_folder="templates")

register_nav(NavItem(_l("Joint meetings"), "meetings.index", "meeting.read", order=40))
register_nav(NavItem(_l("Action items"), "meetings.action_items", "meeting.read", order=41))

# The labels of the meeting codes are the audit vocabulary's (one translation of each); the
# codes are StrEnums, so a label is found by the member or by its value alike.
KIND_LABELS = {k: vocabulary.KIND_LABELS[k] for k in MeetingKind}
ATTENDANCE_LABELS = {a: vocabulary.ATTENDANCE_LABELS[a] for a in Attendance}
MINUTES_LABELS = {s: vocabulary.STATUS_LABELS[s] for s in MinutesStatus}
REPORT_LABELS = {
    ReportStatus.draft: _l("being written"),
    ReportStatus.submitted: _l("submitted"),
}
ACTION_LABELS = {s: vocabulary.STATUS_LABELS[s] for s in ActionStatus}
DECISION_STATE_LABELS = {
    "no_action": _l("no action item"),
    "open": _l("in progress"),
    "overdue": _l("overdue"),
    "done": _l("done"),
}
MEETING_STATUS_LABELS = {s: vocabulary.STATUS_LABELS[s] for s in MeetingStatus}
kind_label = labeller(KIND_LABELS)
action_label = labeller(ACTION_LABELS)
meeting_status_label = labeller(MEETING_STATUS_LABELS)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "meeting_labels": {
            "kind": KIND_LABELS,
            "attendance": ATTENDANCE_LABELS,
            "minutes": MINUTES_LABELS,
            "report": REPORT_LABELS,
            "action": ACTION_LABELS,
            "decision": DECISION_STATE_LABELS,
            "status": MEETING_STATUS_LABELS,
        },
        "render_md": queries.render_markdown,
        # the cadence in the policy vocabulary (portal.policy.labels), not a copy of it
        "cadence_label": policy_labels.cadence_label,
        "meeting_open_action_items": _open_action_items_for_lists,
        "meeting_today": clock.today,
    }


def _open_action_items_for_lists() -> list[dict[str, Any]] | None:
    """The officer's department's open action items for their duty list (None for other
    roles: the lead follows them up on the action-item page). Plain rows, kept a few
    seconds per department and day (`kernel.memo`): the duty list is the officer's most
    viewed page and loading the items with their meetings cost a fifth of it."""
    if not can(current_user, "action_item.update"):
        return None
    current = scope.current()
    today = clock.today()

    def load() -> tuple[dict[str, Any], ...]:
        stmt = queries.action_items_query(status="open").limit(50)
        return tuple(
            {
                "text": a.text,
                # the meeting may be out of the officer's sight (not invited): no number
                "department": a.department.name if a.department else "",
                "meeting_id": a.meeting_id,
                "meeting": a.meeting.number if a.meeting else "",
                "due_date": a.due_date,
                "overdue": a.is_overdue(today),
            }
            for a in db.session.execute(stmt).unique().scalars()
        )

    key = ("open_action_items", current.tenant_id, current.department_id, today)
    return list(memo.remembered(key, load, current.tenant_id))


def meeting_or_404(meeting_id: uuid.UUID) -> Meeting:
    return found_or_404(queries.get_meeting(meeting_id))


def on_meeting(rule: str, grant: str, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """A route under one meeting, `/<meeting_id>{rule}`: sign-in and `grant` checked first,
    then the meeting found in scope (404 otherwise) and handed to the view in place of
    its id; the endpoint keeps the view's name."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def with_meeting(meeting_id: uuid.UUID, **args: Any) -> Any:
            return view(meeting_or_404(meeting_id), **args)

        return bp.route(f"/<uuid:meeting_id>{rule}", methods=list(methods))(
            requires(grant)(with_meeting)
        )

    return register


class FormState:
    """One submitted form: what was typed, and the messages beside its fields."""

    def __init__(self, name: str, data: Any = None) -> None:
        self.name = name
        self.data = data if data is not None else MultiDict()
        self.errors: dict[str, list[str]] = {}
        self.form_errors: list[str] = []

    def get(self, key: str, default: Any = "") -> Any:
        return self.data.get(key, default)

    def getlist(self, key: str) -> list[str]:
        return self.data.getlist(key) if hasattr(self.data, "getlist") else []

    def input(self, cls: type[T], **given: Any) -> T:
        """A service's input dataclass: each field from the form field of its name, but
        those `given`."""
        typed = {f.name: self.get(f.name) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{**typed, **given})

    def add(self, error: RuleError) -> None:
        per_row = getattr(error, "errors", None)
        if isinstance(per_row, dict):
            for key, message in per_row.items():
                self.errors.setdefault(key, []).append(message)
        if error.field and not per_row:
            self.errors.setdefault(error.field, []).append(str(error.message))
        else:
            self.form_errors.append(str(error.message))

    def error(self, key: str) -> list[str]:
        return self.errors.get(key, [])

    @property
    def summary(self) -> list[str]:
        return self.form_errors + [m for ms in self.errors.values() for m in ms if m]


def run_form(meeting: Meeting, form: FormState, action: Any, anchor: str) -> Any:
    """Run one operation; redirect to the form's anchor on success, or render the
    meeting page again with the input kept and the messages beside the fields."""
    outcome = attempt(action)
    if outcome.ok:
        flash(outcome.value, "success")
        return redirect(meeting_url(meeting, anchor))
    if outcome.status in (403, 404):
        abort(outcome.status)
    form.add(outcome.error)  # type: ignore[arg-type]
    return render_detail(meeting, {form.name: form}), outcome.status


def meeting_url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("meetings.detail", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")


# --- list, create, arrangement ---------------------------------------------------------


def like_pattern(text: str) -> str:
    return f"%{text.replace('%', '').replace('_', '')}%"


MEETING_COLUMNS = [
    listing.Column(
        "number", _l("Number"), lambda m: m.number, sort=(Meeting.year, Meeting.sequence)
    ),
    listing.Column("title", _l("Title"), lambda m: m.title, sort=Meeting.title),
    listing.Column(
        "kind",
        _l("Kind"),
        lambda m: kind_label(m.kind) + (f" · {periods.label(m.period)}" if m.period else ""),
        sort=Meeting.kind,
    ),
    listing.Column("date", _l("Date"), lambda m: m.meeting_date, sort=Meeting.meeting_date),
    listing.Column("place", _l("Place"), lambda m: m.place, sort=Meeting.place),
    listing.Column(
        "state",
        _l("State"),
        lambda m: meeting_status_label(m.status),
        sort=Meeting.status,
    ),
]


@bp.get("/")
@requires("meeting.read")
def index() -> Any:
    kind = request.args.get("kind", "")
    if kind not in {k.value for k in MeetingKind}:
        kind = ""
    search = listing.search_arg()
    lst = listing.Listing.from_request(
        "meetings.index",
        MEETING_COLUMNS,
        keep={"kind": kind, "q": search},
        title=_("Joint meetings"),
    )
    q = queries.meetings_query(kind=kind or None)
    if search:
        like = like_pattern(search)
        q = q.where(sa.or_(Meeting.title.ilike(like), Meeting.place.ilike(like)))
    return lst.answer(
        "meetings/list.html",
        q,
        tiebreak=(Meeting.id,),
        kind=kind,
        search=search,
        schedule=queries.schedule() if rules.can_manage(current_user) else None,
        today=clock.today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("meeting.manage")
def new() -> Any:
    sched = queries.schedule()
    form = FormState("new-meeting", request.form if request.method == "POST" else None)
    if request.method == "POST":
        data = form.input(
            arrangement_ops.MeetingInput, department_ids=form.getlist("departments") or None
        )
        outcome = attempt(lambda: arrangement_ops.create_meeting(current_user, data))
        if outcome.ok:
            meeting = outcome.value
            flash(
                _(
                    "Meeting %(number)s created; its agenda was drafted from live data.",
                    number=meeting.number,
                ),
                "success",
            )
            return redirect(meeting_url(meeting, "agenda"))
        form.add(outcome.error)  # type: ignore[arg-type]
        return render_template("meetings/new.html", form=form, **_new_context(sched)), (
            outcome.status
        )
    return render_template("meetings/new.html", form=form, **_new_context(sched))


def _new_context(sched: queries.Schedule) -> dict[str, Any]:
    today = clock.today()
    period = queries.suggested_period(sched)
    arr = queries.arrangement()
    return {
        "schedule": sched,
        "suggested_period": period.code,
        "periods": sorted(set(Period.choices(period, back=4, ahead=2)), reverse=True),
        "suggested_date": (sched.next_due if sched.next_due and sched.next_due >= today else today),
        "suggested_chair": arr.chief_convener if arr else "",
        "departments": queries.departments(),
        "members": {d.id for d in queries.member_departments(arr)},
        "request_key": uuid.uuid4().hex,
    }


@bp.route("/arrangement", methods=["GET", "POST"])
@requires("meeting.read")
def arrangement() -> Any:
    form = FormState("arrangement", request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not rules.can_manage(current_user):
            abort(403)
        data = arrangement_ops.ArrangementInput(
            name=form.get("name"),
            cadence=form.get("cadence"),
            chief_convener=form.get("chief_convener"),
            conveners=[c for c in form.get("conveners").splitlines() if c.strip()],
            office_department_id=form.get("office_department") or None,
            member_department_ids=form.getlist("member_departments"),
            note=form.get("note"),
        )
        outcome = attempt(
            lambda: arrangement_ops.update_arrangement(current_user, data, form.get("row_version"))
        )
        if outcome.ok:
            flash(_("The meeting arrangement was saved."), "success")
            return redirect(url_for("meetings.arrangement"))
        form.add(outcome.error)  # type: ignore[arg-type]
        status = outcome.status
    arr = queries.arrangement()
    return render_template(
        "meetings/arrangement.html",
        arrangement=arr,
        form=form,
        manage=rules.can_manage(current_user),
        departments=queries.departments(),
        members={d.id for d in queries.member_departments(arr)},
        cadences=queries.CADENCES,
    ), status


# --- one meeting ---------------------------------------------------------------------


def render_detail(meeting: Meeting, forms: dict[str, FormState] | None = None) -> str:
    minutes = queries.minutes_of(meeting)
    officer = rules.can_report(current_user)
    own_report = queries.get_report(meeting, current_user.department_id) if officer else None
    current_period = queries.meeting_period(meeting)
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        agenda=queries.agenda_for(current_user, meeting),
        tracking=queries.report_tracking(meeting),
        own_report=own_report,
        minutes=minutes,
        minutes_html=queries.render_markdown(minutes.body),
        comments=queries.minutes_comments(meeting),
        states=queries.decision_states(meeting),
        departments=queries.departments(),
        today=clock.today(),
        chinese_number=rules.chinese_number,
        manage=rules.can_manage(current_user),
        officer=officer,
        read_all=can(current_user, "district.read_all"),
        locked=minutes.locked,
        periods=sorted(set(Period.choices(current_period, back=4, ahead=2)), reverse=True),
        forms=forms or {},
        request_key=uuid.uuid4().hex,
        Attendance=Attendance,
        MinutesStatus=MinutesStatus,
        ActionStatus=ActionStatus,
    )


#: The longest text the preview renders (the longest Markdown field is well under it).
PREVIEW_MAX = 50_000


@bp.post("/preview")
@requires("meeting.read")
def preview_markdown() -> Any:
    """The live preview of a Markdown field: the same renderer and nh3 sanitiser as the
    saved view, so what the writer sees is what readers get. Writers only (the lead and
    reporting officers); it reads and stores nothing."""
    if not (can(current_user, "meeting.manage") or can(current_user, "meeting.report")):
        abort(403)  # like every write the role may not do (an auditor)
    text = request.form.get("text", "")
    if len(text) > PREVIEW_MAX:
        return Response(_("The text is too long to preview."), status=413, mimetype="text/plain")
    response = Response(queries.render_markdown(text), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- home panels ------------------------------------------------------------------------


def _lead_panel() -> dict[str, Any]:
    sched = queries.schedule()
    items = queries.action_items_query().order_by(None).subquery()
    open_now = items.c.status == ActionStatus.open
    open_items, overdue_items = db.session.execute(
        sa.select(
            sa.func.count().filter(open_now),
            sa.func.count().filter(open_now, items.c.due_date < clock.today()),
        )
    ).one()
    return {"schedule": sched, "open_items": open_items, "overdue_items": overdue_items}


def _officer_panel() -> dict[str, Any]:
    items = (
        db.session.execute(queries.action_items_query(status="open").limit(20))
        .unique()
        .scalars()
        .all()
    )
    return {
        "invitations": queries.pending_invitations(),
        "action_items": items,
        "today": clock.today(),
    }


register_home_panel(HomePanel("meetings/_lead_panel.html", "meeting.manage", _lead_panel, order=20))
register_home_panel(
    HomePanel("meetings/_officer_panel.html", "meeting.report", _officer_panel, order=20)
)


# The meeting page's forms and the follow-up pages add their routes to `bp` (imported
# last: they use the helpers above).
from portal.meetings import views_care, views_followup, views_meeting  # noqa: E402, F401
