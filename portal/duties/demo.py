"""Demo duty cycle for each seed district (idempotent).

The previous half-year is fully signed off and accepted; the current one has duties
in every state (not started, in progress, submitted, accepted, returned) with
realistic progress entries. Everything goes through the services, as real users would.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.duties import services
from portal.duties.models import Assessment, Duty, DutyStatus, ProgressEntry
from portal.extensions import db
from portal.tenancy.models import Tenant

# -- the facts of the demo entries: every figure comes from the district's own policy ------
#
# An entry's amount is a benefit standard of the duty's own measure, in force on the
# work date, times the people (or cases) it was paid for; only the measure's first lead
# department records payments (one payment is claimed once), other departments record
# their cooperation without amounts. Measures without a benefit standard record service
# with no amount. Narratives quote the measure's own title, so each district's own terms
# (“双岗”联系人, “五定两包”, 帮扶联系人 …) are used. `tests/duties/test_demo_facts.py`
# checks every amount against the standards.

# Units that are a budget, not paid per person or household: one payment of the amount.
BUDGET_UNITS = {"yuan_per_year", "yuan_per_month"}
PER_PERSON_UNITS = {
    "yuan_per_person_month",
    "yuan_per_person_year",
    "yuan_per_person_day",
    "yuan_per_person_time",
    "yuan_per_person",
}
UNIT_WORDS = {
    "yuan_per_person_month": "元/人/月",
    "yuan_per_person_year": "元/人/年",
    "yuan_per_person_day": "元/人/日",
    "yuan_per_person_time": "元/人/次",
    "yuan_per_person": "元/人",
    "yuan_per_household_month": "元/户/月",
    "yuan_per_household_year": "元/户/年",
    "yuan_per_household_time": "元/户/次",
    "yuan_per_household": "元/户",
    "yuan_per_couple": "元/对",
    "yuan_per_hour": "元/小时",
    "yuan_per_time": "元/次",
    "yuan_per_month": "元/月",
    "yuan_per_year": "元/年",
}


def value_on(benefit: dict, day: dt.date) -> decimal.Decimal | None:
    """The benefit's amount in force on `day` (the policy file's dated values)."""
    amount = None
    for v in benefit.get("values") or []:
        start, before = v.get("effective_from"), v.get("in_force_before")
        if (start is not None and _as_date(start) <= day) or (
            start is None and before is not None and day < _as_date(before)
        ):
            amount = decimal.Decimal(str(v["amount"]))
    return amount


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def persons_per_family(benefit: dict) -> int:
    """Both parents when the standard is per person and paid to 父母 / 夫妻, else one."""
    if benefit["unit"] not in PER_PERSON_UNITS:
        return 1
    said = " ".join(benefit.get("eligibility", {}).get("conditions") or []) + benefit["name"]
    return 2 if ("父母" in said or "夫妻" in said) else 1


def _families(number: str, k: int) -> int:
    """A stable, modest number of households for the demo (no personal data)."""
    return 3 + (sum(map(ord, number)) * 7 + k * 5) % 17


def entry_facts(
    duty: Duty, measure: dict | None, work_date: dt.date, k: int
) -> tuple[str, int, int, int]:
    """(narrative, households, yuan per household, yuan in total) from the policy file."""
    title = duty.measure.title
    number = duty.measure_number
    leads = (measure or {}).get("lead") or []
    is_payer = bool(leads) and duty.department.key == leads[0]
    if not is_payer or measure is None:
        return (
            f"配合落实第{number}项“{title}”，提供本单位职责范围内的支持并报送工作情况。",
            0,
            0,
            0,
        )
    paid = [b for b in measure.get("benefits") or [] if value_on(b, work_date) is not None]
    if not paid:
        families = _families(number, k)
        return (
            f"落实第{number}项“{title}”，本期服务特殊家庭{families}户，已建立工作台账。",
            families,
            0,
            0,
        )
    b = paid[k % len(paid)]
    value = int(value_on(b, work_date))  # type: ignore[arg-type]
    unit = UNIT_WORDS.get(b["unit"], "元")
    if b["unit"] in BUDGET_UNITS:
        return (
            f"落实第{number}项“{title}”：按{value}{unit}标准拨付{b['name']}{value}元。",
            0,
            0,
            value,
        )
    families = _families(number, k)
    persons = persons_per_family(b)
    per_family = value * persons
    if b.get("max_quantity") and b.get("max_quantity_unit") == "days_per_year":
        days = min(int(b["max_quantity"]), 10)
        per_family *= days
        unit = f"{unit}，{days}天"
    whom = (
        f"{families}户{families * persons}人" if b["unit"] in PER_PERSON_UNITS else f"{families}户"
    )
    verb = (
        "缴纳"
        if "保费" in b["name"] or b["name"].endswith("保险") or "保险（" in b["name"]
        else "发放"
    )
    return (
        f"落实措施{number}“{title}”：按{value}{unit}标准为{whom}{verb}{b['name']}，"
        f"合计{families * per_family}元。",
        families,
        per_family,
        families * per_family,
    )


# Current period: states dealt out in this cycle, so every department shows a mix.
CURRENT_CYCLE = (
    DutyStatus.accepted,
    DutyStatus.submitted,
    DutyStatus.in_progress,
    DutyStatus.not_started,
    DutyStatus.returned,
    DutyStatus.in_progress,
    DutyStatus.submitted,
    DutyStatus.accepted,
    DutyStatus.in_progress,
    DutyStatus.not_started,
)


def _users(tenant: Tenant) -> tuple[User | None, dict]:
    users = db.session.execute(sa.select(User).where(User.active.is_(True))).scalars().all()
    lead = next((u for u in users if u.username == f"{tenant.slug}-lead"), None)
    officers = {u.department_id: u for u in users if u.role == Role.dept_officer}
    return lead, officers


def _work_dates(period: str, n: int) -> list[dt.date]:
    start, end = services.period_bounds(period)
    last = min(end, services.today())
    span = max((last - start).days, 0)
    return [start + dt.timedelta(days=span * (k + 1) // (n + 1)) for k in range(n)]


def _ledger(duty: Duty, work_date: dt.date, families: int, per_family: int) -> services.Upload:
    """A payment ledger (发放明细表) as a real .xlsx, the evidence officers usually attach;
    family numbers only, no names (the demo holds no personal data)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "发放明细"
    sheet.append([f"{duty.department.name} {duty.period} {duty.measure.title} 发放明细表"])
    sheet.append(["序号", "家庭编号", "发放日期", "金额（元）"])
    for k in range(families):
        sheet.append([k + 1, f"JT-{duty.measure_number}-{k + 1:03d}", work_date, per_family])
    sheet.append(["合计", "", "", families * per_family])
    buf = io.BytesIO()
    book.save(buf)
    return services.Upload(f"发放明细表-{duty.period}-{duty.measure_number}.xlsx", buf.getvalue())


def _log(
    duty: Duty, officer: User, n: int, measures: dict[str, dict], evidence: bool = False
) -> None:
    for k, work_date in enumerate(_work_dates(duty.period, n)):
        text, families, per_family, total = entry_facts(
            duty, measures.get(duty.measure_number), work_date, k
        )
        services.add_entry(
            duty,
            officer,
            services.EntryInput(
                work_date=work_date,
                narrative=text,
                families_reached=families,
                amount_paid=decimal.Decimal(total),
            ),
            [_ledger(duty, work_date, families, per_family)]
            if evidence and families and per_family
            else [],
        )


def _sign(duty: Duty, officer: User) -> None:
    services.sign_off(
        duty,
        officer,
        assessment=Assessment.fully,
        statement=f"本单位已按{duty.period}工作要求全面落实“{duty.measure.title}”相关职责，台账齐全。",
    )


def load_demo(tenant: Tenant, policy_data: dict) -> None:
    current = services.current_period()
    previous = services.previous_period(current)
    for period in (previous, current):
        services.generate_duties(period)
    db.session.flush()
    if db.session.execute(sa.select(ProgressEntry.id).limit(1)).first() is not None:
        return  # already seeded
    lead, officers = _users(tenant)
    if lead is None:
        return
    measures = {str(m["number"]): m for m in policy_data.get("measures") or []}

    def duties(period: str) -> list[Duty]:
        return list(
            db.session.execute(
                sa.select(Duty)
                .where(Duty.period == period)
                .order_by(Duty.department_id, Duty.measure_number)
            )
            .unique()
            .scalars()
        )

    with_ledger: set[uuid.UUID] = set()  # each department's first duty carries its payment ledgers
    for duty in duties(previous):
        officer = officers.get(duty.department_id)
        if officer is None:
            continue
        _log(duty, officer, 2, measures, evidence=duty.department_id not in with_ledger)
        if any(e.amount_paid for e in duty.entries):
            with_ledger.add(duty.department_id)
        _sign(duty, officer)
        services.review(duty, lead, accept=True, reason="材料齐全，同意。")

    for i, duty in enumerate(duties(current)):
        officer = officers.get(duty.department_id)
        status = CURRENT_CYCLE[i % len(CURRENT_CYCLE)]
        if officer is None or status == DutyStatus.not_started:
            continue
        _log(duty, officer, 1 if status == DutyStatus.in_progress else 2, measures)
        if status == DutyStatus.in_progress:
            continue
        _sign(duty, officer)
        if status == DutyStatus.accepted:
            services.review(duty, lead, accept=True, reason="进展良好。")
        elif status == DutyStatus.returned:
            services.review(
                duty,
                lead,
                accept=False,
                reason="请补充发放明细表及受益家庭名单等佐证材料后重新签报。",
            )
