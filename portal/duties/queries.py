"""What reads duties: lists with progress, one duty's page, the status matrix, overdue.

Overdue has one definition, here (`overdue_condition` in SQL, `is_overdue` for a loaded
duty, both from `OVERDUE_RULE`): past its due date (the end of its half-year) and not
signed off. The home counts, the lists, the API and the export all use it. Every list
is bounded (a page, a period, or an explicit limit). Work in the current tenant scope;
nothing here filters by tenant itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from portal.auth.models import User
from portal.db import derived
from portal.duties.models import Duty, DutyReviewRecord, DutyStatus, EvidenceFile, ProgressEntry
from portal.duties.rules import OPEN, SIGNED
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.inputs import matching
from portal.kernel.periods import Period
from portal.policy.models import Measure
from portal.tenancy import scope
from portal.tenancy.models import Department

STATUS_FILTERS = (*DutyStatus.__members__, "open", "overdue")
PANEL_LIMIT = 10

# --- overdue: the one definition -------------------------------------------------------------


def is_overdue(duty: Duty | ShownDuty, on: dt.date | None = None) -> bool:
    """Past its due date on `on` (today) and not signed off."""
    return duty.status not in SIGNED and duty.due_date < (on or today())


def overdue_condition(on: dt.date | None = None) -> sa.ColumnElement[bool]:
    """`is_overdue` as SQL."""
    return sa.and_(Duty.status.not_in(SIGNED), Duty.due_date < (on or today()))


# --- lists -----------------------------------------------------------------------------------


@dataclass
class DutyRow:
    """A duty with its progress summary (for lists)."""

    duty: Duty
    entries: int
    families: int
    amount: decimal.Decimal
    last_work: dt.date | None

    @property
    def overdue(self) -> bool:
        return is_overdue(self.duty)


def _progress_subquery(period: str | None = None) -> Any:
    """Entries aggregated per duty; limited to the period's duties when one is given."""
    stmt = sa.select(
        ProgressEntry.duty_id.label("duty_id"),
        sa.func.count(ProgressEntry.id).label("entries"),
        sa.func.coalesce(sa.func.sum(ProgressEntry.families_reached), 0).label("families"),
        sa.func.coalesce(sa.func.sum(ProgressEntry.amount_paid), 0).label("amount"),
        sa.func.max(ProgressEntry.work_date).label("last_work"),
    )
    if period:
        # Not an alias: the scoping hook's department condition names the plain table.
        stmt = stmt.join(
            Duty,
            sa.and_(Duty.tenant_id == ProgressEntry.tenant_id, Duty.id == ProgressEntry.duty_id),
        ).where(Duty.period == period)
    return stmt.group_by(ProgressEntry.duty_id).subquery()


def duty_query(
    period: Period | str | None = None,
    status: str | None = None,
    department_id: uuid.UUID | None = None,
    search: str = "",
) -> sa.Select:
    """Duties with their progress summary, in due-date, department and measure order."""
    code = Period.parse(period).code if period else None
    if search:
        return _duty_query(code, status, department_id, search, None)
    # Building this statement costs a third of running it (the lead's home builds two);
    # the statements without a search are few and immutable, so each is built once (the
    # overdue list's with the day it is built on).
    on = today() if status == "overdue" else None
    return _duty_query_kept(code, status, department_id, on)


@functools.lru_cache(maxsize=512)
def _duty_query_kept(
    code: str | None, status: str | None, department_id: uuid.UUID | None, on: dt.date | None
) -> sa.Select:
    return _duty_query(code, status, department_id, "", on)


def _duty_query(
    code: str | None,
    status: str | None,
    department_id: uuid.UUID | None,
    search: str,
    on: dt.date | None,
) -> sa.Select:
    progress = _progress_subquery(code)
    stmt = (
        sa.select(
            Duty,
            sa.func.coalesce(progress.c.entries, 0),
            sa.func.coalesce(progress.c.families, 0),
            sa.func.coalesce(progress.c.amount, 0),
            progress.c.last_work,
        )
        .outerjoin(progress, progress.c.duty_id == Duty.id)
        # Department and measure joined once, for sorting and searching, loaded from it.
        .join(
            Department,
            sa.and_(Department.tenant_id == Duty.tenant_id, Department.id == Duty.department_id),
        )
        .join(Measure, sa.and_(Measure.tenant_id == Duty.tenant_id, Measure.id == Duty.measure_id))
        .options(contains_eager(Duty.department), contains_eager(Duty.measure))
        .order_by(Duty.due_date, Department.sort_order, Measure.position, Duty.measure_number)
    )
    if code:
        stmt = stmt.where(Duty.period == code)
    if status == "overdue":
        stmt = stmt.where(overdue_condition(on))
    elif status == "open":
        stmt = stmt.where(Duty.status.in_(OPEN))
    elif status in DutyStatus.__members__:
        stmt = stmt.where(Duty.status == DutyStatus(status))
    if department_id:
        stmt = stmt.where(Duty.department_id == department_id)
    if search:
        stmt = stmt.where(matching(search, Measure.title, Duty.measure_number, Department.name))
    return stmt


def _page(stmt: sa.Select, limit: int, offset: int) -> sa.Select:
    return derived(stmt, ("page", limit, offset), lambda s: s.limit(limit).offset(offset))


def rows(stmt: sa.Select, limit: int, offset: int = 0) -> list[DutyRow]:
    """At most `limit` rows of a `duty_query`."""
    return [
        DutyRow(duty=d, entries=int(n), families=int(f), amount=decimal.Decimal(a), last_work=w)
        for d, n, f, a, w in db.session.execute(_page(stmt, limit, offset)).unique().all()
    ]


def period_rows(period: Period | str) -> list[DutyRow]:
    """Every duty of one half-year (bounded by the policy's measures × departments)."""
    stmt = duty_query(period=period)
    return [
        DutyRow(duty=d, entries=int(n), families=int(f), amount=decimal.Decimal(a), last_work=w)
        for d, n, f, a, w in db.session.execute(stmt).unique().all()
    ]


def count(stmt: sa.Select) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()


def page(stmt: sa.Select, page_no: int, per_page: int) -> tuple[list[DutyRow], int]:
    """One page of rows and the total; a short page (the usual case) is its own count."""
    offset = (max(page_no, 1) - 1) * per_page
    found = rows(stmt, limit=per_page, offset=offset)
    if 0 < len(found) < per_page or (offset == 0 and not found):
        return found, offset + len(found)
    return found, count(stmt)


def review_queue(search: str = "") -> sa.Select:
    """Submitted duties of any period, oldest submission first."""
    return (
        duty_query(status=DutyStatus.submitted.value, search=search)
        .order_by(None)
        .order_by(Duty.submitted_at, Measure.position, Duty.measure_number)
    )


def lead_panel(period: Period) -> dict[str, Any]:
    """The lead's and auditor's home panel: matrix, overdue and returned duties."""
    matrix = status_matrix(period)
    return {
        "period": period,
        "matrix": matrix,
        "totals": status_totals(matrix),
        "overdue": rows(duty_query(status="overdue"), limit=PANEL_LIMIT),
        "returned": rows(duty_query(status=DutyStatus.returned.value), limit=PANEL_LIMIT),
    }


def officer_panel(period: Period) -> dict[str, Any]:
    """An officer's open duties up to the current half-year (not future ones)."""
    stmt = duty_query(status="open").where(Duty.period <= period.code)
    return {"period": period, "rows": rows(stmt, limit=PANEL_LIMIT)}


# --- one duty --------------------------------------------------------------------------------


def get_duty(duty_id: uuid.UUID) -> Duty | None:
    return scope.get_scoped(Duty, duty_id)


def get_entry(duty: Duty, entry_id: uuid.UUID) -> ProgressEntry | None:
    return db.session.execute(
        sa.select(ProgressEntry).where(
            ProgressEntry.id == entry_id, ProgressEntry.duty_id == duty.id
        )
    ).scalar_one_or_none()


def get_evidence(evidence_id: uuid.UUID) -> EvidenceFile | None:
    return db.session.execute(
        sa.select(EvidenceFile).where(EvidenceFile.id == evidence_id)
    ).scalar_one_or_none()


def entries_stmt(duty: Duty) -> sa.Select:
    """A duty's entries with their evidence (for the API's paginated list)."""
    return (
        sa.select(ProgressEntry)
        .where(ProgressEntry.duty_id == duty.id)
        .order_by(ProgressEntry.work_date, ProgressEntry.created_at)
        .options(selectinload(ProgressEntry.evidence))
    )


@dataclass(slots=True)
class ShownEvidence:
    """An evidence file as the duty's page and the API show it (plain values)."""

    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    effective_date: dt.date | None


@dataclass(slots=True)
class ShownEntry:
    """A progress entry as the duty's page and the API show it (plain values)."""

    id: uuid.UUID
    duty_id: uuid.UUID
    work_date: dt.date
    narrative: str
    families_reached: int
    amount_paid: decimal.Decimal
    created_by_id: uuid.UUID | None
    created_at: dt.datetime
    row_version: int
    evidence: list[ShownEvidence]


@dataclass(slots=True)
class ShownRecord:
    """A sign-off history record as the duty's page and the API show it (plain values)."""

    action: str
    actor_id: uuid.UUID | None
    note: str
    at: dt.datetime


@dataclass
class DutyPage:
    """What the duty's page shows: entries with evidence, review history, people's names."""

    entries: list[ShownEntry]
    history: list[ShownRecord]
    names: dict[uuid.UUID, str]


_ENTRY_COLUMNS = (
    ProgressEntry.id,
    ProgressEntry.duty_id,
    ProgressEntry.work_date,
    ProgressEntry.narrative,
    ProgressEntry.families_reached,
    ProgressEntry.amount_paid,
    ProgressEntry.created_by_id,
    ProgressEntry.created_at,
    ProgressEntry.row_version,
)
_EVIDENCE_COLUMNS = (
    EvidenceFile.id,
    EvidenceFile.filename,
    EvidenceFile.content_type,
    EvidenceFile.size,
    EvidenceFile.sha256,
    EvidenceFile.effective_date,
)


_HISTORY_COLUMNS = (
    DutyReviewRecord.action,
    DutyReviewRecord.actor_id,
    DutyReviewRecord.note,
    DutyReviewRecord.at,
)


def _blank(column: Any) -> Any:
    """A NULL in the place of `column` in the other half of the union, typed as the column
    so that the union's result (typed by its first half) converts it on every backend."""
    return sa.type_coerce(sa.null(), column.type)


def _no_history(column: Any) -> Any:
    """A NULL in the place of a history column, cast to its type: PostgreSQL types a
    union of unions left to right, so a column that is NULL in both parts before the
    history would be text there, which a UUID or a time does not match."""
    return sa.cast(sa.null(), column.type)


#: `part` of a page statement's rows (the shown duty's statement adds the duty, part 0).
_ENTRY, _HISTORY = 1, 2


def _entries_part(duty_id: Any, prefix: tuple[Any, ...] = ()) -> sa.Select:
    """A duty's entries with their files and authors' names; `prefix`: columns put after
    `part` (another statement's typed NULLs), as a union's part."""
    return (
        sa.select(
            sa.literal(_ENTRY).label("part"),
            *prefix,
            # every column named: SQLite orders a union by the names of its result
            *(c.label(c.key) for c in _ENTRY_COLUMNS),
            User.display_name.label("display_name"),
            EvidenceFile.id.label("evidence_id"),
            *(c.label(c.key) for c in _EVIDENCE_COLUMNS[1:]),
            EvidenceFile.uploaded_at.label("uploaded_at"),
            *(_no_history(c).label(f"history_{c.key}") for c in _HISTORY_COLUMNS),
        )
        .select_from(ProgressEntry)
        .outerjoin(User, User.id == ProgressEntry.created_by_id)
        .outerjoin(
            EvidenceFile,
            sa.and_(
                EvidenceFile.tenant_id == ProgressEntry.tenant_id,
                EvidenceFile.entry_id == ProgressEntry.id,
            ),
        )
        .where(ProgressEntry.duty_id == duty_id)
    )


def _history_part(duty_id: Any, prefix: tuple[Any, ...] = ()) -> sa.Select:
    """A duty's sign-off history with the actors' names, as a union's part after entries."""
    return (
        sa.select(
            sa.literal(_HISTORY),
            *prefix,
            *(_blank(c) for c in _ENTRY_COLUMNS),
            User.display_name,
            *(_blank(c) for c in _EVIDENCE_COLUMNS),
            _blank(EvidenceFile.uploaded_at),
            *_HISTORY_COLUMNS,
        )
        .select_from(DutyReviewRecord)
        .outerjoin(User, User.id == DutyReviewRecord.actor_id)
        .where(DutyReviewRecord.duty_id == duty_id)
    )


def _page_order(both: sa.CompoundSelect) -> sa.CompoundSelect:
    c = both.selected_columns
    return both.order_by(
        c.part, c.work_date, c.created_at, c.id, c.uploaded_at, c.evidence_id, c.history_at
    )


@functools.cache
def _duty_page_statements() -> tuple[sa.Select, sa.CompoundSelect]:
    """Built once: the page shown after a write refused (and the API's duty) runs one of
    them with the duty's id as the only parameter — the entries alone for a duty never
    signed off, else the entries and the history in one UNION ALL (a statement less: each costs the page a round trip and SQLAlchemy's
    per-statement work, about a tenth of its CPU).

    Columns, not entities: the page only reads them, and rows skip the identity map and
    instance state (half the cost of the statements). They are still ORM statements
    over the mapped classes, so the scoping hook adds the district's (and an officer's
    department's) conditions to every table, joins and both halves of the union included
    (tests/duties/test_kept_forms.py checks the SQL)."""
    duty_id = sa.bindparam("duty_id")
    entries = _entries_part(duty_id)
    return (
        entries.order_by(
            ProgressEntry.work_date,
            ProgressEntry.created_at,
            ProgressEntry.id,
            EvidenceFile.uploaded_at,
            EvidenceFile.id,
        ),
        _page_order(sa.union_all(entries, _history_part(duty_id))),
    )


@dataclass(frozen=True, slots=True)
class ShownMeasure:
    """The duty's measure as its page (and the domains' live figures) read it."""

    title: str
    text: str
    category: str


@dataclass(frozen=True, slots=True)
class ShownDepartment:
    name: str


@dataclass(slots=True)
class ShownDuty:
    """A duty as its page shows it and the `rules.can_*` read it (plain values, no ORM
    state): the page reads it with its entries and history in one statement. The write
    paths load the ORM `Duty` (`get_duty`) and hand it to the same page."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    period: str
    department_id: uuid.UUID
    measure_id: uuid.UUID
    measure_number: str
    role: Any
    due_date: dt.date
    status: DutyStatus
    assessment: Any
    assessment_reason: str
    sign_off_statement: str
    submitted_at: dt.datetime | None
    submitted_by_id: uuid.UUID | None
    reviewed_at: dt.datetime | None
    reviewed_by_id: uuid.UUID | None
    review_note: str
    row_version: int
    measure: ShownMeasure
    department: ShownDepartment

    @property
    def signed_off(self) -> bool:
        return self.status in SIGNED


_DUTY_COLUMNS = (
    Duty.id,
    Duty.tenant_id,
    Duty.period,
    Duty.department_id,
    Duty.measure_id,
    Duty.measure_number,
    Duty.role,
    Duty.due_date,
    Duty.status,
    Duty.assessment,
    Duty.assessment_reason,
    Duty.sign_off_statement,
    Duty.submitted_at,
    Duty.submitted_by_id,
    Duty.reviewed_at,
    Duty.reviewed_by_id,
    Duty.review_note,
    Duty.row_version,
)
_SHOWN_COLUMNS = (*_DUTY_COLUMNS, Measure.title, Measure.text, Measure.category, Department.name)


@functools.cache
def _shown_duty_statement() -> sa.CompoundSelect:
    """Built once: the duty (with its measure's and department's names), its entries with
    their files and authors, and its history, in one UNION ALL of three parts told apart
    by `part` (0: the duty, 1: entries, 2: history; each part's other columns are typed
    NULLs). One statement where the page sent two (the duty as an ORM object with its
    measure and department joined, then `duty_page`'s). Still an ORM statement over the
    mapped classes: the scoping hook narrows every table of every part (district, an
    officer's department), so an out-of-scope duty gives no part 0 row (→ 404) and its
    entries and history no rows either."""
    duty_id = sa.bindparam("duty_id")
    blanks = tuple(_blank(c) for c in _SHOWN_COLUMNS)
    duty = (
        sa.select(
            sa.literal(0).label("part"),
            *(c.label(f"shown_{c.key}") for c in _DUTY_COLUMNS),
            Measure.title.label("measure_title"),
            Measure.text.label("measure_text"),
            Measure.category.label("measure_category"),
            Department.name.label("department_name"),
            *(_blank(c).label(c.key) for c in _ENTRY_COLUMNS),
            _blank(User.display_name).label("display_name"),
            _blank(EvidenceFile.id).label("evidence_id"),
            *(_blank(c).label(c.key) for c in _EVIDENCE_COLUMNS[1:]),
            _blank(EvidenceFile.uploaded_at).label("uploaded_at"),
            *(_no_history(c).label(f"history_{c.key}") for c in _HISTORY_COLUMNS),
        )
        .select_from(Duty)
        .join(Measure, sa.and_(Measure.tenant_id == Duty.tenant_id, Measure.id == Duty.measure_id))
        .join(
            Department,
            sa.and_(Department.tenant_id == Duty.tenant_id, Department.id == Duty.department_id),
        )
        .where(Duty.id == duty_id)
    )
    return _page_order(
        sa.union_all(duty, _entries_part(duty_id, blanks), _history_part(duty_id, blanks))
    )


def shown_duty_page(duty_id: uuid.UUID) -> tuple[ShownDuty, DutyPage] | None:
    """The duty as its page shows it, with `duty_page`'s entries, history and names, in
    one statement; None when it does not exist or is out of scope (the caller's 404)."""
    rows = db.session.execute(_shown_duty_statement(), {"duty_id": duty_id}).all()
    if not rows or rows[0][0] != 0:
        return None
    n = len(_DUTY_COLUMNS) + 1
    first = rows[0]
    duty = ShownDuty(
        *first[1:n],
        measure=ShownMeasure(*first[n : n + 3]),
        department=ShownDepartment(first[n + 3]),
    )
    skip = len(_SHOWN_COLUMNS)
    return duty, _page_from_rows(duty, (r[:1] + r[1 + skip :] for r in rows[1:]))


def duty_page(duty: Duty) -> DutyPage:
    """Entries (with their files) and history, each with their author's name joined in:
    one statement, plain rows."""
    entries_only, with_history = _duty_page_statements()
    # The history is written by a sign-off and what follows it (review, a withdrawal by a
    # later edit); the sign-off sets `submitted_at`, which nothing clears. A duty never
    # signed off has none: the statement without it is sent.
    stmt = entries_only if duty.submitted_at is None else with_history
    return _page_from_rows(duty, db.session.execute(stmt, {"duty_id": duty.id}))


def _page_from_rows(duty: Duty | ShownDuty, rows: Iterable[Sequence[Any]]) -> DutyPage:
    """`DutyPage` from rows of `_entries_part` and `_history_part` (part first)."""
    names: dict[uuid.UUID, str] = {}
    entries: list[ShownEntry] = []
    history: list[ShownRecord] = []
    n_entry = len(_ENTRY_COLUMNS) + 1
    n_evidence = n_entry + 1 + len(_EVIDENCE_COLUMNS)
    for row in rows:
        if row[0] == _HISTORY:
            record = ShownRecord(*row[n_evidence + 1 :])
            history.append(record)
            if row[n_entry] is not None:
                names[record.actor_id] = row[n_entry]  # type: ignore[index]
            continue
        if not entries or entries[-1].id != row[1]:
            entries.append(ShownEntry(*row[1:n_entry], evidence=[]))
            if row[n_entry] is not None:
                names[entries[-1].created_by_id] = row[n_entry]  # type: ignore[index]
        if row[n_entry + 1] is not None:
            entries[-1].evidence.append(ShownEvidence(*row[n_entry + 1 : n_evidence]))
    missing = {duty.submitted_by_id, duty.reviewed_by_id} - set(names) - {None}
    if missing:  # a sign-off or review without its history record (data from before it)
        names.update(
            db.session.execute(
                sa.select(User.id, User.display_name).where(User.id.in_(missing))
            ).all()
        )
    return DutyPage(entries, history, names)


def period_entries(period: Period | str) -> list[ProgressEntry]:
    """Every entry of a half-year's duties, with evidence (for the export)."""
    code = Period.parse(period).code
    return list(
        db.session.execute(
            sa.select(ProgressEntry)
            .join(Duty, Duty.id == ProgressEntry.duty_id)
            .where(Duty.period == code)
            .order_by(ProgressEntry.work_date, ProgressEntry.created_at)
            .options(selectinload(ProgressEntry.evidence))
        )
        .scalars()
        .all()
    )


# --- the status matrix: departments × status counts ------------------------------------------


@dataclass
class MatrixRow:
    department_id: uuid.UUID
    department: str
    counts: dict[str, int]
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def status_matrix(
    period: Period | str | None = None, as_of: dt.date | None = None
) -> list[MatrixRow]:
    """Departments × status counts, with overdue as of `as_of` (today), in one query."""
    code = Period.parse(period).code if period else Period.current().code
    overdue = sa.case((overdue_condition(as_of), 1), else_=0)
    result = db.session.execute(
        sa.select(
            Department.id,
            Department.name,
            Department.sort_order,
            Duty.status,
            sa.func.count(Duty.id),
            sa.func.sum(overdue),
        )
        .join(Duty, Duty.department_id == Department.id)
        .where(Duty.period == code)
        .group_by(Department.id, Department.name, Department.sort_order, Duty.status)
        .order_by(Department.sort_order, Department.name)
    ).all()
    matrix: dict[uuid.UUID, MatrixRow] = {}
    for dept_id, name, _order, status, n, late in result:
        row = matrix.setdefault(dept_id, MatrixRow(dept_id, name, {s.value: 0 for s in DutyStatus}))
        row.counts[DutyStatus(status).value] += int(n)
        row.overdue += int(late or 0)
    return list(matrix.values())


def status_totals(matrix: list[MatrixRow]) -> dict[str, int]:
    totals = {s.value: 0 for s in DutyStatus}
    for row in matrix:
        for k, v in row.counts.items():
            totals[k] += v
    totals["overdue"] = sum(r.overdue for r in matrix)
    totals["total"] = sum(r.total for r in matrix)
    return totals
