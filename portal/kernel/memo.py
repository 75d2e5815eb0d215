"""Short-lived answers to read-mostly questions asked on every page (the menu's items and
counts, a half-year's policy notice), kept in each worker process.

An answer is kept for `SECONDS` under its key, in the bucket of the district it
describes, with the tables it read: those its computation's statements name (seen on
the connection, so eager loads, scoping criteria and text SQL count), those of the kept
answers it used, and those every request reads before any answer is asked (the
signed-in user, the district, its departments, the reader's towns:
`read_by_every_answer`).

A commit drops the answers that read a table it wrote, in the districts it wrote to, so
what a user just did shows at once; the rest stay. A progress entry leaves the menu's
items and the policy notice in place, a heartbeat everything but the online users, a
recorded read (an export: an audit event) everything that does not read the trail.
(Under load, with every user's heartbeat and every tenth request a write, dropping all
of a district's answers on each write kept little: the same-mix load test ran at 0.64
to 0.84 of its floor with it, 1.11 without any drop; docs/performance.md.)

What was written is seen on the connection too: a write statement (ORM flush, bulk or
Core) is taken as the scope's district (`take_write_district_from`); with none in scope
every district's answers that read its table go, except in a flush, whose rows are
noted under their own districts (a sign-in writes its user with no district in scope).
Platform-wide answers (bucket None) go with any write of a table they read.
A write that changes only columns no answer shows (`shown_by_no_answer`: a user's last
sign-in) drops nothing: every answer reads the users table, and each sign-in of a
morning rush dropped all of its district's answers (the readers' p95 during 60 sign-ins
went ×1.62–2.13 with it, ×1.38–1.60 without; docs/performance.md).

A write handled by another worker process of the same server shows at once too: the
workers share a table of stamps, one per (district, table) hashed into `_SLOTS` slots (a
memfd the gunicorn master makes, deploy/gunicorn.conf.py, named by `PORTAL_MEMO_FD`). A
commit puts a fresh random stamp in the slots of what it wrote; a kept answer remembers
the stamps of the slots it depends on and is used only while they are unchanged (two
pairs sharing a slot only drop an answer early). Without a shared table (tests, the
CLI) the stamps are the process's own. What no worker of the server wrote — the CLI,
another server, psql — and what changes with time alone (a due date passing) shows
within `SECONDS` (`PORTAL_MEMO_SECONDS`, default 60). (Before the stamps another
worker's write showed only then, and the window was 10 s. With the stamps the window
only bounds those outside changes, and 60 s recomputes a third as often: 10,100 answers
against 32,021 in the same 150 s of 200 users, and 11.2–12.2 ms of CPU per request
against 14.9–15.2; docs/performance.md.)

Keys must name everything else the answer depends on (user, scope, language …; the
database is added here, since one process may serve several: tests, tools); answers
must be plain values, never ORM objects (they outlive the session). An answer filled in
after its computation returned (a dict of names looked up later) reads what its fillers
read: `every_write=True` lets any write in its district drop it.
"""

from __future__ import annotations

import contextvars
import mmap
import os
import re
import struct
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.extensions import db


def _seconds(raw: str | None, default: float = 60.0) -> float:
    """The window from `PORTAL_MEMO_SECONDS` (a number of seconds ≥ 0; anything else: the
    default, so a typo never stops the server)."""
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if 0 <= value < 86_400 else default


SECONDS = _seconds(os.environ.get("PORTAL_MEMO_SECONDS"))
_MAX = 20_000
_EVERY = "every district"  # a write whose district is not known
ANY = "*"  # a table not known: a write of it drops every answer, an answer reading it goes with every write
_ANY = frozenset({ANY})
# tenant → key → (kept at, answer, tables it read, slots it depends on, their stamps)
_Kept = tuple[float, Any, frozenset[str], tuple[int, ...], tuple[int, ...]]
_kept: dict[Any, dict[tuple[Any, ...], _Kept]] = {}
_size = 0
# Forgets so far, per bucket and in all: an answer computed while its bucket was
# forgotten (a write committed by another thread meanwhile) may predate that write, so
# it is returned but not kept.
_forgotten: dict[Any, int] = {}
_forgot_all = 0
_every_answer_reads: set[str] = set()
# the tables read so far by each computation under way in this context (nested: outer first)
_reading: contextvars.ContextVar[tuple[set[str], ...]] = contextvars.ContextVar(
    "portal_memo_reading", default=()
)
_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_quiet: dict[str, frozenset[str]] = {}  # table → columns no kept answer shows
# SQL text → (the mapped tables it names, those it writes)
_TABLES_OF: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


# engine → its database named once (hashing a `URL` renders it as a string every time)
_databases: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()


def _database_of(engine: sa.Engine) -> str:
    name = _databases.get(engine)
    if name is None:
        name = _databases[engine] = engine.url.render_as_string(hide_password=True)
    return name


# The stamps the server's worker processes share (see the module's docstring).
_SLOTS = 1 << 16  # 512 KiB: pairs of 300 districts × 40 tables seldom share a slot
_STAMP = struct.Struct("=Q")
_MEMFD_NAME = "portal-memo-stamps"  # as deploy/gunicorn.conf.py names it
_WROTE = "any table"  # slot (district, _WROTE): stamped first by every write in the district


def _shared_stamps() -> mmap.mmap | None:
    """The stamp table the gunicorn master made and named in PORTAL_MEMO_FD (None: not
    run under it, or that descriptor is not the table here: a helper process spawned
    without it, whose descriptor of the same number is another file)."""
    raw = os.environ.get("PORTAL_MEMO_FD", "")
    if not raw.isdigit():
        return None
    fd = int(raw)
    size = _SLOTS * _STAMP.size
    try:
        if not os.readlink(f"/proc/self/fd/{fd}").startswith(f"/memfd:{_MEMFD_NAME}"):
            return None
        if os.fstat(fd).st_size < size:
            return None
        return mmap.mmap(fd, size)
    except (OSError, ValueError):
        return None


_stamps: mmap.mmap = _shared_stamps() or mmap.mmap(-1, _SLOTS * _STAMP.size)
_offsets: dict[tuple[Any, str], int] = {}


def _offset(tenant_id: Any, table: str) -> int:
    """Where the stamp of (district, table) sits (a hash every process computes alike)."""
    offset = _offsets.get((tenant_id, table))
    if offset is None:
        if len(_offsets) >= 1 << 16:
            _offsets.clear()
        slot = zlib.crc32(f"{tenant_id}\x1f{table}".encode()) % _SLOTS
        offset = _offsets[(tenant_id, table)] = slot * _STAMP.size
    return offset


def _read_stamps(offsets: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_STAMP.unpack_from(_stamps, o)[0] for o in offsets)


def _guard(tenant_id: Any) -> tuple[int, ...]:
    """The slots stamped first by any write an answer of this bucket may depend on."""
    return (_offset(tenant_id, _WROTE), _offset(_EVERY, _WROTE))


def _depends_on(tenant_id: Any, read: frozenset[str]) -> tuple[int, ...]:
    """The slots an answer of this bucket that read `read` depends on: its tables and a
    table not known, written in its district or in no known district (and any write at
    all for an answer reading `ANY`)."""
    tables = {*read, ANY, *((_WROTE,) if ANY in read else ())}
    return tuple(sorted({_offset(d, t) for d in (tenant_id, _EVERY) for t in tables}))


def _stamp(writes: Mapping[Any, Iterable[str]]) -> None:
    """A fresh stamp in the slots of what a commit wrote (the platform-wide bucket's too),
    each district's `_WROTE` slot first: an answer whose computation a write overtook
    then sees its guard move (`remembered`) or its stamps change."""
    fresh = _STAMP.pack(int.from_bytes(os.urandom(8), "little"))
    for tenant_id, tables in writes.items():
        districts = (tenant_id,) if tenant_id is None else (tenant_id, None)
        for table in (_WROTE, *tables):
            for district in districts:
                offset = _offset(district, table)
                _stamps[offset : offset + _STAMP.size] = fresh


def shown_by_no_answer(table: str, *columns: str) -> None:
    """Columns no kept answer shows (a user's last sign-in): a write that changes only
    these drops nothing. Every answer reads the users table, so without this each
    sign-in dropped every kept answer in its district, and a morning rush of sign-ins
    made everyone else's pages compute their menus and panels afresh."""
    _quiet[table] = _quiet.get(table, frozenset()) | frozenset(columns)
    _TABLES_OF.clear()


def _quiet_update(table: str, columns: Iterable[str]) -> bool:
    columns = set(columns)
    return bool(columns) and columns <= _quiet.get(table, frozenset())


def read_by_every_answer(*tables: str) -> None:
    """Tables a request reads before any answer is computed (the signed-in user, the
    district, its departments, the reader's scope), so that no computation's statements
    name them: a write of one drops every answer of its district."""
    _every_answer_reads.update(tables)


def _generation(tenant_id: Any) -> tuple[int, int]:
    return _forgot_all, _forgotten.get(tenant_id, 0)


def _touches(read: frozenset[str], written: Iterable[str]) -> bool:
    return ANY in read or any(t == ANY or t in read for t in written)


def forget(writes: Mapping[Any, Iterable[str]] | None = None) -> None:
    """Drop every answer (None), or for each district → tables written (`_EVERY`: a
    district not known) the answers of that district and the platform-wide ones that
    read one of those tables — here, and through the stamps in the other workers."""
    global _size, _forgot_all
    if writes is None:
        _forgot_all += 1
        _kept.clear()
        _size = 0
        return
    _stamp(writes)
    for tenant_id, tables in writes.items():
        tables = frozenset(tables)
        buckets = list(_kept) if tenant_id == _EVERY else (tenant_id, None)
        for bucket_id in {*buckets, None}:
            _forgotten[bucket_id] = _forgotten.get(bucket_id, 0) + 1
            bucket = _kept.get(bucket_id)
            if not bucket:
                continue
            # (a copy: another thread may add to the bucket meanwhile)
            gone = [key for key, kept in list(bucket.items()) if _touches(kept[2], tables)]
            for key in gone:
                _size -= bucket.pop(key, None) is not None
        if tenant_id == _EVERY:
            _forgot_all += 1


def remembered(
    key: tuple[Any, ...],
    compute: Callable[[], Any],
    tenant_id: Any = None,
    every_write: bool = False,
) -> Any:
    """`compute()`, or what it answered for `key` less than SECONDS ago (None: not kept).

    `tenant_id` is the district the answer describes (None: platform-wide, or more than
    one district). `every_write`: any write in the district drops the answer, whatever
    its computation read (an answer filled in later)."""
    global _size
    key = (_database_of(db.engine), *key)
    now = time.monotonic()
    outer = _reading.get()
    bucket = _kept.get(tenant_id)
    kept = bucket.get(key) if bucket is not None else None
    if kept is not None and now - kept[0] < SECONDS and _read_stamps(kept[3]) == kept[4]:
        for reading in outer:  # an answer built on this one reads what it read
            reading |= kept[2]
        return kept[1]
    generation = _generation(tenant_id)
    guard = _guard(tenant_id)
    guarded = _read_stamps(guard)
    read: set[str] = set(_ANY) if every_write else set()
    token = _reading.set((*outer, read))
    try:
        value = compute()
    finally:
        _reading.reset(token)
    read |= _every_answer_reads
    for reading in outer:
        reading |= read
    if value is None or _generation(tenant_id) != generation:
        return value
    depends_on = _depends_on(tenant_id, frozenset(read))
    stamps = _read_stamps(depends_on)  # read before the guard: see `_stamp`
    if _read_stamps(guard) != guarded:  # another worker wrote meanwhile
        return value
    if _size >= _MAX:
        forget()
    bucket = _kept.setdefault(tenant_id, {})
    _size += key not in bucket
    bucket[key] = (now, value, frozenset(read), depends_on, stamps)
    return value


def _district_not_known() -> Any:
    return None


_district_of_writes: Callable[[], Any] = _district_not_known


def take_write_district_from(resolver: Callable[[], Any]) -> None:
    """Where a write statement's district comes from: the request's scope (set by
    `portal.tenancy.scope`: under it a statement reaches no other district's rows).
    The resolver's None: not known, every district."""
    global _district_of_writes
    _district_of_writes = resolver


# the session each connection in a transaction belongs to (its writes are noted there)
_sessions: weakref.WeakKeyDictionary[sa.Connection, Session] = weakref.WeakKeyDictionary()
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([a-z_][a-z0-9_]*)")
# an UPDATE's table and SET list; the columns it sets (a column inside an expression may
# be taken for one: then not every column is quiet, and the write counts, as it should)
_UPDATE = re.compile(r"^\s*UPDATE\s+\"?([a-z_][a-z0-9_]*)\"?\s+SET\s+(.*?)\s+WHERE\s", re.S)
_SET_COLUMN = re.compile(r"(?:^|,)\s*\"?([a-z_][a-z0-9_]*)\"?\s*=")
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})
_NONE: frozenset[str] = frozenset()


def _tables_of(sql: str) -> tuple[frozenset[str], frozenset[str]]:
    """The mapped tables a statement names, and those it writes (a write of a table not
    mapped here: `ANY`; a read — a SELECT, a CTE that only reads: none). Kept per SQL
    text: every statement passes here."""
    found = _TABLES_OF.get(sql)
    if found is None:
        mapped = db.metadata.tables.keys()
        named = frozenset(set(_WORD.findall(sql)) & mapped)
        written = _NONE
        head = sql.lstrip()[:6].upper()
        update = _UPDATE.match(sql) if head == "UPDATE" and _quiet else None
        if update and _quiet_update(update.group(1), _SET_COLUMN.findall(update.group(2))):
            pass  # only columns no answer shows
        elif head in _WRITES or head.startswith("WITH"):
            written = frozenset(set(_WRITE.findall(sql)) & mapped)
            if not written and head in _WRITES:  # (a table this app does not map)
                written = _ANY
        if len(_TABLES_OF) >= 4096:
            _TABLES_OF.clear()
        found = _TABLES_OF[sql] = (named, written)
    return found


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _note_statement(
    conn: sa.Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    """Every statement a session's connection sends: the tables a computation under way
    reads, the tables a write statement writes (ORM flush, bulk and Core alike)."""
    named, written = _tables_of(statement)
    for read in _reading.get():
        read |= named
    if written:
        session = _sessions.get(conn)
        if session is None:
            return
        district = _district_of_writes()
        if district is None and session._flushing:
            return  # a flush with no district in scope (a sign-in): `_note_flush` has its rows
        note_write(session, district, written)


def note_write(session: Session, tenant_id: Any, tables: Iterable[str] = (ANY,)) -> None:
    """The district's answers that read these tables are dropped when the session commits
    (None: a district not known, every district's)."""
    wrote: dict[Any, set[str]] = session.info.setdefault("portal_wrote", {})
    wrote.setdefault(tenant_id if tenant_id is not None else _EVERY, set()).update(tables)


@sa.event.listens_for(Session, "after_begin")
def _watch_connection(session: Session, _transaction: object, connection: sa.Connection) -> None:
    _sessions[connection] = session


@sa.event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context: object) -> None:
    """Each flushed row under its own district (a statement is taken as the scope's)."""
    dirty = session.dirty  # (a new set at each access: asked once, not once per row)
    for obj in (*session.new, *dirty, *session.deleted):
        state = sa.inspect(obj)
        tables = [t.name for t in state.mapper.tables]
        if obj in dirty and all(_quiet_update(t, state.committed_state) for t in tables):
            continue  # only columns no answer shows (`shown_by_no_answer`)
        note_write(session, getattr(obj, "tenant_id", None), tables)


@sa.event.listens_for(Session, "after_commit")
def _forget_after_write(session: Session) -> None:
    wrote = session.info.pop("portal_wrote", None)
    if wrote:
        forget(wrote)


@sa.event.listens_for(Session, "after_rollback")
def _no_write(session: Session) -> None:
    session.info.pop("portal_wrote", None)
