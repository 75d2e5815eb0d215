"""Audit capture, in one place.

* `after_flush` records every insert, update and delete of every mapped model
  (unless the model sets `__audit__ = False`), with before/after of changed fields.
* `record()` adds explicit events (login, export, sign-off …).
* `before_commit` chains the transaction's events per tenant — locking the tenant's
  chain head row — and inserts them in the same transaction as the change, so a
  rolled-back change leaves no event and no gap.
* ORM bulk UPDATE/DELETE on audited models is refused (it would bypass capture).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session

from portal.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEvent
from portal.db import listen_once, utcnow
from portal.tenancy import scope as tenancy

GENESIS = "0" * 64
SECRET_MARK = "***"
PENDING_KEY = "audit_pending"


class BulkWriteRefused(RuntimeError):
    """ORM bulk update()/delete() on an audited model: do it row by row instead."""


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID | None = None
    name: str = "system"
    role: str = "system"
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


_actor: ContextVar[Actor] = ContextVar("portal_audit_actor", default=Actor())


def current_actor() -> Actor:
    return _actor.get()


def set_actor(actor: Actor) -> object:
    return _actor.set(actor)


def reset_actor(token: object) -> None:
    _actor.reset(token)  # type: ignore[arg-type]


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def system_actor(command: str) -> Actor:
    """The actor for CLI commands and scripts: 'system' plus the command name."""
    return Actor(name=f"system:{command}", role="system")


def is_audited(obj_or_cls: Any) -> bool:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return getattr(cls, "__audit__", True)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def mask_identifier(value: str) -> str:
    """Keep the first and last characters of a personal identifier (身份证号, phone)."""
    if not value:
        return value
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def _field_value(cls: type, key: str, value: Any) -> Any:
    if key in getattr(cls, "__audit_secret__", ()):
        return SECRET_MARK if value is not None else None
    if key in getattr(cls, "__audit_mask__", ()) and isinstance(value, str):
        return mask_identifier(value)
    return _plain(value)


def _entity_id(obj: Any) -> str:
    identity = inspect(obj).identity
    if identity is None:
        pk = inspect(type(obj)).primary_key
        identity = tuple(getattr(obj, c.key, None) for c in pk)
    parts = [
        str(v)
        for v, c in zip(identity, inspect(type(obj)).primary_key, strict=False)
        if c.key != "tenant_id"
    ]
    return ",".join(parts) if parts else ",".join(str(v) for v in identity)


def _chain_for(obj: Any) -> uuid.UUID:
    tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is not None:
        return tenant_id
    if type(obj).__name__ == "Tenant":
        return PLATFORM_CHAIN
    scope = tenancy.current()
    return scope.tenant_id or PLATFORM_CHAIN


def _pending(session: Session) -> list[dict]:
    return session.info.setdefault(PENDING_KEY, [])


def record(
    session: Session,
    action: str,
    *,
    tenant_id: uuid.UUID | None = None,
    entity_type: str = "",
    entity_id: object = "",
    department_id: uuid.UUID | None = None,
    summary: str = "",
    data: dict | None = None,
) -> None:
    """Add an explicit event (login, export, sign-off …) to the current transaction."""
    if tenant_id is None:
        tenant_id = tenancy.current().tenant_id or PLATFORM_CHAIN
    _pending(session).append(
        {
            "tenant_id": tenant_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id) if entity_id else "",
            "department_id": department_id,
            "summary": summary[:400],
            "changes": {k: _plain(v) for k, v in (data or {}).items()},
            "actor": current_actor(),
            "occurred_at": utcnow(),
        }
    )


def _row_event(obj: Any, action: str) -> dict | None:
    cls = type(obj)
    mapper = inspect(cls)
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if action == "create":
            value = getattr(obj, key)
            if value is not None:
                changes[key] = {"after": _field_value(cls, key, value)}
        elif action == "delete":
            value = (
                hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            )
            if value is not None:
                changes[key] = {"before": _field_value(cls, key, value)}
        elif hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
            changes[key] = {
                "before": _field_value(cls, key, before),
                "after": _field_value(cls, key, after),
            }
    if action == "update" and not changes:
        return None
    return {
        "tenant_id": _chain_for(obj),
        "action": action,
        "entity_type": cls.__name__,
        "entity_id": _entity_id(obj),
        "department_id": getattr(obj, "department_id", None),
        "summary": str(obj)[:400] if type(obj).__str__ is not object.__str__ else "",
        "changes": changes,
        "actor": current_actor(),
        "occurred_at": utcnow(),
    }


def _capture_flush(session: Session, flush_context: object) -> None:
    pending = _pending(session)
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not is_audited(obj):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            ev = _row_event(obj, action)
            if ev is not None:
                pending.append(ev)


def canonical_json(row: dict) -> str:
    """The bytes the hash covers: every stored field except `hash` itself."""
    payload = {k: _plain(v) for k, v in row.items() if k != "hash"}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + canonical_json(row)).encode()).hexdigest()


def _lock_head(session: Session, tenant_id: uuid.UUID) -> tuple[int, str]:
    conn = session.connection()
    table = AuditChainHead.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    conn.execute(
        dialect_insert(table)
        .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    row = conn.execute(
        sa.select(table.c.seq, table.c.hash).where(table.c.tenant_id == tenant_id).with_for_update()
    ).one()
    return row.seq, row.hash


def event_row(ev: dict, seq: int, prev_hash: str) -> dict:
    actor: Actor = ev["actor"]
    row = {
        "tenant_id": ev["tenant_id"],
        "seq": seq,
        "occurred_at": ev["occurred_at"],
        "actor_id": actor.id,
        "actor_name": actor.name[:120],
        "actor_role": actor.role,
        "ip": actor.ip[:64],
        "user_agent": actor.user_agent[:255],
        "request_id": actor.request_id[:40],
        "action": ev["action"],
        "entity_type": ev["entity_type"],
        "entity_id": ev["entity_id"][:80],
        "department_id": ev["department_id"],
        "summary": ev["summary"],
        "changes": json.dumps(ev["changes"], sort_keys=True, ensure_ascii=False, default=str),
        "prev_hash": prev_hash,
    }
    row["hash"] = chain_hash(prev_hash, row)
    return row


def _write_chains(session: Session) -> None:
    session.flush()
    pending = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    by_chain: dict[uuid.UUID, list[dict]] = {}
    for ev in pending:
        by_chain.setdefault(ev["tenant_id"], []).append(ev)
    conn = session.connection()
    # Lock heads in a stable order so two transactions never deadlock on them.
    for tenant_id in sorted(by_chain, key=str):
        seq, prev = _lock_head(session, tenant_id)
        rows = []
        for ev in by_chain[tenant_id]:
            seq += 1
            row = event_row(ev, seq, prev)
            prev = row["hash"]
            rows.append(row)
        conn.execute(sa.insert(AuditEvent.__table__), rows)
        head = AuditChainHead.__table__
        conn.execute(
            sa.update(head).where(head.c.tenant_id == tenant_id).values(seq=seq, hash=prev)
        )


def _discard(session: Session, *args: object) -> None:
    session.info.pop(PENDING_KEY, None)


def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if is_audited(mapper.class_):
            raise BulkWriteRefused(
                f"bulk {'update' if state.is_update else 'delete'} of {mapper.class_.__name__} "
                "bypasses the audit trail; change the rows through the ORM instead"
            )


def install(session_class: type[Session] | Session) -> None:
    listen_once(session_class, "after_flush", _capture_flush)
    listen_once(session_class, "before_commit", _write_chains)
    listen_once(session_class, "after_rollback", _discard)
    listen_once(session_class, "do_orm_execute", _refuse_bulk)


def with_actor(actor: Actor, **changes: Any) -> Actor:
    return replace(actor, **changes)
