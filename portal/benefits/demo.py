"""Demo payment cycles: twelve months per seed district from its own standards and its
synthetic register, in every state (closed, exported, approved, reviewed, computed,
draft), with one bank failure carried over as arrears (补发) and one late-entered death
recovered (追回). Bank accounts are synthetic (6222 + random digits), encrypted.

Kept cheap (it runs for every test database): lines are written set-based, bank results
are applied without building spreadsheets, and districts whose policy has no standard
computed from the register (嘉定, 姜堰: claims only) get no cycles.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import sqlalchemy as sa

from portal.audit import trail
from portal.auth.models import User
from portal.benefits import bank, engine, operations
from portal.benefits.facts import policy_standards
from portal.benefits.models import PayeeAccount, PaymentCycle, PaymentLine
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.clock import today
from portal.register import pii
from portal.register.models import Person
from portal.tenancy.models import Department

#: The states of the last five cycles, newest last; earlier ones are closed.
TAIL = ("exported", "approved", "reviewed", "computed", "draft")
MONTHS = 12


def _officer(kind: str) -> Any:
    return db.session.execute(
        sa.select(User)
        .join(Department, Department.id == User.department_id)
        .where(Department.kind_code == kind)
        .order_by(Department.sort_order, User.username)
        .limit(1)
    ).scalar()


def _accounts(tenant: Any, rng: random.Random) -> int:
    rows = []
    now = utcnow()
    for hid, pid, name in db.session.execute(
        sa.select(Person.household_id, Person.id, Person.name).where(
            Person.relationship_.in_(("principal", "spouse"))
        )
    ):
        number = "6222" + "".join(str(rng.randrange(10)) for _ in range(15))
        rows.append(
            {
                "tenant_id": tenant.id,
                "id": uuid.uuid4(),
                "household_id": hid,
                "person_id": pid,
                "holder": name,
                "bank": "示例银行",
                "account": number,
                "account_index": pii.blind_index(number, "bank_account"),
                "updated_at": now,
            }
        )
    if rows:
        db.session.connection().execute(sa.insert(PayeeAccount.__table__), rows)
    return len(rows)


def _pay(user: Any, cycle: PaymentCycle, fail: int = 0) -> None:
    """Export and import results without spreadsheets: the first `fail` lines fail."""
    lines = bank.bank_lines(cycle)
    bank.mark_exported(user, cycle, len(lines), [])
    results = [
        {
            "row": i + 2,
            "line_id": str(line.id),
            "amount": line.amount,
            "paid": i >= fail,
            "reason": "" if i >= fail else "账户已销户（示例）",
        }
        for i, line in enumerate(lines)
    ]
    bank.import_results(user, cycle, results, cycle.row_version)


def load_demo(tenant: Any, policy_data: dict) -> list[tuple[str, str, str]]:
    """Idempotent: a district with cycles already is left alone. Returns no logins."""
    if db.session.execute(sa.select(PaymentCycle.id).limit(1)).first() is not None:
        return []
    last = engine.month_start(today())
    first = last
    for _ in range(MONTHS - 1):
        first = engine.month_start(first - dt.timedelta(days=1))
    _version, standards = policy_standards(last)
    if not any(s.rule.get("basis") == "register" for s in standards):
        return []
    health, finance = _officer("health"), _officer("finance")
    if health is None or finance is None:
        return []
    rng = random.Random(f"benefits-demo-{tenant.slug}")  # noqa: S311 - demo data
    accounts = _accounts(tenant, rng)
    months = engine.months(first, last)
    states = ["closed"] * (len(months) - len(TAIL)) + list(TAIL)
    died = None
    with trail.acting_as(trail.system_actor("demo benefits")):
        for i, (month, state) in enumerate(zip(months, states, strict=True)):
            if i == 5 and died is None:
                died = _late_death(months[3])
            cycle = operations.create_cycle(health, month)
            if state == "draft":
                break
            operations.compute_cycle(health, cycle, cycle.row_version)
            if state == "computed":
                continue
            operations.review_cycle(health, cycle, cycle.row_version)
            if state == "reviewed":
                continue
            operations.approve_cycle(finance, cycle, cycle.row_version)
            if state == "approved":
                continue
            if state == "exported":
                bank.mark_exported(finance, cycle, len(bank.bank_lines(cycle)), [])
                continue
            _pay(finance, cycle, fail=1 if i == 2 else 0)
        lines = db.session.execute(sa.select(sa.func.count(PaymentLine.id))).scalar()
        trail.record(
            db.session,
            "benefit_demo_loaded",
            entity_type="PaymentCycle",
            summary=f"demo benefits: {len(months)} cycles, {lines} lines, {accounts} accounts",
            data={"cycles": len(months), "lines": lines, "accounts": accounts},
        )
    return []


def _late_death(month: Any) -> Any:
    """A person paid for months after their death, entered late: the next cycle recovers."""
    from portal.benefits.models import PaymentLine as Line

    row = db.session.execute(
        sa.select(Line.person_id)
        .where(Line.period == month, Line.person_id.is_not(None), Line.status == "paid")
        .order_by(Line.position)
        .limit(1)
    ).scalar()
    if row is None:
        return None
    person = db.session.execute(sa.select(Person).where(Person.id == row)).scalar()
    person.alive = False
    person.death_date = month + dt.timedelta(days=9)
    db.session.flush()
    return person
