"""`python -m bench.seed_scale --tenants N`: fill a database with national-scale volumes.

How: the first scale tenant (the *template*) is built through the real code paths — the
policy loader, `create_user`, the ORM with audit capture — so its rows and audit events
are exactly what the app writes. Every further tenant is a clone of the template made
with bulk inserts (COPY on PostgreSQL, executemany on SQLite): every id is replaced by a
fresh one, the slug and name are replaced in every text, and the audit events are
re-chained per tenant with `portal.audit.trail.chain_hash`, the hashing code the app and
`portal audit verify` use. The tenant's creation event is appended to the platform chain
under its head's row lock, so `portal audit verify` passes afterwards.

Rows of every tenant-owned table are cloned, found through the metadata, so tables
added by other domains (meetings …) are cloned as soon as the template builder fills them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal.audit import trail
from portal.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEvent
from portal.db import Base, new_id
from portal.extensions import db
from portal.kernel.periods import Period
from portal.tenancy import scope

PREFIX = "scale"
BENCH_PASSWORD = "Bench-2026-pass"  # noqa: S105 - printed for the benchmark on purpose
DEFAULT_TEMPLATE = "jiangyan"
OFFICERS_PER_DEPARTMENT = 3
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Tables with a tenant_id that are not cloned row by row.
NOT_CLONED = {"audit_events", "audit_chain_heads", "api_tokens", "tenants", "login_attempts"}


def officer_username(slug: str, department_key: str, n: int = 1) -> str:
    """The n-th seeded officer of a department, e.g. `scale-01400-health-1`."""
    return f"{slug}-{department_key.replace('_', '-')}-{n}"


def slug_for(i: int) -> str:
    return f"{PREFIX}-{i:05d}"


def name_for(i: int) -> str:
    return f"规模测试区{i:05d}"


def periods(count: int, last: str = "2026H2") -> list[str]:
    """`count` half-year periods ending with `last`, oldest first: 2022H1 … 2026H2."""
    end = Period.parse(last)
    return [end.shift(-k).code for k in range(count - 1, -1, -1)]


# --------------------------------------------------------------------------- template


def _actor_for(user: Any) -> trail.Actor:
    return trail.Actor(id=user.id, name=user.username, role=str(user.role), request_id="seed-scale")


def _review_record(duty: Any, action: str, actor: Any) -> Any:
    """The history line of a sign-off or review the seed writes on a duty."""
    from portal.duties.models import DutyReviewRecord

    return DutyReviewRecord(
        duty_id=duty.id, department_id=duty.department_id, action=action, actor_id=actor.id
    )


def build_template(template: str, period_count: int, entries_per_duty: int) -> uuid.UUID:
    """Tenant 1 through the app's own code paths; returns its id."""
    from portal.auth.models import Role, User
    from portal.demo import load_policy_file
    from portal.duties.generation import new_duty
    from portal.duties.models import Assessment, DutyStatus, ProgressEntry
    from portal.policy.loader import apply_policy
    from portal.policy.models import Measure
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import ensure_department_kinds

    data = load_policy_file(template)
    rng = random.Random(1)
    slug, name = slug_for(1), name_for(1)
    with trail.acting_as(trail.system_actor("seed-scale")):
        with scope.cross_tenant("seed-scale: reference data and tenant row"):
            ensure_department_kinds()
            tenant = Tenant(
                slug=slug,
                name=name,
                name_en=f"Scale district {1:05d}",
                level="区",
                province=data["tenant"]["province"],
            )
            db.session.add(tenant)
            db.session.commit()
            tenant_id = tenant.id
        with scope.tenant_scope(tenant_id):
            apply_policy(tenant, data)
            db.session.commit()
            from portal.tenancy.models import Department

            departments = list(
                db.session.execute(sa.select(Department).order_by(Department.sort_order)).scalars()
            )
            password_hash = _one_hash()
            # the lead first (`lead = users[0]` below), then the auditor
            district_roles = (
                (Role.district_lead, "lead", "联席办"),
                (Role.auditor, "auditor", "审计"),
            )
            users = [
                User(
                    username=f"{slug}-{suffix}",
                    display_name=f"{name}{title}",
                    role=role,
                    tenant_id=tenant_id,
                    password_hash=password_hash,
                )
                for role, suffix, title in district_roles
            ]
            officers: dict[uuid.UUID, list[User]] = {}
            for dept in departments:
                for n in range(1, OFFICERS_PER_DEPARTMENT + 1):
                    u = User(
                        username=officer_username(slug, dept.key, n),
                        display_name=f"{dept.name}经办人{n}",
                        role=Role.dept_officer,
                        tenant_id=tenant_id,
                        department_id=dept.id,
                        password_hash=password_hash,
                    )
                    officers.setdefault(dept.id, []).append(u)
                    users.append(u)
            db.session.add_all(users)
            db.session.commit()
            lead = users[0]

            measures = list(
                db.session.execute(
                    sa.select(Measure)
                    .where(Measure.creates_duty.is_(True))
                    .order_by(Measure.position)
                ).scalars()
            )
            all_periods = periods(period_count)
            for p_index, period in enumerate(all_periods):
                current = p_index == len(all_periods) - 1
                half = Period.parse(period)
                end = half.end
                duties = [new_duty(half, m, r) for m in measures for r in m.responsibilities]
                db.session.add_all(duties)
                db.session.commit()
                for duty in duties:
                    officer = officers[duty.department_id][rng.randrange(OFFICERS_PER_DEPARTMENT)]
                    with (
                        trail.acting_as(_actor_for(officer)),
                        scope.tenant_scope(tenant_id, duty.department_id),
                    ):
                        count = rng.randint(0, 2 * entries_per_duty)
                        for k in range(count):
                            db.session.add(
                                ProgressEntry(
                                    duty_id=duty.id,
                                    department_id=duty.department_id,
                                    work_date=end - dt.timedelta(days=150 - 30 * k),
                                    narrative=f"{period} 第{k + 1}次走访慰问特殊家庭，"
                                    f"落实{duty.measure_number}项措施，发放扶助金并登记台账。",
                                    families_reached=rng.randint(1, 40),
                                    amount_paid=decimal.Decimal(rng.randint(0, 200) * 100),
                                    created_by_id=officer.id,
                                )
                            )
                        if count:
                            duty.status = DutyStatus.in_progress
                        if not current or rng.random() < 0.4:
                            duty.status = DutyStatus.submitted
                            duty.assessment = rng.choice(
                                [Assessment.fully, Assessment.fully, Assessment.partly]
                            )
                            duty.sign_off_statement = "本期职责已按要求落实。"
                            duty.submitted_at = dt.datetime.combine(end, dt.time(9))
                            duty.submitted_by_id = officer.id
                            db.session.add(_review_record(duty, "submitted", officer))
                        db.session.flush()
                    if duty.status == DutyStatus.submitted and (not current or rng.random() < 0.5):
                        with trail.acting_as(_actor_for(lead)):
                            duty.status = DutyStatus.accepted
                            duty.reviewed_at = dt.datetime.combine(end, dt.time(15))
                            duty.reviewed_by_id = lead.id
                            db.session.add(_review_record(duty, "accepted", lead))
                            db.session.flush()
                db.session.commit()
            _build_meetings(tenant_id, all_periods, lead, rng)
    return tenant_id


def _build_meetings(
    tenant_id: uuid.UUID, all_periods: list[str], lead: Any, rng: random.Random
) -> None:
    """One joint meeting per period through the meetings operations (once that domain is
    on main): invitations and a draft agenda from live data; past meetings held, with
    three decisions, each with action items for two departments."""
    from importlib.util import find_spec

    if find_spec("portal.meetings") is None or find_spec("portal.meetings.arrangement") is None:
        return
    from portal.meetings import arrangement, decisions
    from portal.tenancy.models import Department

    departments = [
        str(d)
        for d in db.session.execute(
            sa.select(Department.id).order_by(Department.sort_order)
        ).scalars()
    ]
    with trail.acting_as(_actor_for(lead)):
        for p_index, period in enumerate(all_periods):
            end = Period.parse(period).end
            current = p_index == len(all_periods) - 1
            meeting = arrangement.create_meeting(
                lead,
                arrangement.MeetingInput(
                    kind="regular",
                    period=period,
                    meeting_date=end - dt.timedelta(days=10),
                    start_time="09:30",
                    place="区政府第一会议室",
                ),
            )
            if not current:
                for n in range(1, 4):
                    decisions.add_decision(
                        lead,
                        meeting,
                        f"议定事项{n}：{period}各责任单位按期完成扶助金发放和走访慰问。",
                        [
                            decisions.ActionInput(
                                text=f"督办事项{n}：落实{period}会议议定事项并报送进展。",
                                department_ids=rng.sample(departments, 2),
                                due_date=end + dt.timedelta(days=60),
                            )
                        ],
                    )
                arrangement.set_status(lead, meeting, "held", meeting.row_version)
            db.session.commit()


def _one_hash() -> str:
    from portal.auth.passwords import hash_password

    return hash_password(BENCH_PASSWORD)


# --------------------------------------------------------------------------- cloning


@dataclass
class TableTemplate:
    table: sa.Table
    columns: list[str]
    rows: list[list[Any]]
    # per row: indices of values needing a remap, with the kind of remap
    plans: list[list[tuple[int, str]]]


@dataclass
class Template:
    tenant_id: uuid.UUID
    slug: str
    name: str
    tenant_row: dict
    tables: list[TableTemplate]
    events: list[dict]  # the tenant chain, in seq order, without prev_hash/hash
    event_plans: list[list[tuple[str, str]]]
    platform_events: list[dict]
    ids: set[uuid.UUID] = field(default_factory=set)


def _kind(value: Any, ids: set[uuid.UUID], markers: tuple[str, ...]) -> str | None:
    if isinstance(value, uuid.UUID):
        return "u" if value in ids else None
    if isinstance(value, str):
        return "s" if _needs_sub(value, markers) else None
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False)
        return "j" if _needs_sub(text, markers) else None
    return None


def _needs_sub(text: str, markers: tuple[str, ...]) -> bool:
    return any(m in text for m in markers) or UUID_RE.search(text) is not None


def load_template(conn: sa.Connection, tenant_id: uuid.UUID) -> Template:
    tenants = Base.metadata.tables["tenants"]
    tenant_row = dict(
        conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).one()._mapping
    )
    ids: set[uuid.UUID] = {tenant_id}
    raw: list[tuple[sa.Table, list[str], list[list[Any]]]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_CLONED or "tenant_id" not in table.c:
            continue
        cols = [c.name for c in table.columns]
        order = [table.c[c.name] for c in table.primary_key.columns]
        rows = [
            list(r)
            for r in conn.execute(
                sa.select(*table.columns).where(table.c.tenant_id == tenant_id).order_by(*order)
            )
        ]
        if "id" in cols:
            idx = cols.index("id")
            ids.update(r[idx] for r in rows if isinstance(r[idx], uuid.UUID))
        raw.append((table, cols, rows))
    markers = (tenant_row["slug"], tenant_row["name"])
    tables = []
    for table, cols, rows in raw:
        plans = []
        for r in rows:
            plan = []
            for i, v in enumerate(r):
                k = _kind(v, ids, markers)
                if k:
                    plan.append((i, k))
            plans.append(plan)
        tables.append(TableTemplate(table, cols, rows, plans))
    ev = AuditEvent.__table__
    events = [
        dict(r._mapping)
        for r in conn.execute(sa.select(ev).where(ev.c.tenant_id == tenant_id).order_by(ev.c.seq))
    ]
    event_plans = []
    for e in events:
        plan = []
        for key, v in e.items():
            if key in ("seq", "prev_hash", "hash"):
                continue
            k = _kind(v, ids, markers)
            if k:
                plan.append((key, k))
        event_plans.append(plan)
    platform_events = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(ev)
            .where(ev.c.tenant_id == PLATFORM_CHAIN, ev.c.entity_id == str(tenant_id))
            .order_by(ev.c.seq)
        )
    ]
    return Template(
        tenant_id,
        tenant_row["slug"],
        tenant_row["name"],
        tenant_row,
        tables,
        events,
        event_plans,
        platform_events,
        ids,
    )


class Remap:
    """Old ids -> fresh ids for one clone, plus the slug/name replacement."""

    def __init__(
        self, tpl: Template, slug: str, name: str, known: dict[uuid.UUID, uuid.UUID] | None = None
    ) -> None:
        self.ids = {old: new_id() for old in tpl.ids}
        if known:
            self.ids.update(known)
        self.strs = {str(k): str(v) for k, v in self.ids.items()}
        self.pairs = ((tpl.slug, slug), (tpl.name, name))

    def text(self, s: str) -> str:
        if "-" in s:
            s = UUID_RE.sub(lambda m: self.strs.get(m.group(0), m.group(0)), s)
        for old, new in self.pairs:
            if old in s:
                s = s.replace(old, new)
        return s

    def value(self, v: Any, kind: str) -> Any:
        if kind == "u":
            return self.ids[v]
        if kind == "s":
            return self.text(v)
        return json.loads(self.text(json.dumps(v, ensure_ascii=False)))


def _db_value(v: Any, is_json: bool) -> Any:
    """What COPY needs: enums as their stored names, JSON as text."""
    if is_json:
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, enum.Enum):
        return v.name
    return v


class Writer:
    """Buffers rows per table and writes them with COPY (PostgreSQL) or executemany."""

    def __init__(self, conn: sa.Connection, copy: bool) -> None:
        self.conn = conn
        self.pg = copy
        self.buffers: dict[str, tuple[sa.Table, list[str], list[list[Any]]]] = {}
        self.written = 0

    def add(self, table: sa.Table, cols: list[str], row: list[Any]) -> None:
        buf = self.buffers.setdefault(table.name, (table, cols, []))
        buf[2].append(row)

    def flush(self, order: Iterable[str]) -> None:
        for name in order:
            if name not in self.buffers:
                continue
            table, cols, rows = self.buffers.pop(name)
            if rows:
                self._write(table, cols, rows)
                self.written += len(rows)
        for table, cols, rows in self.buffers.values():
            self._write(table, cols, rows)
            self.written += len(rows)
        self.buffers.clear()

    def _write(self, table: sa.Table, cols: list[str], rows: list[list[Any]]) -> None:
        if self.pg:
            json_cols = [isinstance(table.c[c].type, sa.JSON) for c in cols]
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur:  # type: ignore[union-attr]
                collist = ", ".join(f'"{c}"' for c in cols)
                with cur.copy(f'COPY "{table.name}" ({collist}) FROM STDIN') as copy:
                    for r in rows:
                        copy.write_row([_db_value(v, j) for v, j in zip(r, json_cols, strict=True)])
        else:
            self.conn.execute(sa.insert(table), [dict(zip(cols, r, strict=True)) for r in rows])


def _chain(
    events: list[dict], tenant_id: uuid.UUID, start_seq: int, prev: str
) -> tuple[list[dict], int, str]:
    seq = start_seq
    out = []
    for e in events:
        seq += 1
        row = dict(e)
        row["tenant_id"] = tenant_id
        row["seq"] = seq
        row["prev_hash"] = prev
        row.pop("hash", None)
        row["hash"] = trail.chain_hash(prev, row)
        prev = row["hash"]
        out.append(row)
    return out, seq, prev


def _clone_rows(tpl: Template, remap: Remap, writer: Writer) -> list[dict]:
    """Queue the template district's rows with fresh ids for the writer; returns its audit
    events, remapped the same way but not yet chained."""
    for tt in tpl.tables:
        for row, plan in zip(tt.rows, tt.plans, strict=True):
            if plan:
                row = list(row)
                for idx, kind in plan:
                    row[idx] = remap.value(row[idx], kind)
            writer.add(tt.table, tt.columns, row)
    events = []
    for e, plan in zip(tpl.events, tpl.event_plans, strict=True):
        e = dict(e)
        for key, kind in plan:
            e[key] = remap.value(e[key], kind)
        events.append(e)
    return events


def clone(tpl: Template, writer: Writer, i: int) -> list[dict]:
    """Queue tenant i's rows and its own chain; returns its platform-chain events (unchained)."""
    slug, name = slug_for(i), name_for(i)
    remap = Remap(tpl, slug, name)
    tenant_id = remap.ids[tpl.tenant_id]
    tenants = Base.metadata.tables["tenants"]
    trow = dict(
        tpl.tenant_row, id=tenant_id, slug=slug, name=name, name_en=f"Scale district {i:05d}"
    )
    writer.add(tenants, list(trow), list(trow.values()))
    events = _clone_rows(tpl, remap, writer)
    chained, seq, head = _chain(events, tenant_id, 0, trail.GENESIS)
    ev = AuditEvent.__table__
    cols = [c.name for c in ev.columns]
    for row in chained:
        writer.add(ev, cols, [row[c] for c in cols])
    writer.add(AuditChainHead.__table__, ["tenant_id", "seq", "hash"], [tenant_id, seq, head])
    platform = []
    for e in tpl.platform_events:
        e = dict(e)
        for key in ("entity_id", "summary", "changes"):
            e[key] = remap.text(e[key])
        platform.append(e)
    return platform


# --------------------------------------------------------------------------- driver


@dataclass
class SeedReport:
    tenants_total: int
    created: int
    seconds: float
    rows: int
    template_seconds: float = 0.0


def _existing(conn: sa.Connection) -> dict[str, uuid.UUID]:
    tenants = Base.metadata.tables["tenants"]
    return {
        r.slug: r.id
        for r in conn.execute(
            sa.select(tenants.c.slug, tenants.c.id).where(tenants.c.slug.like(f"{PREFIX}-%"))
        )
    }


def _cross_tenant(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SELECT set_config('app.cross_tenant', 'on', true), set_config('app.tenant_id', '', true)"
        )


def seed_scale(
    tenants: int,
    template: str = DEFAULT_TEMPLATE,
    period_count: int = 10,
    entries_per_duty: int = 1,
    batch: int = 25,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Make sure `tenants` scale tenants exist (scale-00001 …); only missing ones are added."""
    say = progress or (lambda s: None)
    started = time.perf_counter()
    engine = db.engine
    bulk_engine, use_copy = _bulk_engine(engine)
    with engine.connect() as conn, conn.begin():
        _cross_tenant(conn)
        existing = _existing(conn)
    template_seconds = 0.0
    built = 0
    if slug_for(1) not in existing:
        built = 1
        t0 = time.perf_counter()
        build_template(template, period_count, entries_per_duty)
        template_seconds = time.perf_counter() - t0
        say(f"template tenant {slug_for(1)} built through the app in {template_seconds:.1f}s")
        with engine.connect() as conn, conn.begin():
            _cross_tenant(conn)
            existing = _existing(conn)
    missing = [i for i in range(1, tenants + 1) if slug_for(i) not in existing]
    added = 0
    if not built and _template_lacks_meetings(engine, existing[slug_for(1)]):
        say("the meetings domain is new here: adding meetings to the template district")
        _add_template_meetings(existing[slug_for(1)])
    added = augment(bulk_engine, use_copy, existing, batch, say)
    if not missing:
        added += _sign_offs(bulk_engine, use_copy, batch, say)
        if added:
            _analyze(bulk_engine, say)
        return SeedReport(tenants, built, time.perf_counter() - started, added, template_seconds)
    order = [t.name for t in Base.metadata.sorted_tables]
    rows = 0
    say(f"bulk path: {'COPY' if use_copy else 'INSERT'} as {bulk_engine.url.username or 'sqlite'}")
    with bulk_engine.connect() as conn:
        with conn.begin():
            _cross_tenant(conn)
            tpl = load_template(conn, existing[slug_for(1)])
        say(
            f"template: {sum(len(t.rows) for t in tpl.tables)} rows, "
            f"{len(tpl.events)} audit events per tenant"
        )
        head = AuditChainHead.__table__
        ev = AuditEvent.__table__
        ev_cols = [c.name for c in ev.columns]
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            with conn.begin():
                _cross_tenant(conn)
                writer = Writer(conn, use_copy)
                platform: list[dict] = []
                for i in chunk:
                    platform += clone(tpl, writer, i)
                # The platform chain: lock its head, append, move the head (same transaction).
                seq, prev = _lock_platform_head(conn)
                chained, seq, prev = _chain(platform, PLATFORM_CHAIN, seq, prev)
                for row in chained:
                    writer.add(ev, ev_cols, [row[c] for c in ev_cols])
                writer.flush(order)
                conn.execute(
                    sa.update(head)
                    .where(head.c.tenant_id == PLATFORM_CHAIN)
                    .values(seq=seq, hash=prev)
                )
                rows += writer.written
            done = start + len(chunk)
            elapsed = time.perf_counter() - started
            say(f"{done}/{len(missing)} tenants cloned, {rows} rows, {elapsed:.0f}s")
    rows += _sign_offs(bulk_engine, use_copy, batch, say)
    _analyze(bulk_engine, say)
    return SeedReport(
        tenants, built + len(missing), time.perf_counter() - started, rows + added, template_seconds
    )


def _sign_offs(engine: sa.Engine, use_copy: bool, batch: int, say: Callable[[str], None]) -> int:
    """The explicit sign-off and review events of every district's duty history
    (bench/seed_signoffs.py): the template's duties are signed off through the ORM."""
    from bench.seed_signoffs import add_sign_offs

    return add_sign_offs(engine, use_copy, batch, say, analyze=False)


def _analyze(engine: sa.Engine, say: Callable[[str], None]) -> None:
    """Fresh statistics, as a running database would have: plans at 2,800 districts
    depend on them (autovacuum would get there, later)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        say("VACUUM ANALYZE done")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        say("ANALYZE done")


def _bulk_engine(engine: sa.Engine) -> tuple[sa.Engine, bool]:
    """PostgreSQL refuses COPY under row-level security: with PORTAL_MIGRATE_DATABASE_URL
    naming a role that bypasses RLS (the superuser that ran the migrations) the clones go
    in by COPY; otherwise by multi-row INSERT as the app role (slower, same result)."""
    import os

    if engine.dialect.name != "postgresql":
        return engine, False
    owner_url = os.environ.get("PORTAL_MIGRATE_DATABASE_URL")
    if owner_url:
        owner = sa.create_engine(owner_url)
        with owner.connect() as c:
            bypass = c.exec_driver_sql(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).scalar()
        if bypass:
            return owner, True
        owner.dispose()
    return engine, False


def move_heads(conn: sa.Connection, heads: list[dict]) -> None:
    """Move chain heads to their new last events: {"t": chain, "s": seq, "h": hash} each."""
    if heads:
        head = AuditChainHead.__table__
        conn.execute(
            sa.update(head)
            .where(head.c.tenant_id == sa.bindparam("t"))
            .values(seq=sa.bindparam("s"), hash=sa.bindparam("h")),
            heads,
        )


def _lock_platform_head(conn: sa.Connection) -> tuple[int, str]:
    table = AuditChainHead.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    conn.execute(
        dialect_insert(table)
        .values(tenant_id=PLATFORM_CHAIN, seq=0, hash=trail.GENESIS)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    row = conn.execute(
        sa.select(table.c.seq, table.c.hash)
        .where(table.c.tenant_id == PLATFORM_CHAIN)
        .with_for_update()
    ).one()
    return row.seq, row.hash


# --------------------------------------------------------------------------- augmenting
#
# A database seeded before a domain landed (e.g. meetings) gets that domain's rows without
# re-seeding: the template district gets them through the app, then every clone gets a
# copy whose references to departments and users are mapped by natural key (department
# key, username) and whose audit events are appended to the clone's existing chain.


def _template_lacks_meetings(engine: sa.Engine, template_id: uuid.UUID) -> bool:
    table = Base.metadata.tables.get("meetings")
    if table is None:
        return False
    with engine.connect() as conn, conn.begin():
        _cross_tenant(conn)
        return (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.tenant_id == template_id)
            ).scalar_one()
            == 0
        )


def _add_template_meetings(template_id: uuid.UUID) -> None:
    from portal.auth.models import User
    from portal.duties.models import Duty

    with scope.tenant_scope(template_id):
        lead = db.session.execute(
            sa.select(User).where(User.username == f"{slug_for(1)}-lead")
        ).scalar_one()
        all_periods = sorted(db.session.execute(sa.select(Duty.period).distinct()).scalars())
        _build_meetings(template_id, all_periods, lead, random.Random(2))


def augment(
    engine: sa.Engine, use_copy: bool, existing: dict[str, uuid.UUID], batch: int, say: Callable
) -> int:
    """Copy the template's rows of tables some clones lack; returns rows written."""
    template_id = existing.get(slug_for(1))
    clones = {slug: tid for slug, tid in existing.items() if slug != slug_for(1)}
    if template_id is None or not clones:
        return 0
    tables = [
        t
        for t in Base.metadata.sorted_tables
        if "tenant_id" in t.c and t.name not in NOT_CLONED and "id" in t.c
    ]
    with engine.connect() as conn:
        with conn.begin():
            _cross_tenant(conn)
            lacking: list[sa.Table] = []
            for t in tables:
                has_template = conn.execute(
                    sa.select(t.c.id).where(t.c.tenant_id == template_id).limit(1)
                ).first()
                if has_template is None:
                    continue
                probe = conn.execute(
                    sa.select(t.c.id).where(t.c.tenant_id == clones[max(clones)]).limit(1)
                ).first()
                if probe is None:
                    lacking.append(t)
            if not lacking:
                return 0
            first = lacking[0]
            done = set(conn.execute(sa.select(first.c.tenant_id).distinct()).scalars())
            todo = sorted((s, tid) for s, tid in clones.items() if tid not in done)
            if not todo:
                return 0
            say(f"adding {', '.join(t.name for t in lacking)} to {len(todo)} districts")
            tpl = _augment_template(conn, template_id, lacking)
        return _augment_clones(conn, tpl, lacking, todo, use_copy, batch, say)


def _augment_template(
    conn: sa.Connection, template_id: uuid.UUID, lacking: list[sa.Table]
) -> Template:
    tenants = Base.metadata.tables["tenants"]
    tenant_row = dict(
        conn.execute(sa.select(tenants).where(tenants.c.id == template_id)).one()._mapping
    )
    ids: set[uuid.UUID] = {template_id}
    raw = []
    for t in lacking:
        rows = [
            list(r) for r in conn.execute(sa.select(*t.columns).where(t.c.tenant_id == template_id))
        ]
        idx = [c.name for c in t.columns].index("id")
        ids.update(r[idx] for r in rows)
        raw.append((t, [c.name for c in t.columns], rows))
    departments = Base.metadata.tables["departments"]
    users = Base.metadata.tables["users"]
    ids.update(
        conn.execute(
            sa.select(departments.c.id).where(departments.c.tenant_id == template_id)
        ).scalars()
    )
    ids.update(
        conn.execute(sa.select(users.c.id).where(users.c.tenant_id == template_id)).scalars()
    )
    markers = (tenant_row["slug"], tenant_row["name"])
    tts = []
    for t, cols, rows in raw:
        plans = [[(i, k) for i, v in enumerate(r) if (k := _kind(v, ids, markers))] for r in rows]
        tts.append(TableTemplate(t, cols, rows, plans))
    classes = {m.class_.__name__ for m in Base.registry.mappers if m.local_table in set(lacking)}
    ev = AuditEvent.__table__
    first = conn.execute(
        sa.select(sa.func.min(ev.c.seq)).where(
            ev.c.tenant_id == template_id, ev.c.entity_type.in_(classes)
        )
    ).scalar()
    other = {m.class_.__name__ for m in Base.registry.mappers} - classes
    events = (
        [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(ev)
                .where(
                    ev.c.tenant_id == template_id,
                    ev.c.seq >= (first or 0),
                    ev.c.entity_type.not_in(other),
                )
                .order_by(ev.c.seq)
            )
        ]
        if first
        else []
    )
    plans = [
        [
            (k, kind)
            for k, v in e.items()
            if k not in ("seq", "prev_hash", "hash") and (kind := _kind(v, ids, markers))
        ]
        for e in events
    ]
    return Template(
        template_id, tenant_row["slug"], tenant_row["name"], tenant_row, tts, events, plans, [], ids
    )


def _augment_clones(
    conn: sa.Connection,
    tpl: Template,
    lacking: list[sa.Table],
    todo: list[tuple[str, uuid.UUID]],
    use_copy: bool,
    batch: int,
    say: Callable,
) -> int:
    departments = Base.metadata.tables["departments"]
    users = Base.metadata.tables["users"]
    head = AuditChainHead.__table__
    ev = AuditEvent.__table__
    ev_cols = [c.name for c in ev.columns]
    order = [t.name for t in Base.metadata.sorted_tables]
    rows = 0
    started = time.perf_counter()
    with conn.begin():
        _cross_tenant(conn)
        tpl_depts = dict(
            conn.execute(
                sa.select(departments.c.key, departments.c.id).where(
                    departments.c.tenant_id == tpl.tenant_id
                )
            ).all()
        )
        tpl_users = dict(
            conn.execute(
                sa.select(users.c.username, users.c.id).where(users.c.tenant_id == tpl.tenant_id)
            ).all()
        )
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        ids = [tid for _, tid in chunk]
        with conn.begin():
            _cross_tenant(conn)
            depts: dict[uuid.UUID, dict[str, uuid.UUID]] = {}
            for tid, key, did in conn.execute(
                sa.select(departments.c.tenant_id, departments.c.key, departments.c.id).where(
                    departments.c.tenant_id.in_(ids)
                )
            ):
                depts.setdefault(tid, {})[key] = did
            people: dict[uuid.UUID, dict[str, uuid.UUID]] = {}
            for tid, username, uid in conn.execute(
                sa.select(users.c.tenant_id, users.c.username, users.c.id).where(
                    users.c.tenant_id.in_(ids)
                )
            ):
                people.setdefault(tid, {})[username] = uid
            heads = {
                r.tenant_id: (r.seq, r.hash)
                for r in conn.execute(
                    sa.select(head).where(head.c.tenant_id.in_(ids)).with_for_update()
                )
            }
            writer = Writer(conn, use_copy)
            new_heads = []
            for slug, tid in chunk:
                i = int(slug.rsplit("-", 1)[1])
                known = {tpl.tenant_id: tid}
                known.update(
                    {old: depts[tid][k] for k, old in tpl_depts.items() if k in depts.get(tid, {})}
                )
                mine = people.get(tid, {})
                for username, old in tpl_users.items():
                    new = mine.get(username.replace(tpl.slug, slug, 1))
                    if new is not None:
                        known[old] = new
                remap = Remap(tpl, slug, name_for(i), known)
                events = _clone_rows(tpl, remap, writer)
                seq, prev = heads.get(tid, (0, trail.GENESIS))
                chained, seq, prev = _chain(events, tid, seq, prev)
                for row in chained:
                    writer.add(ev, ev_cols, [row[c] for c in ev_cols])
                new_heads.append({"t": tid, "s": seq, "h": prev})
            writer.flush(order)
            move_heads(conn, new_heads)
            rows += writer.written
        say(
            f"{start + len(chunk)}/{len(todo)} districts augmented, {rows} rows, {time.perf_counter() - started:.0f}s"
        )
    return rows
