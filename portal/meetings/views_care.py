"""Care follow-ups on a meeting (thin; rules in `care_followups`): the visits whose
follow-up is needed, each turned into an action item of one of the meeting's decisions
or linked to an open item. Routes on the meetings blueprint; the lead's (meeting.manage)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.kernel.uow import attempt
from portal.meetings import care_followups, decisions, queries
from portal.meetings.models import Meeting
from portal.meetings.rules import MeetingError
from portal.meetings.views import FormState, on_meeting


def _page(meeting: Meeting, forms: dict[str, FormState] | None = None) -> str:
    followups = care_followups.open_followups()
    return render_template(
        "meetings/care_followups.html",
        meeting=meeting,
        followups=followups,
        drafts={f.visit.id: care_followups.draft_text(f) for f in followups},
        decisions=queries.decisions(meeting),
        departments=queries.departments(),
        open_items=care_followups.open_items(meeting.id),
        forms=forms or {},
    )


def _run(meeting: Meeting, form: FormState, action: Any, done: str) -> Any:
    outcome = attempt(action)
    if outcome.ok:
        flash(done, "success")
        return redirect(url_for("meetings.care_followups_page", meeting_id=meeting.id))
    if outcome.status in (403, 404) and outcome.error and outcome.error.field is None:
        abort(outcome.status)  # the visit is out of scope or has no follow-up
    form.add(outcome.error)  # type: ignore[arg-type]
    return _page(meeting, {form.name: form}), 400


@on_meeting("/care-followups", "meeting.manage", methods=("GET",))
def care_followups_page(meeting: Meeting) -> Any:
    return _page(meeting)


@on_meeting("/care-followups/<uuid:visit_id>", "meeting.manage")
def followup_action(meeting: Meeting, visit_id: uuid.UUID) -> Any:
    """Action items of a decision of this meeting taking up the visit's follow-up."""
    form = FormState(f"visit-{visit_id}", request.form)
    chosen = form.get("decision_id")
    decision = next((d for d in queries.decisions(meeting) if str(d.id) == chosen), None)

    def run() -> Any:
        if decision is None:
            raise MeetingError(_("Choose a decision of this meeting."), field="decision_id")
        data = decisions.ActionInput(
            form.get("action_text"), form.getlist("departments"), form.get("due_date")
        )
        return care_followups.action_from_visit(current_user, decision, visit_id, data)

    return _run(meeting, form, run, _("The follow-up is now an action item."))


@on_meeting("/care-followups/<uuid:visit_id>/link", "meeting.manage")
def followup_link(meeting: Meeting, visit_id: uuid.UUID) -> Any:
    """Link an open action item that already covers the follow-up."""
    form = FormState(f"link-{visit_id}", request.form)
    return _run(
        meeting,
        form,
        lambda: care_followups.link_visit(current_user, form.get("item_id"), visit_id),
        _("The follow-up is linked to the action item."),
    )
