"""Recompute every hash chain; name the first broken sequence number of each chain.

Speed matters (the table grows to tens of millions of rows), so the verifier reads
with the driver's own cursor — no ORM, no SQLAlchemy row processing — in one read
snapshot of every chain and head (REPEATABLE READ, read-only on PostgreSQL, a
deferred WAL read transaction on SQLite, which never blocks writers), streams rows
in batches (a server-side cursor on PostgreSQL), and rebuilds the canonical JSON
from the raw column values with a cached encoder. The result must be byte-for-byte
what `trail.canonical_json` produced when the event was written; a test proves it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.audit.models import PLATFORM_CHAIN, RECORD_COLUMNS
from portal.audit.trail import GENESIS

#: Hashed fields in canonical (sorted) order; `hash` itself is not hashed.
HASHED = sorted(
    [
        "tenant_id",
        "seq",
        "occurred_at",
        "actor_id",
        "actor_name",
        "actor_role",
        "ip",
        "user_agent",
        "request_id",
        *RECORD_COLUMNS,
        "prev_hash",
    ]
)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SHA = hashlib.sha256


@dataclass
class ChainResult:
    tenant_id: uuid.UUID
    events: int
    first_bad_seq: int | None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None

    @property
    def is_platform(self) -> bool:
        return self.tenant_id == PLATFORM_CHAIN


def _uuid_text(value: Any) -> str | None:
    """SQLite stores Uuid as 32 hex digits; PostgreSQL returns uuid.UUID."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value
    return str(value)


def _time_text(value: Any) -> str:
    """`datetime.isoformat()` of the stored time, whatever the backend returned."""
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'
        text = value.replace(" ", "T", 1)
        return text[:-7] if text.endswith(".000000") else text
    return value.isoformat()


@contextmanager
def snapshot(bind: sa.Engine | sa.Connection) -> Iterator[tuple[str, Any]]:
    """A driver connection inside one consistent, read-only snapshot of every chain.

    On PostgreSQL the transaction also declares cross-tenant access for row-level
    security (the verifier reads every tenant's chain, and only reads).
    """
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    try:
        if engine.dialect.name == "postgresql":
            dbapi.rollback()
            with dbapi.cursor() as cur:
                # psycopg opens the transaction itself; this must be its first statement.
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute("SELECT set_config('app.cross_tenant', 'on', true)")
            try:
                yield "postgresql", dbapi
            finally:
                dbapi.rollback()
        else:
            cur = dbapi.cursor()
            if dbapi.in_transaction:
                cur.execute("ROLLBACK")
            cur.execute("BEGIN")  # deferred: a WAL read snapshot, never the write lock
            try:
                yield "sqlite", dbapi
            finally:
                cur.execute("ROLLBACK")
                cur.close()
    finally:
        raw.close()


def _rows(dialect: str, dbapi: Any, sql: str, params: tuple, batch: int) -> Iterator[tuple]:
    if dialect == "postgresql":
        cur = dbapi.cursor(name="audit_verify")  # server-side: constant memory
        cur.itersize = batch
    else:
        cur = dbapi.cursor()
    try:
        cur.execute(sql, params)
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            yield from chunk
    finally:
        cur.close()


def _param(dialect: str) -> str:
    return "%s" if dialect == "postgresql" else "?"


def _chain_key(dialect: str, tenant_id: uuid.UUID) -> Any:
    return tenant_id if dialect == "postgresql" else tenant_id.hex


def read_heads(dialect: str, dbapi: Any, tenant_id: uuid.UUID | None = None) -> dict:
    sql = "SELECT tenant_id, seq, hash FROM audit_chain_heads"
    params: tuple = ()
    if tenant_id is not None:
        sql += f" WHERE tenant_id = {_param(dialect)}"
        params = (_chain_key(dialect, tenant_id),)
    cur = dbapi.cursor()
    try:
        cur.execute(sql, params)
        return {uuid.UUID(_uuid_text(t)): (s, h) for t, s, h in cur.fetchall()}
    finally:
        cur.close()


def reference_chains(
    dialect: str, dbapi: Any, tenant_id: uuid.UUID | None = None, batch: int = 20000
) -> dict[uuid.UUID, ChainResult]:
    """The reference check: rebuild each event's canonical JSON in Python, as the writer did."""
    columns = ", ".join(HASHED + ["hash"])
    sql = f"SELECT {columns} FROM audit_events"  # noqa: S608 - fixed column names
    params: tuple = ()
    if tenant_id is not None:
        sql += f" WHERE tenant_id = {_param(dialect)}"
        params = (_chain_key(dialect, tenant_id),)
    sql += " ORDER BY tenant_id, seq"

    i_tenant, i_seq, i_at = (
        HASHED.index("tenant_id"),
        HASHED.index("seq"),
        HASHED.index("occurred_at"),
    )
    i_actor, i_dept, i_prev = (
        HASHED.index("actor_id"),
        HASHED.index("department_id"),
        HASHED.index("prev_hash"),
    )
    n = len(HASHED)
    keys = HASHED
    encode, sha, uuid_text, time_text = _ENCODE, _SHA, _uuid_text, _time_text

    results: dict[uuid.UUID, ChainResult] = {}
    current: ChainResult | None = None
    raw_tid: Any = object()
    expected_seq, prev = 1, GENESIS
    for row in _rows(dialect, dbapi, sql, params, batch):
        if row[i_tenant] != raw_tid:
            raw_tid = row[i_tenant]
            tid = uuid.UUID(uuid_text(raw_tid))
            current = results[tid] = ChainResult(tid, 0, None)
            expected_seq, prev = 1, GENESIS
            tenant_text = str(tid)
        assert current is not None
        current.events += 1
        if current.first_bad_seq is not None:
            continue
        values = list(row[:n])
        values[i_tenant] = tenant_text
        values[i_at] = time_text(values[i_at])
        if values[i_actor] is not None:
            values[i_actor] = uuid_text(values[i_actor])
        if values[i_dept] is not None:
            values[i_dept] = uuid_text(values[i_dept])
        seq = values[i_seq]
        stored = row[n]
        if seq != expected_seq:
            current.first_bad_seq = expected_seq
            current.reason = "missing or reordered event"
        elif values[i_prev] != prev:
            current.first_bad_seq, current.reason = seq, "link to the previous event broken"
        elif (
            sha((prev + encode(dict(zip(keys, values, strict=True)))).encode()).hexdigest()
            != stored
        ):
            current.first_bad_seq, current.reason = seq, "event content changed"
        else:
            prev = stored
            expected_seq += 1
            current.head_seq, current.head_hash = seq, stored
    return results


# --- the fast path: canonical JSON built by the database itself ----------------------------
#
# The same bytes as `trail.canonical_json`, built in SQL: keys in sorted order, no spaces,
# strings escaped as Python's json does with ensure_ascii=False (PostgreSQL's to_json and
# SQLite's json_object escape exactly `"`, `\\` and control characters, the same way),
# times as `datetime.isoformat()`, ids as dashed lowercase text. PostgreSQL also hashes
# (sha256) and compares links in SQL, so only a summary per chain comes back. Any chain
# the fast path doubts is re-checked by `reference_chains`, which has the last word.


def _pg_canonical() -> str:
    parts = []
    for key in HASHED:
        if key in ("tenant_id", "actor_id", "department_id"):  # uuid text never needs escaping
            value = f"""CASE WHEN {key} IS NULL THEN 'null' ELSE '"' || {key}::text || '"' END"""
        elif key == "seq":
            value = "seq::text"
        elif key == "occurred_at":
            value = (
                "CASE WHEN date_trunc('second', occurred_at) = occurred_at "
                # to_char: "T" is literal text, \" a literal double quote
                """THEN to_char(occurred_at, '\\"YYYY-MM-DD"T"HH24:MI:SS\\"') """
                """ELSE to_char(occurred_at, '\\"YYYY-MM-DD"T"HH24:MI:SS.US\\"') END"""
            )
        else:
            value = f"to_json({key})::text"
        parts.append(f"""'{"{" if not parts else ","}"{key}":' || {value}""")
    return " || ".join(parts) + " || '}'"


def _sqlite_uuid(column: str) -> str:
    return (
        f"substr({column}, 1, 8) || '-' || substr({column}, 9, 4) || '-' || "
        f"substr({column}, 13, 4) || '-' || substr({column}, 17, 4) || '-' || substr({column}, 21)"
    )


def _sqlite_canonical() -> str:
    parts = []
    for key in HASHED:
        if key in ("tenant_id", "actor_id", "department_id"):
            value = _sqlite_uuid(key)
        elif key == "occurred_at":
            value = (
                "CASE WHEN substr(occurred_at, 20) = '.000000' "
                "THEN replace(substr(occurred_at, 1, 19), ' ', 'T') "
                "ELSE replace(occurred_at, ' ', 'T') END"
            )
        else:
            value = key
        parts.append(f"'{key}', {value}")
    return "json_object(" + ", ".join(parts) + ")"


def _fast_postgresql(dbapi: Any, tenant_id: uuid.UUID | None) -> dict[uuid.UUID, ChainResult]:
    """Two passes the database runs itself: content hashes (a plain scan that PostgreSQL may
    run in parallel workers) and links plus gap-free numbering (one ordered index walk)."""
    where, params = ("WHERE tenant_id = %s", (tenant_id,)) if tenant_id else ("", ())
    links = f"""
        SELECT tenant_id, count(*), min(seq) FILTER (WHERE bad), max(seq) FROM (
          SELECT tenant_id, seq,
                 seq <> row_number() OVER w
                 OR prev_hash <> coalesce(lag(hash) OVER w, '{GENESIS}') AS bad
          FROM audit_events {where}
          WINDOW w AS (PARTITION BY tenant_id ORDER BY seq)
        ) ev GROUP BY tenant_id
    """  # noqa: S608 - no user input in the SQL
    contents = f"""
        SELECT tenant_id, min(seq) FROM audit_events {where}
        {"AND" if where else "WHERE"}
          hash <> encode(sha256(convert_to(prev_hash || {_pg_canonical()}, 'UTF8')), 'hex')
        GROUP BY tenant_id
    """  # noqa: S608
    results: dict[uuid.UUID, ChainResult] = {}
    with dbapi.cursor() as cur:
        cur.execute(links, params)
        for tid, count, bad, last in cur.fetchall():
            results[tid] = ChainResult(tid, count, bad, "" if bad is None else "suspect", last)
        cur.execute(contents, params)
        for tid, bad in cur.fetchall():
            res = results[tid]
            if res.first_bad_seq is None or bad < res.first_bad_seq:
                res.first_bad_seq, res.reason = bad, "suspect"
        cur.execute(
            f"SELECT DISTINCT ON (tenant_id) tenant_id, hash FROM audit_events {where} "  # noqa: S608
            "ORDER BY tenant_id, seq DESC",
            params,
        )
        for tid, last_hash in cur.fetchall():
            results[tid].head_hash = last_hash
    return results


def _fast_sqlite(
    dbapi: Any, tenant_id: uuid.UUID | None, batch: int
) -> dict[uuid.UUID, ChainResult]:
    where, params = ("WHERE tenant_id = ?", (tenant_id.hex,)) if tenant_id else ("", ())
    sql = (
        f"SELECT tenant_id, seq, prev_hash, hash, {_sqlite_canonical()} "  # noqa: S608
        f"FROM audit_events {where} ORDER BY tenant_id, seq"
    )
    sha = _SHA
    results: dict[uuid.UUID, ChainResult] = {}
    current: ChainResult | None = None
    raw_tid: Any = object()
    expected, prev = 1, GENESIS
    for raw, seq, prev_hash, stored, canonical in _rows("sqlite", dbapi, sql, params, batch):
        if raw != raw_tid:
            raw_tid = raw
            tid = uuid.UUID(raw)
            current = results[tid] = ChainResult(tid, 0, None)
            expected, prev = 1, GENESIS
        assert current is not None
        current.events += 1
        if current.first_bad_seq is not None:
            continue
        if (
            seq != expected
            or prev_hash != prev
            or sha((prev + canonical).encode()).hexdigest() != stored
        ):
            current.first_bad_seq, current.reason = seq, "suspect"
            continue
        prev = stored
        expected += 1
        current.head_seq, current.head_hash = seq, stored
    return results


def fast_chains(
    dialect: str, dbapi: Any, tenant_id: uuid.UUID | None = None, batch: int = 20000
) -> dict[uuid.UUID, ChainResult]:
    """The database-side check (hashes recomputed in SQL, or streamed on SQLite); a chain it
    finds suspect is rechecked by `reference_chains` before anything is reported."""
    if dialect == "postgresql":
        return _fast_postgresql(dbapi, tenant_id)
    return _fast_sqlite(dbapi, tenant_id, batch)


def verify_in_snapshot(
    dialect: str, dbapi: Any, tenant_id: uuid.UUID | None = None, batch: int = 20000
) -> list[ChainResult]:
    """Check every chain (or one) inside an open snapshot (see `snapshot`)."""
    heads = read_heads(dialect, dbapi, tenant_id)
    results = fast_chains(dialect, dbapi, tenant_id, batch)
    for tid in [t for t, r in results.items() if not r.ok]:
        results[tid] = reference_chains(dialect, dbapi, tid, batch)[tid]

    for tid, (head_seq, head_hash) in heads.items():
        res = results.get(tid)
        if res is None:
            if head_seq:
                results[tid] = ChainResult(tid, 0, 1, "events missing (the chain head says more)")
            continue
        if res.ok and (res.head_seq, res.head_hash) != (head_seq, head_hash):
            res.first_bad_seq = res.head_seq + 1 if head_seq > res.head_seq else head_seq
            res.reason = "chain head does not match the newest event (tail removed or added)"
    for tid, res in results.items():
        if tid not in heads and res.ok:
            res.first_bad_seq, res.reason = 1, "chain head missing"
    return list(results.values())


def verify_chains(
    bind: sa.Engine | sa.Connection, tenant_id: uuid.UUID | None = None, batch: int = 20000
) -> list[ChainResult]:
    """Recompute every chain (or one tenant's) in one consistent snapshot."""
    with snapshot(bind) as (dialect, dbapi):
        return verify_in_snapshot(dialect, dbapi, tenant_id, batch)
