"""Reading the audit trail: filters, newest-first keyset pages, record history, exports.

The audit table is not `TenantOwned` (its key is the chain, and the platform has a
chain of its own), so the chain is chosen here explicitly, from the request's scope:
a district's users read their district's chain, operators only the platform chain.
On PostgreSQL row-level security enforces the same (see `rls.CHAIN_PREDICATE`).

Pages, sort orders and the capped total are `portal.audit.paging`'s: keyset pages,
never OFFSET and never a COUNT over the chain (with tens of millions of events both
would scan).

A search (`?q=`) and the person filter (`?actor=`) are resolved first against the small
things a term can name — the vocabulary's zh/en labels (签报 → the sign-off action
codes, in memory), the district's people, departments and records (one statement) — and
the trail is then filtered by equalities its indexes answer, however long it is. The
events' own stored text is matched only among the newest `TEXT_WINDOW` events (the page
says so): a LIKE over the whole trail would grow with it, and a two-character Chinese
word cannot use a trigram index.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.audit import display, paging, trail, vocabulary
from portal.audit.models import PLATFORM_CHAIN, RECORD_COLUMNS, AuditEvent
from portal.extensions import db
from portal.kernel import clock, memo
from portal.tenancy import scope

EXPORT_LIMIT = 100_000
_SPACE = sa.literal_column("' '")  # inline, so PostgreSQL matches the trigram index (0401)
SEARCH_EXPR = (
    AuditEvent.entity_type.op("||")(_SPACE)
    .op("||")(AuditEvent.entity_id)
    .op("||")(_SPACE)
    .op("||")(AuditEvent.summary)
)


@dataclass
class EventFilter:
    actor: str = ""
    department_id: uuid.UUID | None = None
    module: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Any) -> EventFilter:
        """Parse query-string arguments; bad values are reported per field, never raised."""
        from flask_babel import gettext as _

        f = cls(
            actor=(args.get("actor") or "").strip()[:120],
            module=(args.get("module") or "").strip()[:40],
            action=(args.get("action") or "").strip()[:40],
            entity_type=(args.get("entity_type") or "").strip()[:60],
            entity_id=(args.get("entity_id") or "").strip()[:80],
            q=(args.get("q") or "").strip()[:100],
        )
        dept = (args.get("department") or "").strip()
        if dept:
            try:
                f.department_id = uuid.UUID(dept)
            except ValueError:
                f.errors["department"] = _("Choose a department from the list.")
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(f, name, dt.date.fromisoformat(raw))
                except ValueError:
                    f.errors[name] = _("Enter a date as YYYY-MM-DD.")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors["date_to"] = _("The end date is before the start date.")
        return f

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links and the export)."""
        out = {
            "actor": self.actor,
            "department": str(self.department_id) if self.department_id else "",
            "module": self.module,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.args())


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    """Dates in the filter are local (the district's time zone); stored times are UTC."""
    from flask import g

    local = dt.datetime.combine(day, dt.time(), tzinfo=clock.zone(g.get("tenant")))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


#: Free text in the events' own stored text (record names as they were, file names,
#: pages) is searched among this many newest events of the chain — up to the end date when
#: one is chosen — so a search costs the same however long the trail grows (the page says
#: so). Everything a term can name (actions, record types, people, departments, records)
#: is searched over the whole trail by indexed equality.
TEXT_WINDOW = 1_000
#: At most this many people, departments or records of one type per term (a term that
#: names more is too vague to list them all; the newest events' text still matches).
NAMED_LIMIT = 200


@dataclass
class Terms:
    """What a search term names, resolved before the trail is read: the small tables
    (the vocabulary's labels, the district's users, departments and records) answer, and
    the trail is then filtered by indexed equality instead of a LIKE over every event."""

    actions: list[str] = field(default_factory=list)
    record_types: list[str] = field(default_factory=list)
    actors: list[uuid.UUID] = field(default_factory=list)
    departments: list[uuid.UUID] = field(default_factory=list)
    records: dict[str, list[str]] = field(default_factory=dict)


def _finder(registered: vocabulary.RecordType | None) -> Any:
    """The record type's finder as a statement of ids (None: it offers a plain list)."""
    if registered is None or registered.find is None:
        return None
    return getattr(registered.find, "query", None)


def resolve(chain: uuid.UUID, text: str, people_only: bool = False) -> Terms:
    """The action codes and record types whose zh/en labels hold `text` (in memory), and the
    people, departments and records whose names hold it — asked in one statement, each
    kind capped at NAMED_LIMIT. The platform chain names people only (operators).

    Kept by `kernel.memo` per district, term and reader's scope (what the statement may
    read depends on it): a reader paging through a search asks the same again, and a
    write in the district — a new person, a renamed record — drops the answer. The
    answer is shared: never change it."""
    text = text.strip()
    if not text:
        return Terms()
    key = ("audit_resolve", chain, text, people_only, scope.current())
    district = None if chain == PLATFORM_CHAIN else chain
    return memo.remembered(key, lambda: _resolve(chain, text, people_only), district)


def _resolve(chain: uuid.UUID, text: str, people_only: bool) -> Terms:
    terms = Terms()
    if not people_only:
        terms.actions = vocabulary.search_codes(text, "action")
        terms.record_types = vocabulary.search_codes(text, "record")
    people_only = people_only or chain == PLATFORM_CHAIN
    statement, plain = _names_statement(people_only, vocabulary.has_case(text))
    if statement is not None:
        params = {"pattern": vocabulary.like_pattern(text), "chain": chain}
        for kind, value in db.session.execute(statement, params):
            if kind == "~actor":
                terms.actors.append(_uuid(value))
            elif kind == "~department":
                terms.departments.append(_uuid(value))
            else:
                terms.records.setdefault(kind, []).append(str(_uuid(value)))
    for name, registered in plain:  # a finder with no statement (none today)
        found = registered.find(text) if registered.find else []
        if found:
            terms.records[name] = [str(v) for v in found[:NAMED_LIMIT]]
    return terms


@functools.cache
def _names_statement(
    people_only: bool, cased: bool
) -> tuple[sa.Select | sa.CompoundSelect | None, list[tuple[str, vocabulary.RecordType]]]:
    """The one statement of `resolve`, built once per (people only, letter case) with the
    term and the chain as parameters; and the record types whose finder has no statement."""
    from portal.tenancy.models import Department, Tenant

    term = vocabulary.TermToCome(cased)
    parts: list[tuple[str, Any]] = []
    plain: list[tuple[str, vocabulary.RecordType]] = []
    users = vocabulary.record_type("User")
    if _finder(users) is not None:
        parts.append(("~actor", _finder(users)(term)))
    if not people_only:
        named = vocabulary.contains(Department.name, term)
        parts.append(("~department", sa.select(Department.id).where(named).limit(NAMED_LIMIT)))
        for name, registered in vocabulary.record_types().items():
            if registered.find is None:
                continue
            query = _finder(registered)
            if query is None:
                plain.append((name, registered))
            elif name == "Tenant":  # not scoped to a district: its chain names only itself
                parts.append((name, query(term).where(Tenant.id == sa.bindparam("chain"))))
            else:
                parts.append((name, query(term)))
    if not parts:
        return None, plain
    selects = [
        sa.select(sa.literal(kind).label("kind"), sub.c[0].label("id")).select_from(sub)
        for kind, statement in parts
        for sub in [statement.limit(NAMED_LIMIT).subquery()]
    ]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)), plain


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _text_window(chain: uuid.UUID, until: dt.datetime | None) -> Any:
    """The lowest seq the free-text search reads: TEXT_WINDOW below the newest event (the
    newest before `until`, when an end date is chosen). One index row, read inside the
    page's statement; the chain, the end and the size are values of a statement built once."""
    values = {"window_chain": chain, "window_size": TEXT_WINDOW, "window_until": until}
    return _window_statement(until is not None).params(values).scalar_subquery()


@functools.cache
def _window_statement(until: bool) -> sa.Select:
    """`_text_window`'s statement with bound parameters: building it per request (an alias
    of the trail) cost more CPU than reading its index row."""
    e = aliased(AuditEvent)
    chain = sa.bindparam("window_chain", type_=AuditEvent.tenant_id.type)
    size = sa.bindparam("window_size", type_=sa.BigInteger())
    newest = sa.select(e.seq - size).where(e.tenant_id == chain)
    if until:
        end = sa.bindparam("window_until", type_=AuditEvent.occurred_at.type)
        newest = newest.where(e.occurred_at < end).order_by(e.occurred_at.desc())
    else:
        newest = newest.order_by(e.seq.desc())
    return newest.limit(1)


def search_condition(
    chain: uuid.UUID, text: str, until: dt.datetime | None = None, terms: Terms | None = None
) -> sa.ColumnElement[bool]:
    """What a search finds: events of the actions, record types, people, departments and
    records the term names (`resolve`), each an equality an index answers, anywhere in the
    trail; and the term in the events' short stored text (names, files, pages) among the
    newest TEXT_WINDOW events — never a LIKE over the whole trail or the change data."""
    e = AuditEvent
    terms = resolve(chain, text) if terms is None else terms
    match = vocabulary.contains(SEARCH_EXPR, text)
    conditions: list[sa.ColumnElement[bool]] = [sa.and_(e.seq > _text_window(chain, until), match)]
    if terms.actions:
        conditions.append(e.action.in_(terms.actions))
    if terms.record_types:
        conditions.append(e.entity_type.in_(terms.record_types))
    if terms.actors:
        conditions.append(e.actor_id.in_(terms.actors))
    if terms.departments:
        conditions.append(e.department_id.in_(terms.departments))
    for name, ids in sorted(terms.records.items()):
        conditions.append(sa.and_(e.entity_type == name, e.entity_id.in_(ids)))
    return sa.or_(*conditions)


def filtered(
    chain: uuid.UUID, f: EventFilter, officer_department: uuid.UUID | None = None
) -> sa.Select:
    """Events of one chain matching the filter (an officer: only their department's)."""
    e = AuditEvent
    query = sa.select(e).where(e.tenant_id == chain)
    if officer_department is not None:
        query = query.where(e.department_id == officer_department)
    if f.actor:
        try:
            query = query.where(e.actor_id == uuid.UUID(f.actor))
        except ValueError:
            ids = resolve(chain, f.actor, people_only=True).actors
            by_name = e.actor_name == f.actor
            query = query.where(sa.or_(e.actor_id.in_(ids), by_name) if ids else by_name)
    if f.department_id:
        query = query.where(e.department_id == f.department_id)
    if f.module:
        query = query.where(e.action.in_(vocabulary.codes_of(f.module) or [f.module]))
    if f.action:
        query = query.where(e.action == f.action)
    if f.entity_type:
        query = query.where(e.entity_type == f.entity_type)
    if f.entity_id:
        query = query.where(e.entity_id == f.entity_id)
    until = None
    if f.date_from:
        query = query.where(e.occurred_at >= _local_midnight_utc(f.date_from))
    if f.date_to:
        until = _local_midnight_utc(f.date_to + dt.timedelta(days=1))
        query = query.where(e.occurred_at < until)
    if f.q:
        query = query.where(search_condition(chain, f.q, until))
    return query


def get_event(chain: uuid.UUID, seq: int) -> AuditEvent | None:
    return db.session.get(AuditEvent, (chain, seq))


def changes_of(event: AuditEvent) -> list[dict[str, Any]]:
    """Rows for the detail page: field, before, after (row changes) or key, value (data)."""
    try:
        data = json.loads(event.changes or "{}")
    except ValueError:
        return [{"field": "changes", "before": None, "after": event.changes, "row": False}]
    out = []
    for key, value in sorted(data.items()):
        if isinstance(value, dict) and set(value) <= {"before", "after"} and value:
            out.append(
                {
                    "field": key,
                    "before": value.get("before"),
                    "after": value.get("after"),
                    "has_before": "before" in value,
                    "has_after": "after" in value,
                    "row": True,
                }
            )
        else:
            out.append({"field": key, "value": value, "row": False})
    return out


def department_names(tenant_id: uuid.UUID | None) -> dict[uuid.UUID, str]:
    """The district's departments by id (the filter's list and every row's department),
    kept by `kernel.memo`: asked on every page of the trail, changed by a write there."""
    if tenant_id is None:
        return {}
    from portal.tenancy.models import Department

    def load() -> dict[uuid.UUID, str]:
        return dict(db.session.execute(sa.select(Department.id, Department.name)).all())

    return memo.remembered(("audit_department_names",), load, tenant_id)


# --- exports ----------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_name",
    "actor_role",
    "ip",
    "request_id",
    *RECORD_COLUMNS,
    "hash",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A spreadsheet must never run a cell as a formula: prefix an apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _export_value(event: AuditEvent, column: str) -> Any:
    value = getattr(event, column)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat() + "Z"
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def export_rows(
    engine: sa.Engine, chain: uuid.UUID, query: sa.Select, sort: str = "", desc: bool = False
) -> Iterator[Any]:
    """In the viewer's chosen order (none chosen: oldest first), streamed in batches,
    capped at EXPORT_LIMIT rows.

    Runs on its own connection, outside Flask's contexts and the request's Session: the
    body is sent after the view returned, and an abandoned download must leave nothing
    behind. Read-only: a deferred transaction on SQLite (never the write lock); on
    PostgreSQL the chain is set for row-level security as the request would.
    """
    table = AuditEvent.__table__
    order = [table.c[k.key] for k in paging.order_keys(sort)]
    statement = sa.select(*table.c).order_by(*(c.desc() if desc else c.asc() for c in order))
    statement = statement.limit(EXPORT_LIMIT)
    if query.whereclause is not None:
        statement = statement.where(query.whereclause)
    with engine.connect() as conn:
        conn.execution_options(sqlite_read_only=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "SELECT set_config('app.tenant_id', %(t)s, true), "
                    "set_config('app.cross_tenant', 'off', true)",
                    {"t": "" if chain == PLATFORM_CHAIN else str(chain)},
                )
            result = conn.execution_options(yield_per=2000).execute(statement)
            yield from result


def readable_columns() -> list[tuple[str, Any]]:
    """The readable export's columns: (header in the reader's language, value of a row)."""
    from flask_babel import gettext as _

    return [
        (_("Event no."), lambda r: r.seq),
        (_("Time"), lambda r: r.when),
        (_("Person"), lambda r: r.actor),
        (_("Role"), lambda r: r.role),
        (_("Module"), lambda r: r.module),
        (_("Action"), lambda r: r.action),
        (_("Record type"), lambda r: r.record_type),
        (_("Record"), lambda r: r.record),
        (_("Department"), lambda r: r.department),
        (_("Event summary"), lambda r: r.summary),
        (_("Changes"), lambda r: "\n".join(c.text for c in r.changes)),
        (_("Details"), lambda r: "\n".join(f"{k}：{v}" for k, v in r.details)),
        (_("IP address"), lambda r: r.event.ip),
        (_("Hash"), lambda r: r.event.hash),
    ]


def readable_rows(events: Iterator[Any], district: bool, batch: int = 500) -> Iterator[list[Any]]:
    """Export rows as people read the trail (labels, names, change text), formulas
    neutralised; names are looked up once per batch."""
    columns = [value for _header, value in readable_columns()]
    chunk: list[Any] = []

    def flush() -> Iterator[list[Any]]:
        for shown in display.present(chunk, district=district, detail=True):
            yield [neutralise(v) if isinstance(v, str) else v for v in (c(shown) for c in columns)]

    for event in events:
        chunk.append(event)
        if len(chunk) >= batch:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def export_csv(events: Iterator[Any], district: bool = True) -> Iterator[str]:
    """UTF-8 with BOM (Excel opens it as UTF-8), headers in the reader's language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _value in readable_columns()])
    yield "\ufeff" + buffer.getvalue()
    for row in readable_rows(events, district):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def export_xlsx(events: Iterator[Any], district: bool = True) -> bytes:
    """An Excel workbook of the same rows (openpyxl, write-only: constant memory per row)."""
    from flask_babel import gettext as _
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Audit trail"))
    widths = (8, 18, 12, 12, 12, 16, 12, 30, 16, 40, 50, 30, 14, 20)
    for index, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.append([header for header, _value in readable_columns()])
    for row in readable_rows(events, district):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def export_jsonl(events: Iterator[AuditEvent]) -> Iterator[str]:
    for event in events:
        row = {c: _export_value(event, c) for c in EXPORT_COLUMNS}
        row["changes"] = json.loads(event.changes or "{}")
        yield json.dumps(row, ensure_ascii=False) + "\n"


def count_for_export(query: sa.Select) -> int:
    """The exact number of rows an export will hold (capped), for its audit event."""
    return db.session.execute(sa.select(paging.capped_total(query, EXPORT_LIMIT - 1))).scalar_one()


def record_export(chain: uuid.UUID, fmt: str, rows: int, f: EventFilter) -> None:
    """The export is itself an audit event (the request commits it before the body streams)."""
    trail.record(
        db.session,
        "export",
        tenant_id=chain,
        entity_type="AuditEvent",
        data={"format": fmt, "rows": rows, "filter": f.args()},
    )
