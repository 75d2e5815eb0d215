"""Declarative base, id generation and the mixins that mark tenant- and department-owned rows.

Every tenant-owned table carries `tenant_id` first in its primary key and in every
foreign key to another tenant-owned table, so the schema can later be distributed
by `tenant_id` (Citus) and so a row can never point across tenants.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import time
import uuid
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout) so b-tree inserts stay local."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TenantOwned:
    """Rows that belong to one tenant; the scoping hook filters every query on them."""

    __tenant_owned__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.Uuid(), sa.ForeignKey("tenants.id"), primary_key=True)

    @declared_attr
    def id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.Uuid(), primary_key=True, default=new_id)


class DepartmentOwned:
    """Rows a dept_officer may see only for their own department.

    Subclasses may override `department_criteria` when visibility is wider than one
    `department_id` column (e.g. a meeting is visible to every invited department).
    """

    __department_owned__ = True

    @classmethod
    def department_criteria(cls, department_id: uuid.UUID) -> sa.ColumnElement[bool]:
        return cls.department_id == department_id  # type: ignore[attr-defined]


class StoredFile:
    """An uploaded file kept in the upload store under `storage_key`, with the name it
    was uploaded under, its type, size and content hash; shown by its name (a duty's
    evidence file, a care visit's photo)."""

    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))

    def __str__(self) -> str:
        return self.filename


def tenant_fk(
    columns: list[str], target: str, target_columns: list[str], **kw: object
) -> sa.ForeignKeyConstraint:
    """A composite foreign key led by tenant_id: `tenant_fk(["department_id"], "departments", ["id"])`."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{target}.tenant_id", *(f"{target}.{c}" for c in target_columns)],
        **kw,  # type: ignore[arg-type]
    )


def department_child(
    table: str, parent_column: str, parent_table: str, *, unique: bool = False, by: str = ""
) -> tuple:
    """`__table_args__` of a department's row under a parent record (a duty's entries, a
    meeting's invitations): tenant-led foreign keys to the parent and to the department;
    one row per parent and department when `unique`; the index by `by` (default the parent
    column; "-" for none), named `ix_<table>_tenant_<by without _id>` as the migrations
    name it."""
    args: list[Any] = [
        tenant_fk([parent_column], parent_table, ["id"]),
        tenant_fk(["department_id"], "departments", ["id"]),
    ]
    if unique:
        args.append(sa.UniqueConstraint("tenant_id", parent_column, "department_id"))
    by = by or parent_column
    if by != "-":
        args.append(sa.Index(f"ix_{table}_tenant_{by.removesuffix('_id')}", "tenant_id", by))
    return tuple(args)


class TenantScopedGlobal:
    """Global tables (users) whose rows may belong to a tenant or to the platform.

    When a tenant is in scope, queries see only that tenant's rows; without one
    (sign-in, the platform console) they are not filtered, so they are not RLS-keyed.
    """

    __tenant_scoped_global__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID | None]:  # noqa: N805
        return mapped_column(sa.Uuid(), sa.ForeignKey("tenants.id"), index=True, nullable=True)


def configure_sqlite(engine: sa.Engine) -> None:
    """SQLite: foreign keys on, WAL, and BEGIN IMMEDIATE so writers queue instead of failing.

    The audit chain needs writers of a tenant serialised; on SQLite the database write
    lock taken at BEGIN does that (PostgreSQL uses a row lock on the chain head).
    """
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Long read-only work (audit exports) asks for a deferred transaction: a WAL read
        # snapshot that never holds the write lock (`execution_options(sqlite_read_only=True)`).
        if conn.get_execution_options().get("sqlite_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_postgresql(engine: sa.Engine) -> None:
    """PostgreSQL: a pooled connection the server has closed is replaced at checkout.

    SQLAlchemy's `pool_pre_ping` spends a round trip (`SELECT 1`) on every checkout, one
    per request. A server that goes away (restart, `pg_terminate_backend`, an idle
    timeout) first sends its goodbye and closes the socket, so an idle connection with
    nothing to read is still there: only when the socket has something to read, or the
    driver already knows the connection is broken, is the real ping sent (a notice or a
    notification on a live connection passes it). A connection found dead invalidates the
    whole pool, as a failed pre-ping does, and the checkout takes a new one.
    """
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import event

    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def _replace_if_gone(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        if not peer_still_there(dbapi_conn, dialect):
            raise sa.exc.InvalidatePoolError("the database closed this pooled connection")


def peer_still_there(dbapi_conn: Any, dialect: sa.Dialect) -> bool:
    """Whether an idle psycopg connection is still open at the server (see above)."""
    if dbapi_conn.closed or dbapi_conn.broken:
        return False
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
    if not poller.poll(0):  # nothing arrived since the last answer: no goodbye either
        return True
    try:
        return bool(dialect.do_ping(dbapi_conn))
    except dialect.loaded_dbapi.Error:
        return False


# statement → what was derived from it → the derived statement (`derived`)
_derived: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_DERIVED_PER_STATEMENT = 64


def derived(statement: Any, how: Hashable, derive: Callable[[Any], Any]) -> Any:
    """`derive(statement)`, made once per statement object and `how` (a page's LIMIT, a
    scope's loader criteria) and handed back while the statement lives.

    SQLAlchemy works out a statement's cache key on every run of a new statement object,
    walking the whole statement (for a duty list with its scope's criteria, about a
    tenth of the page's CPU); it keeps the key on the object. A statement a module builds
    once and runs again thus keeps its key only if what each run adds to it is built
    once too. Statements built per request just pass through (and go with it)."""
    try:
        per_statement = _derived.get(statement)
        if per_statement is None:
            per_statement = _derived.setdefault(statement, {})
    except TypeError:  # not weakly referenceable: nothing kept
        return derive(statement)
    made = per_statement.get(how)
    if made is None:
        if len(per_statement) >= _DERIVED_PER_STATEMENT:  # the oldest goes
            per_statement.pop(next(iter(per_statement)), None)
        made = per_statement[how] = derive(statement)
    return made


def listen_once(target: object, name: str, fn: object) -> None:
    from sqlalchemy import event

    if not event.contains(target, name, fn):
        event.listen(target, name, fn)


def refuse_immutable_changes(session, flush_context, instances) -> None:  # type: ignore[no-untyped-def]
    """Models with `__immutable__ = True` only ever get new rows (e.g. dated benefit values)."""
    for obj in list(session.dirty) + list(session.deleted):
        if getattr(type(obj), "__immutable__", False) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise ValueError(f"{type(obj).__name__} rows are never changed; add a new row instead")
