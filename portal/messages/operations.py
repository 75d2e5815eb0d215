"""Writes of the messages domain: notify users, mark messages read, post notices.

Services never commit (the entry point's unit of work does). Messages are created by the
event receivers (`receivers.py`) inside the sender's transaction, so a duty's return
and its message are committed, or rolled back, together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.auth.models import User
from portal.db import new_id, utcnow
from portal.extensions import db
from portal.kernel.grants import require
from portal.kernel.rules import NotFound, clean_text
from portal.messages.models import Message, MessageKind, Notice, NoticeAudience, NoticeRead
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus

MAX_TITLE = 200
MAX_BODY = 5000


def officers_of(department_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The active officers of some departments (the tenant in scope): only a department
    officer's account belongs to a department (a check constraint on users)."""
    ids = list({d for d in department_ids if d is not None})
    if not ids:
        return []
    return list(
        db.session.execute(
            sa.select(User.id).where(
                User.department_id.in_(ids),
                User.active.is_(True),
            )
        ).scalars()
    )


def notify(
    user_ids: Iterable[uuid.UUID],
    kind: MessageKind,
    *,
    subject: str,
    detail: str = "",
    ref_type: str = "",
    ref_id: uuid.UUID | None = None,
    actor: Any = None,
) -> list[Message]:
    """One message per user (each user once)."""
    made = []
    name = getattr(actor, "display_name", "") or ""
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        message = Message(
            user_id=user_id,
            kind=kind,
            subject=subject[:300],
            detail=detail[:2000],
            ref_type=ref_type,
            ref_id=ref_id,
            actor_name=name[:80],
        )
        db.session.add(message)
        made.append(message)
    return made


def mark_read(user: Any, message: Message) -> bool:
    """The user read their message; recorded once (the first time)."""
    if message.user_id != getattr(user, "id", None):
        raise NotFound(_l("The message was not found."))
    if message.read_at is not None:
        return False
    message.read_at = utcnow()
    trail.record_on(
        message,
        "message.read",
        summary=f"{message.kind.value}: {message.subject[:120]}",
    )
    return True


def mark_all_read(user: Any) -> int:
    """Every unread message of the user becomes read (one audit event with the count)."""
    unread = list(
        db.session.execute(
            sa.select(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
        ).scalars()
    )
    now = utcnow()
    for message in unread:
        message.read_at = now
    if unread:
        trail.record_on(
            user,
            "message.read_all",
            summary=f"{len(unread)} messages",
            data={"count": len(unread)},
        )
    return len(unread)


def mark_notice_read(user: Any, notice: Notice) -> bool:
    """The user opened the notice: their read state, once (bookkeeping, not audited)."""
    user_id = getattr(user, "id", None)
    if user_id is None or getattr(user, "tenant_id", None) != notice.tenant_id:
        return False
    seen = db.session.execute(
        sa.select(NoticeRead.id).where(
            NoticeRead.notice_id == notice.id, NoticeRead.user_id == user_id
        )
    ).first()
    if seen is not None:
        return False
    db.session.add(NoticeRead(tenant_id=notice.tenant_id, notice_id=notice.id, user_id=user_id))
    return True


def _clean(title: Any, body: Any) -> tuple[str, str]:
    title_text = clean_text(
        title,
        "title",
        MAX_TITLE,
        required=_l("Title: please enter a title."),
        too_long=_l("Title: at most %(n)s characters.", n=MAX_TITLE),
    )
    too_long = _l("Text: at most %(n)s characters.", n=MAX_BODY)
    return title_text, clean_text(body, "body", MAX_BODY, too_long=too_long)


def post_notice(user: Any, title: Any, body: Any) -> Notice:
    """The lead posts a notice to their district (audited as a new row)."""
    require(user, "notice.post")
    title_text, body_text = _clean(title, body)
    notice = Notice(
        title=title_text,
        body=body_text,
        audience=NoticeAudience.district,
        posted_by_id=getattr(user, "id", None),
        posted_by_name=(getattr(user, "display_name", "") or "")[:80],
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def withdraw_notice(user: Any, notice: Notice) -> None:
    """A withdrawn notice is no longer shown; the row and its history stay."""
    require(user, "notice.post")
    if notice.audience != NoticeAudience.district:
        raise NotFound(_l("The notice was not found."))
    if notice.withdrawn_at is None:
        notice.withdrawn_at = utcnow()


def post_platform_notice(user: Any, title: Any, body: Any) -> int:
    """An operator's notice to every district in service: one row per district, tied by
    `broadcast_id`, each written in its district's scope (and audit chain)."""
    require(user, "platform.notice")
    title_text, body_text = _clean(title, body)
    broadcast = new_id()
    with scope.cross_tenant("platform notice: list districts"):
        tenant_ids = list(
            db.session.execute(
                sa.select(Tenant.id).where(Tenant.status == TenantStatus.active)
            ).scalars()
        )
    for tenant_id in tenant_ids:
        with scope.tenant_scope(tenant_id):
            db.session.add(
                Notice(
                    title=title_text,
                    body=body_text,
                    audience=NoticeAudience.platform,
                    broadcast_id=broadcast,
                    posted_by_id=getattr(user, "id", None),
                    posted_by_name=(getattr(user, "display_name", "") or "")[:80],
                )
            )
            db.session.flush()
    return len(tenant_ids)


def withdraw_platform_notice(user: Any, broadcast_id: uuid.UUID) -> int:
    require(user, "platform.notice")
    with scope.cross_tenant("platform notice: withdraw"):
        rows = list(
            db.session.execute(
                sa.select(Notice).where(
                    Notice.broadcast_id == broadcast_id, Notice.withdrawn_at.is_(None)
                )
            ).scalars()
        )
        now = utcnow()
        for notice in rows:
            notice.withdrawn_at = now
        db.session.flush()
    return len(rows)
