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
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from portal.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEvent
from portal.db import listen_once, utcnow
from portal.kernel import memo
from portal.tenancy import scope as tenancy

GENESIS = "0" * 64
SECRET_MARK = "***"
PENDING_KEY = "audit_pending"
MARKS_KEY = "audit_savepoints"


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


#: Column names that are secrets or personal identifiers whatever model they are on;
#: a model adds its own with `__audit_secret__` / `__audit_mask__`.
SECRET_NAME = re.compile(r"password|secret|token_hash|session|otp|api_key|private_key", re.I)
MASK_NAME = re.compile(r"id_number|id_card|idcard|identity|phone|mobile|email|bank|address", re.I)


def is_secret(cls: type, key: str) -> bool:
    return key in getattr(cls, "__audit_secret__", ()) or bool(SECRET_NAME.search(key))


def is_masked(cls: type, key: str) -> bool:
    return key in getattr(cls, "__audit_mask__", ()) or bool(MASK_NAME.search(key))


def field_value(cls: type, key: str, value: Any) -> Any:
    if is_secret(cls, key):
        return SECRET_MARK if value is not None else None
    if is_masked(cls, key) and isinstance(value, str):
        return mask_identifier(value)
    return _plain(value)


def entity_id_of(obj: Any) -> str:
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


def chain_for(obj: Any) -> uuid.UUID:
    tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is not None:
        return tenant_id
    if type(obj).__name__ == "Tenant":
        return PLATFORM_CHAIN
    scope = tenancy.current()
    return scope.tenant_id or PLATFORM_CHAIN


def department_of(obj: Any) -> uuid.UUID | None:
    """The department whose officers may read this row's history (a department is its own)."""
    if getattr(type(obj), "__tablename__", "") == "departments":
        return getattr(obj, "id", None)
    value = getattr(obj, "department_id", None)
    return value if isinstance(value, uuid.UUID) else None


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


def record_on(obj: Any, action: str, **kwargs: Any) -> None:
    """`record` about one record of the request's session: the event names the record by
    its class and id (the keywords as for `record`)."""
    from portal.extensions import db

    # `__class__`, not `type()`: `current_user` is a proxy that reports the user's class
    record(db.session, action, entity_type=obj.__class__.__name__, entity_id=obj.id, **kwargs)


def _unaudited(model_name: str) -> frozenset[str]:
    """Columns a domain declared bookkeeping of an explicit event (`vocabulary.not_audited`)."""
    from portal.audit import vocabulary

    return vocabulary.unaudited_columns(model_name)


def _row_event(obj: Any, action: str) -> dict | None:
    cls = type(obj)
    mapper = inspect(cls)
    state = inspect(obj)
    changes: dict[str, Any] = {}
    bookkeeping = _unaudited(cls.__name__) if action == "update" else frozenset()
    for attr in mapper.column_attrs:
        key = attr.key
        if key in bookkeeping:
            continue
        hist = state.attrs[key].history
        if action == "create":
            value = getattr(obj, key)
            if value is not None:
                changes[key] = {"after": field_value(cls, key, value)}
        elif action == "delete":
            value = (
                hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            )
            if value is not None:
                changes[key] = {"before": field_value(cls, key, value)}
        elif hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
            changes[key] = {
                "before": field_value(cls, key, before),
                "after": field_value(cls, key, after),
            }
    if action == "update" and not changes:
        return None
    return {
        "tenant_id": chain_for(obj),
        "action": action,
        "entity_type": cls.__name__,
        "entity_id": entity_id_of(obj),
        "department_id": department_of(obj),
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


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_json(row: dict) -> str:
    """The bytes the hash covers: every stored field except `hash` itself, keys sorted."""
    return _CANONICAL.encode({k: _plain(v) for k, v in row.items() if k != "hash"})


def chain_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + canonical_json(row)).encode()).hexdigest()


_PG_LOCK_HEAD = (
    "INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (%(tenant_id)s, 0, %(genesis)s) "
    "ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_chain_heads.seq RETURNING seq, hash"
)


def _lock_head(conn: sa.Connection, tenant_id: uuid.UUID) -> tuple[int, str]:
    """Lock the chain's head row (creating it for a new chain) and read it: one statement.

    The no-op DO UPDATE takes the row lock that serialises a tenant's writers, and a
    writer that waited reads the head its predecessor committed."""
    if conn.dialect.name == "postgresql":
        row = conn.exec_driver_sql(_PG_LOCK_HEAD, {"tenant_id": tenant_id, "genesis": GENESIS})
        return tuple(row.one())  # type: ignore[return-value]
    from sqlalchemy.dialects.sqlite import insert

    table = AuditChainHead.__table__
    stmt = insert(table).values(tenant_id=tenant_id, seq=0, hash=GENESIS)
    return tuple(  # type: ignore[return-value]
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id"], set_={"seq": table.c.seq}
            ).returning(table.c.seq, table.c.hash)
        ).one()
    )


# Rows per statement on PostgreSQL: far below its 65,535 bound parameters.
_EVENTS_PER_STATEMENT = 500


@functools.cache
def _pg_append_sql(n_events: int) -> str:
    """INSERT of `n_events` events as a CTE of the head's UPDATE: one round trip, and plain
    SQL text (SQLAlchemy does not cache the compiled form of a multi-row INSERT in a CTE,
    and compiling it cost more than running it)."""
    columns = [c.name for c in AuditEvent.__table__.columns]
    values = ", ".join(
        "(" + ", ".join(f"%({c}_{i})s" for c in columns) + ")" for i in range(n_events)
    )
    return (  # names from the table's metadata, values as bound parameters
        f"WITH new_events AS (INSERT INTO audit_events ({', '.join(columns)}) VALUES {values}) "  # noqa: S608
        "UPDATE audit_chain_heads SET seq = %(head_seq)s, hash = %(head_hash)s "
        "WHERE tenant_id = %(head_tenant)s"
    )


def _append(conn: sa.Connection, tenant_id: uuid.UUID, rows: list[dict]) -> None:
    """Insert the events and move the chain's head to the last of them."""
    last = rows[-1]
    if conn.dialect.name == "postgresql":
        for start in range(0, len(rows), _EVENTS_PER_STATEMENT):
            chunk = rows[start : start + _EVENTS_PER_STATEMENT]
            params = {f"{k}_{i}": v for i, row in enumerate(chunk) for k, v in row.items()}
            params.update(head_seq=last["seq"], head_hash=last["hash"], head_tenant=tenant_id)
            conn.exec_driver_sql(_pg_append_sql(len(chunk)), params)
        return
    head = AuditChainHead.__table__
    conn.execute(sa.insert(AuditEvent.__table__), rows)
    conn.execute(
        sa.update(head)
        .where(head.c.tenant_id == tenant_id)
        .values(seq=last["seq"], hash=last["hash"])
    )


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
    own_chain = tenancy.current().tenant_id or PLATFORM_CHAIN
    if conn.dialect.name == "postgresql" and any(t != own_chain for t in by_chain):
        # Nothing but these inserts follows in this transaction: let row-level security
        # accept events for chains other than the scope's (a probe recorded in the prober's
        # chain, an operator action echoed into the platform chain).
        conn.exec_driver_sql("SELECT set_config('app.cross_tenant', 'on', true)")
    # Lock heads in a stable order so two transactions never deadlock on them.
    for tenant_id in sorted(by_chain, key=str):
        seq, prev = _lock_head(conn, tenant_id)
        rows = []
        for ev in by_chain[tenant_id]:
            seq += 1
            row = event_row(ev, seq, prev)
            prev = row["hash"]
            rows.append(row)
        _append(conn, tenant_id, rows)
        # (the chain's district, which may differ from the scope's: a platform echo)
        memo.note_write(
            session, tenant_id, (AuditEvent.__tablename__, AuditChainHead.__tablename__)
        )


def _discard(session: Session, transaction: Any) -> None:
    """The outermost transaction ended (committed, rolled back or closed): nothing may linger.

    Events of a committed transaction were already written in `before_commit`; a
    rolled-back or abandoned one takes its events with it, so it leaves no gap.
    """
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)
        session.info.pop(MARKS_KEY, None)


def _mark_savepoint(session: Session, transaction: Any) -> None:
    """Remember how many events were pending when a SAVEPOINT began."""
    if transaction.nested:
        session.info.setdefault(MARKS_KEY, {})[id(transaction)] = len(_pending(session))


def _drop_savepoint_events(session: Session, previous_transaction: Any) -> None:
    """A rolled-back SAVEPOINT takes its changes, and so their events, with it."""
    if not previous_transaction.nested:
        return
    mark = session.info.get(MARKS_KEY, {}).pop(id(previous_transaction), None)
    if mark is not None:
        del _pending(session)[mark:]


def _audited_tables() -> dict[str, str]:
    from portal.db import Base

    return {
        m.local_table.name: m.class_.__name__
        for m in Base.registry.mappers
        if is_audited(m.class_) and m.local_table is not None
    }


def _refuse_bulk(state: ORMExecuteState) -> None:
    """Bulk INSERT/UPDATE/DELETE through the Session would bypass the flush hook: refuse it.

    Covers ORM-enabled statements (`update(Model)`, `session.execute(insert(Model), rows)`)
    and Core statements on an audited table sent through the Session alike.
    """
    statement = state.statement
    kind = (
        "update"
        if state.is_update
        else "delete"
        if state.is_delete
        else "insert"
        if state.is_insert
        else None
    )
    if kind is None:
        return
    names = [m.class_.__name__ for m in state.all_mappers if is_audited(m.class_)]
    table = getattr(statement, "table", None)
    if not names and table is not None:
        name = _audited_tables().get(getattr(table, "name", ""))
        if name:
            names = [name]
    if names:
        raise BulkWriteRefused(
            f"bulk {kind} of {', '.join(sorted(names))} bypasses the audit trail; "
            "change the rows through the ORM (session.add / attribute changes / session.delete)"
        )


def _want_old_values(mapper: Any, cls: type) -> None:
    """Load the old value before an attribute is overwritten, so 'before' is never lost.

    Without this, setting an expired attribute records no old value (SQLAlchemy only
    loads it when a listener asks for active history).
    """
    if not is_audited(cls):
        return
    for attr in mapper.column_attrs:
        target = getattr(cls, attr.key, None)
        if target is None or not hasattr(target, "impl"):
            continue
        if not event.contains(target, "set", _noop_set):
            event.listen(target, "set", _noop_set, active_history=True)


def _noop_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    return None


def _want_old_values_everywhere() -> None:
    from portal.db import Base

    for mapper in list(Base.registry.mappers):
        if mapper.configured:
            _want_old_values(mapper, mapper.class_)


event.listen(Mapper, "mapper_configured", _want_old_values)


def install(session_class: type[Session] | Session) -> None:
    listen_once(session_class, "after_flush", _capture_flush)
    listen_once(session_class, "before_commit", _write_chains)
    listen_once(session_class, "after_transaction_end", _discard)
    listen_once(session_class, "after_transaction_create", _mark_savepoint)
    listen_once(session_class, "after_soft_rollback", _drop_savepoint_events)
    listen_once(session_class, "do_orm_execute", _refuse_bulk)
    _want_old_values_everywhere()


def with_actor(actor: Actor, **changes: Any) -> Actor:
    return replace(actor, **changes)


def as_system(command: str):  # type: ignore[no-untyped-def]
    """Audit actor for a CLI command or demo step: 'system' plus the command name."""
    return acting_as(system_actor(command))
