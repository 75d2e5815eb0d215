"""Reads of the messages domain (bounded: counts and pages, never whole tables)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.messages.models import Message, MessageKind, Notice, NoticeAudience, NoticeRead
from portal.tenancy import scope


def unread_query(user: Any) -> sa.Select:
    """The count of the user's unread messages (the menu badge runs it with the others)."""
    return sa.select(sa.func.count(Message.id)).where(
        Message.user_id == user.id, Message.read_at.is_(None)
    )


def messages_stmt(
    user: Any, unread_only: bool = False, kind: str = "", search: str = ""
) -> sa.Select:
    """The user's messages, newest first (for the shared list helper)."""
    stmt = (
        sa.select(Message)
        .where(Message.user_id == user.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    if unread_only:
        stmt = stmt.where(Message.read_at.is_(None))
    if kind in MessageKind.__members__:
        stmt = stmt.where(Message.kind == MessageKind(kind))
    if search:
        stmt = stmt.where(Message.subject.ilike(f"%{search.replace('%', '').replace('_', '')}%"))
    return stmt


def notices_stmt(user: Any, search: str = "", unread_only: bool = False) -> sa.Select:
    """The district's notices in force with the user's read time (None: unread)."""
    read = (
        sa.select(NoticeRead.read_at)
        .where(
            NoticeRead.tenant_id == Notice.tenant_id,
            NoticeRead.notice_id == Notice.id,
            NoticeRead.user_id == getattr(user, "id", None),
        )
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Notice, read.label("read_at"))
        .where(Notice.withdrawn_at.is_(None))
        .order_by(Notice.posted_at.desc(), Notice.id.desc())
    )
    if search:
        like = f"%{search.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(sa.or_(Notice.title.ilike(like), Notice.body.ilike(like)))
    if unread_only:
        stmt = stmt.where(read.is_(None))
    return stmt


def unread_notice_count(user: Any) -> int:
    if getattr(user, "tenant_id", None) is None:
        return 0
    return count_of(notices_stmt(user, unread_only=True))


def count_of(stmt: sa.Select) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()


def messages_of(user: Any, page: int, per_page: int, unread_only: bool = False):  # type: ignore[no-untyped-def]
    """One page of the user's messages, newest first, and the total."""
    where = [Message.user_id == user.id]
    if unread_only:
        where.append(Message.read_at.is_(None))
    total = db.session.execute(sa.select(sa.func.count(Message.id)).where(*where)).scalar_one()
    rows = list(
        db.session.execute(
            sa.select(Message)
            .where(*where)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).scalars()
    )
    return rows, total


def get_message(user: Any, message_id: Any) -> Message | None:
    """The user's own message, or None (someone else's answers like a missing one)."""
    message = scope.get_scoped(Message, message_id)
    if message is None or message.user_id != getattr(user, "id", None):
        return None
    return message


def notices(limit: int = 50, offset: int = 0) -> list[Notice]:
    """The district's notices in force, newest first."""
    return list(
        db.session.execute(
            sa.select(Notice)
            .where(Notice.withdrawn_at.is_(None))
            .order_by(Notice.posted_at.desc(), Notice.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )


def notice_count() -> int:
    return db.session.execute(
        sa.select(sa.func.count(Notice.id)).where(Notice.withdrawn_at.is_(None))
    ).scalar_one()


def get_notice(notice_id: Any) -> Notice | None:
    notice = scope.get_scoped(Notice, notice_id)
    if notice is None or notice.withdrawn_at is not None:
        return None
    return notice


def platform_notices(limit: int = 50) -> list[tuple[uuid.UUID, str, Any, int, Any]]:
    """The operator's broadcasts: (broadcast_id, title, posted_at, districts, withdrawn)."""
    with scope.cross_tenant("platform notices"):
        return list(
            db.session.execute(
                sa.select(
                    Notice.broadcast_id,
                    sa.func.min(Notice.title),
                    sa.func.min(Notice.posted_at),
                    sa.func.count(Notice.id),
                    sa.func.min(Notice.withdrawn_at),
                )
                .where(Notice.audience == NoticeAudience.platform)
                .group_by(Notice.broadcast_id)
                .order_by(sa.func.min(Notice.posted_at).desc())
                .limit(limit)
            ).all()
        )
