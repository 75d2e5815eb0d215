"""The messages domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    register_actions,
    register_module,
    register_named,
    register_record_type,
)
from portal.messages.models import Notice

register_module("messages", _l("Messages and notices"), order=70)
register_actions(
    "messages",
    {
        "message.read": _l("Message read"),
        "message.read_all": _l("All messages marked read"),
        "session.force_sign_out": _l("Signed out by force"),
        # the daily job (portal remind): one event per district and kind, with the count
        "message.reminders": (_l("Reminders sent"), _l("%(messages)s messages")),
    },
)
register_record_type("Message", _l("Message"))
register_named(
    Notice,
    _l("Notice"),
    Notice.title,
    find=(Notice.title,),
    fields={
        "title": _l("Title"),
        "body": _l("Text"),
        "audience": _l("Audience"),
        "broadcast_id": _l("Platform notice"),
        "posted_by_id": _l("Posted by"),
        "posted_by_name": _l("Posted by"),
        "posted_at": _l("Posted at"),
        "withdrawn_at": _l("Withdrawn at"),
    },
)
