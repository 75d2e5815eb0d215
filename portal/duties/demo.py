"""Demo duty cycle for each seed district (idempotent).

The previous half-year is fully signed off and accepted; the current one has duties
in every state (not started, in progress, submitted, accepted, returned) with
realistic progress entries. Everything goes through the operations, as real users would.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.duties import operations
from portal.duties.generation import generate_duties
from portal.duties.models import Assessment, Duty, DutyStatus, ProgressEntry
from portal.duties.storage import Upload
from portal.extensions import db
from portal.kernel.clock import today
from portal.kernel.grants import SYSTEM
from portal.kernel.periods import Period
from portal.tenancy.models import Tenant

NARRATIVES: dict[str, list[tuple[str, int, int]]] = {
    # category: [(narrative, families reached, amount per family in 元)]
    "economic_aid": [
        ("按季度足额发放特别扶助金，资金通过“一卡通”直达特殊家庭账户，无截留挪用。", 128, 1430),
        ("春节前走访慰问特殊家庭，发放慰问金并登记家庭困难诉求。", 46, 300),
    ],
    "medical": [
        ("组织特殊家庭成员免费健康体检，建立健康档案，对慢病患者纳入家庭医生签约服务。", 63, 0),
        ("落实就医“绿色通道”，二级以上医疗机构设立优先窗口，本期服务特殊家庭成员就诊。", 21, 0),
    ],
    "insurance": [
        ("为特殊家庭成员统一办理住院护理补贴保险，保费由财政全额承担。", 94, 120),
    ],
    "elderly_care": [
        ("对入住公办养老机构的特殊家庭老人优先安排床位，落实入住补贴。", 12, 600),
        ("开展居家养老上门服务，提供助餐、助洁、陪护等服务。", 35, 200),
    ],
    "social_care": [
        ("将符合条件的特殊家庭纳入最低生活保障和临时救助范围，做到应保尽保。", 18, 800),
    ],
    "housing": [
        ("对住房困难的特殊家庭优先配租公共租赁住房，完成资格审核。", 6, 0),
    ],
    "legal_aid": [
        ("为特殊家庭提供免费法律咨询和法律援助，办结遗产继承、赡养纠纷等案件。", 9, 0),
    ],
    "emotional_support": [
        ("联合社工机构开展心理疏导和团体辅导活动，组织“暖心家园”联谊活动。", 40, 0),
    ],
    "contact_person": [
        ("落实“双岗”联系人制度，联系人每月上门或电话联系，建立走访台账。", 156, 0),
    ],
    "rebirth": [
        ("为有再生育意愿的特殊家庭提供再生育技术服务和优生咨询。", 4, 3000),
    ],
    "funeral": [
        ("为去世的特殊家庭成员减免基本殡葬服务费用。", 3, 1000),
    ],
    "education": [
        ("对特殊家庭子女就学给予资助，落实学费减免政策。", 7, 1500),
    ],
    "employment": [
        ("对有就业意愿的特殊家庭成员开展职业技能培训并推荐就业岗位。", 11, 0),
    ],
    "rehabilitation": [
        ("为伤残独生子女提供康复训练和辅助器具适配服务。", 8, 500),
    ],
    "publicity": [
        ("在区融媒体平台开设专栏，宣传特殊家庭扶助关怀政策。", 0, 0),
    ],
}
DEFAULT = [("召开专题推进会，梳理本部门承担的扶助关怀任务并建立工作台账。", 0, 0)]

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
    half = Period.parse(period)
    last = min(half.end, today())
    span = max((last - half.start).days, 0)
    return [half.start + dt.timedelta(days=span * (k + 1) // (n + 1)) for k in range(n)]


def _ledger(duty: Duty, work_date: dt.date, families: int, per_family: int) -> Upload:
    """A payment ledger (发放明细表) as a real .xlsx, the evidence officers usually attach;
    family numbers only, no names (the demo holds no personal data)."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "发放明细"
    label = Period.parse(duty.period).label
    sheet.append([f"{duty.department.name} {label} {duty.measure.title} 发放明细表"])
    sheet.append(["序号", "家庭编号", "发放日期", "金额（元）"])
    for k in range(families):
        sheet.append([k + 1, f"JT-{duty.measure_number}-{k + 1:03d}", work_date, per_family])
    sheet.append(["合计", "", "", families * per_family])
    buf = io.BytesIO()
    book.save(buf)
    return Upload(f"发放明细表-{label}-{duty.measure_number}.xlsx", buf.getvalue())


def _log(duty: Duty, officer: User, n: int, evidence: bool = False) -> None:
    options = NARRATIVES.get(duty.measure.category, DEFAULT)
    for k, work_date in enumerate(_work_dates(duty.period, n)):
        text, families, per_family = options[k % len(options)]
        operations.add_entry(
            duty,
            officer,
            operations.EntryInput(
                work_date=work_date,
                narrative=f"{text}（{duty.department.name}）",
                families_reached=families,
                amount_paid=decimal.Decimal(families * per_family),
            ),
            [_ledger(duty, work_date, families, per_family)] if evidence and families else [],
            expected_version=duty.row_version,
        )


def _sign(duty: Duty, officer: User) -> None:
    operations.sign_off(
        duty,
        officer,
        assessment=Assessment.fully,
        statement=f"本单位已按{Period.parse(duty.period).label}工作要求全面落实“{duty.measure.title}”相关职责，台账齐全。",
        expected_version=duty.row_version,
    )


def load_demo(tenant: Tenant, policy_data: dict) -> None:
    current = Period.current().code
    previous = Period.current().previous.code
    for period in (previous, current):
        generate_duties(SYSTEM, period)
    db.session.flush()
    if db.session.execute(sa.select(ProgressEntry.id).limit(1)).first() is not None:
        return  # already seeded
    lead, officers = _users(tenant)
    if lead is None:
        return

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
        _log(duty, officer, 2, evidence=duty.department_id not in with_ledger)
        with_ledger.add(duty.department_id)
        _sign(duty, officer)
        operations.review(
            duty, lead, accept=True, reason="材料齐全，同意。", expected_version=duty.row_version
        )

    for i, duty in enumerate(duties(current)):
        officer = officers.get(duty.department_id)
        status = CURRENT_CYCLE[i % len(CURRENT_CYCLE)]
        if officer is None or status == DutyStatus.not_started:
            continue
        _log(duty, officer, 1 if status == DutyStatus.in_progress else 2)
        if status == DutyStatus.in_progress:
            continue
        _sign(duty, officer)
        if status == DutyStatus.accepted:
            operations.review(
                duty, lead, accept=True, reason="进展良好。", expected_version=duty.row_version
            )
        elif status == DutyStatus.returned:
            operations.review(
                duty,
                lead,
                accept=False,
                reason="请补充发放明细表及受益家庭名单等佐证材料后重新签报。",
                expected_version=duty.row_version,
            )
