"""站内消息 and 通知公告 pages (thin: rules in operations, reads in queries).

District pages live under /t/<slug>/messages and /t/<slug>/notices; the operator posts
notices to every district from /platform/notices.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from portal import listing
from portal.extensions import db
from portal.kernel import clock
from portal.kernel.forms import PortalForm
from portal.kernel.grants import can, requires
from portal.kernel.labels import labeller
from portal.kernel.uow import attempt
from portal.messages import operations, queries
from portal.messages.models import Message, MessageKind, Notice
from portal.ui import NavItem, badge, register_badge, register_nav
from portal.webhelpers import found_or_404

bp = Blueprint("messages", __name__, url_prefix="/t/<slug>", template_folder="templates")
platform_bp = Blueprint("platform_notices", __name__, url_prefix="/platform")

register_nav(NavItem(_l("Messages"), "messages.index", "message.read", order=2))
register_nav(NavItem(_l("Notices"), "messages.notices", "notice.read", order=3))
register_nav(
    NavItem(_l("Notices"), "platform_notices.index", "platform.notice", order=3, group="workbench")
)


KIND_LABELS = {
    MessageKind.duty_returned: _l("Duty returned"),
    MessageKind.duty_accepted: _l("Duty accepted"),
    MessageKind.action_item_assigned: _l("Action item assigned"),
    MessageKind.meeting_invited: _l("Meeting invitation"),
    MessageKind.duty_due_soon: _l("Duty due soon"),
    MessageKind.duty_overdue: _l("Duty overdue"),
    MessageKind.report_requested: _l("Report requested"),
}
kind_label = labeller(KIND_LABELS)
DETAIL_LABELS = {
    MessageKind.duty_returned: _l("Reason"),
    MessageKind.duty_accepted: _l("Note"),
    MessageKind.action_item_assigned: _l("Due date"),
    MessageKind.meeting_invited: _l("Meeting date"),
    MessageKind.duty_due_soon: _l("Due date"),
    MessageKind.duty_overdue: _l("Due date"),
    MessageKind.report_requested: _l("Meeting date"),
}
REF_ENDPOINTS = {
    "Duty": ("duties.detail", "duty_id"),
    "Meeting": ("meetings.detail", "meeting_id"),
    "MeetingReport": ("meetings.my_report", "meeting_id"),
    "ActionItem": ("meetings.action_items", None),
}


class NoticeForm(PortalForm):
    title = StringField(_l("Title"), validators=[Length(max=operations.MAX_TITLE)])
    body = TextAreaField(_l("Text"), validators=[Length(max=operations.MAX_BODY)])


def unread_badge() -> sa.Select | None:
    """The menu badge: the signed-in user's unread messages (counted with the other badges)."""
    if not can(current_user, "message.read") or current_user.tenant_id is None:
        return None
    return queries.unread_query(current_user)


def unread_messages() -> int:
    """The signed-in user's unread count, as the menu badge shows it (no extra query)."""
    return badge("messages.index") or 0


register_badge("messages.index", unread_badge)


def message_link(message: Any) -> str | None:
    endpoint = REF_ENDPOINTS.get(message.ref_type)
    if endpoint is None or message.ref_id is None:
        return None
    name, param = endpoint
    return url_for(name, **({param: message.ref_id} if param else {}))


MESSAGE_COLUMNS = [
    listing.Column("kind", _l("Type"), lambda m: kind_label(m.kind), sort=Message.kind),
    listing.Column("subject", _l("About"), lambda m: m.subject, sort=Message.subject),
    listing.Column("detail", _l("Details"), lambda m: m.detail),
    listing.Column("actor", _l("Sent by"), lambda m: m.actor_name or "—", sort=Message.actor_name),
    listing.Column(
        "received",
        _l("Received"),
        lambda m: clock.local(m.created_at, g.tenant),
        sort=Message.created_at,
    ),
    listing.Column(
        "read",
        _l("Read"),
        lambda m: clock.local(m.read_at, g.tenant) if m.read_at else _("Unread"),
        sort=Message.read_at,
    ),
]
NOTICE_COLUMNS = [
    listing.Column("title", _l("Title"), lambda r: r[0].title, sort=Notice.title),
    listing.Column(
        "posted_by",
        _l("Posted by"),
        lambda r: r[0].posted_by_name or "—",
        sort=Notice.posted_by_name,
    ),
    listing.Column(
        "posted",
        _l("Posted"),
        lambda r: clock.local(r[0].posted_at, g.tenant),
        sort=Notice.posted_at,
    ),
    listing.Column(
        "read", _l("Read"), lambda r: clock.local(r[1], g.tenant) if r[1] else _("Unread")
    ),
]


def _rows(stmt: Any, limit: int | None, offset: int) -> list[Any]:
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.session.execute(stmt).all())


@bp.get("/messages/", endpoint="index")
@requires("message.read", status=404)
def message_list() -> Any:
    unread_only = request.args.get("unread") == "1"
    kind = request.args.get("kind", "")
    if kind not in MessageKind.__members__:
        kind = ""
    search = listing.search_arg()
    lst = listing.Listing.from_request(
        "messages.index",
        MESSAGE_COLUMNS,
        keep={"unread": "1" if unread_only else "", "kind": kind, "q": search},
        title=_("Messages"),
    )
    stmt = queries.messages_stmt(current_user, unread_only, kind, search)
    return lst.answer(
        "messages/index.html",
        stmt,
        tiebreak=(Message.id,),
        unread_only=unread_only,
        kind=kind,
        kinds=list(MessageKind),
        search=search,
        kind_labels=KIND_LABELS,
        detail_labels=DETAIL_LABELS,
        link=message_link,
    )


@bp.post("/messages/<uuid:message_id>/read")
@requires("message.read", status=404)
def read(message_id: uuid.UUID) -> Any:
    """Mark the message read and open what it is about."""
    message = found_or_404(queries.get_message(current_user, message_id))
    operations.mark_read(current_user, message)
    return redirect(message_link(message) or url_for("messages.index"))


@bp.post("/messages/read-all")
@requires("message.read", status=404)
def read_all() -> Any:
    n = operations.mark_all_read(current_user)
    flash(_("%(n)s messages marked as read.", n=n), "success")
    return redirect(url_for("messages.index"))


@bp.route("/notices/", methods=["GET", "POST"])
@requires("notice.read", status=404)
def notices() -> Any:
    form = NoticeForm()
    status = 200
    if request.method == "POST":
        if not can(current_user, "notice.post"):
            abort(403)
        if form.validate():
            outcome = attempt(
                lambda: operations.post_notice(current_user, form.title.data, form.body.data),
                form,
            )
            if outcome.ok:
                flash(_("The notice is posted to the district."), "success")
                return redirect(url_for("messages.notices"))
            status = outcome.status
        else:
            status = 400
    search = listing.search_arg()
    unread_only = request.args.get("unread") == "1"
    lst = listing.Listing.from_request(
        "messages.notices",
        NOTICE_COLUMNS,
        keep={"q": search, "unread": "1" if unread_only else ""},
        title=_("Notices"),
    )
    stmt = queries.notices_stmt(current_user, search, unread_only)
    return lst.answer(
        "messages/notices.html",
        stmt,
        _rows,
        (Notice.id,),
        export=request.method == "GET",
        search=search,
        unread_only=unread_only,
        form=form,
    ), status  # an export (GET only) is a Response: Flask keeps it and sets the 200


@bp.get("/notices/<uuid:notice_id>")
@requires("notice.read", status=404)
def notice(notice_id: uuid.UUID) -> Any:
    found = found_or_404(queries.get_notice(notice_id))
    operations.mark_notice_read(current_user, found)
    return render_template("messages/notice.html", notice=found)


@bp.post("/notices/<uuid:notice_id>/withdraw")
@requires("notice.post")
def withdraw(notice_id: uuid.UUID) -> Any:
    found = found_or_404(queries.get_notice(notice_id))
    outcome = attempt(lambda: operations.withdraw_notice(current_user, found))
    if not outcome.ok:
        abort(outcome.status)
    flash(_("The notice is withdrawn."), "success")
    return redirect(url_for("messages.notices"))


@platform_bp.route("/notices", methods=["GET", "POST"], endpoint="index")
@requires("platform.notice")
def platform_index() -> Any:
    form = NoticeForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            outcome = attempt(
                lambda: operations.post_platform_notice(
                    current_user, form.title.data, form.body.data
                ),
                form,
            )
            if outcome.ok:
                flash(_("The notice is posted to %(n)s districts.", n=outcome.value), "success")
                return redirect(url_for("platform_notices.index"))
            status = outcome.status
        else:
            status = 400
    return (
        render_template(
            "messages/platform_notices.html", rows=queries.platform_notices(), form=form
        ),
        status,
    )


@platform_bp.post("/notices/<uuid:broadcast_id>/withdraw", endpoint="withdraw")
@requires("platform.notice")
def platform_withdraw(broadcast_id: uuid.UUID) -> Any:
    n = operations.withdraw_platform_notice(current_user, broadcast_id)
    if not n:
        abort(404)
    flash(_("The notice is withdrawn from %(n)s districts.", n=n), "success")
    return redirect(url_for("platform_notices.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(platform_bp)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"unread_messages": unread_messages}
