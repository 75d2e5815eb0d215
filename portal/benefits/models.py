"""The benefit ledger: payment cycles (发放批次), their lines (发放明细), claims (申领) and
payees' bank accounts (收款账户).

A cycle is one month. Its lines are what the engine found owed (regular, arrears 补发,
recovery 追回) and the accepted claims, each with reasons and funding parts. A closed
cycle never changes: `refuse_closed_changes` refuses any update or delete of it or its
lines at flush time, whoever asks. Bank account numbers are encrypted like resident IDs
(`portal.register.pii`), with a blind index, and shown masked.

Who sees which lines: town officers their town's (`scope_criteria`); department officers
only when their department is the eligibility (卫健) or finance (财政) department; the lead
and the auditor everything (masked).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, TenantOwned, listen_once, tenant_fk, utcnow
from portal.register.models import DEPT_OFFICER, TOWN_OFFICER, VILLAGE_CONTACT, officer_towns
from portal.register.pii import Encrypted, mask_id

#: Department kinds that work with payment cycles: eligibility (卫健) and finance (财政).
ELIGIBILITY_KIND, FINANCE_KIND = "health", "finance"


class CycleStatus(enum.StrEnum):
    draft = "draft"  # 草稿
    computed = "computed"  # 已计算
    reviewed = "reviewed"  # 已审核 (卫健)
    approved = "approved"  # 已审批 (财政)
    exported = "exported"  # 已导出银行文件
    closed = "closed"  # 已关闭 (results imported)


class LineKind(enum.StrEnum):
    regular = "regular"  # 当期
    arrears = "arrears"  # 补发
    recovery = "recovery"  # 追回
    claim = "claim"  # 申领


class LineStatus(enum.StrEnum):
    pending = "pending"  # 待发放
    paid = "paid"  # 已发放
    failed = "failed"  # 发放失败
    counted = "counted"  # 非现金服务：计数，不发放


class ClaimStatus(enum.StrEnum):
    accepted = "accepted"
    refused = "refused"


def _officer_departments(department_id: Any) -> sa.ColumnElement[bool]:
    """True when the officer's department is the district's eligibility or finance one."""
    from portal.tenancy.models import Department

    return sa.bindparam("benefits_dept", department_id, type_=sa.Uuid(), unique=True).in_(
        sa.select(Department.id).where(
            Department.kind_code.in_((ELIGIBILITY_KIND, FINANCE_KIND)),
            Department.active.is_(True),
        )
    )


class TownScoped:
    """Rows of one town (lines, claims): a town officer sees their town's, a village
    contact none, a department officer only in the eligibility or finance department."""

    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = (TOWN_OFFICER, VILLAGE_CONTACT)

    @classmethod
    def scope_criteria(cls, user_id: Any, role: Any, department_id: Any) -> Any:
        if role == TOWN_OFFICER:
            return cls.town_id.in_(officer_towns(user_id))  # type: ignore[attr-defined]
        if role == VILLAGE_CONTACT:
            return sa.false()
        if role == DEPT_OFFICER and department_id is not None:
            return _officer_departments(department_id)
        return None


class PaymentCycle(TenantOwned, Base):
    """One month's payments: computed, reviewed (卫健), approved (财政), exported, closed."""

    __tablename__ = "payment_cycles"
    __admin__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = (TOWN_OFFICER, VILLAGE_CONTACT)
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "period"),
        sa.Index("ix_payment_cycles_tenant_status", "tenant_id", "status"),
    )

    period: Mapped[dt.date]  # the month's first day
    status: Mapped[CycleStatus] = mapped_column(
        sa.Enum(CycleStatus, native_enum=False, length=12), default=CycleStatus.draft
    )
    policy_version_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    input_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    lines_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    total: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    line_count: Mapped[int] = mapped_column(default=0)
    created_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    computed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    computed_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    computed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    reviewed_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    reviewed_at: Mapped[dt.datetime | None]
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    approved_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    approved_at: Mapped[dt.datetime | None]
    exported_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    row_version: Mapped[int] = mapped_column(default=1)

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"

    @classmethod
    def scope_criteria(cls, user_id: Any, role: Any, department_id: Any) -> Any:
        """Town officers see every cycle (their lines are narrowed); village contacts none;
        officers only in the eligibility or finance department."""
        if role == VILLAGE_CONTACT:
            return sa.false()
        if role == DEPT_OFFICER and department_id is not None:
            return _officer_departments(department_id)
        return None


class PaymentLine(TownScoped, TenantOwned, Base):
    """One payee's line in a cycle, with its reasons (structured) and funding parts.

    Not audited row by row: a cycle's lines are written in one set-based INSERT and
    recorded as one `benefit_cycle_computed` event with the count, total and lines hash;
    their results as one `benefit_results_imported` event with the counts."""

    __tablename__ = "payment_lines"
    __admin__ = False
    __audit__ = False
    __row_scoped__ = True
    __user_scoped_roles__ = (TOWN_OFFICER, VILLAGE_CONTACT)
    __table_args__ = (
        tenant_fk(["cycle_id"], "payment_cycles", ["id"]),
        tenant_fk(["household_id"], "households", ["id"]),
        sa.Index("ix_payment_lines_tenant_cycle", "tenant_id", "cycle_id", "position"),
        sa.Index(
            "ix_payment_lines_tenant_key",
            "tenant_id",
            "standard_key",
            "household_id",
            "person_id",
            "period",
        ),
        sa.Index("ix_payment_lines_tenant_town", "tenant_id", "town_id", "cycle_id"),
        sa.Index("ix_payment_lines_tenant_status", "tenant_id", "status"),
    )

    cycle_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)  # the bank file's row number
    kind: Mapped[LineKind] = mapped_column(sa.Enum(LineKind, native_enum=False, length=12))
    cause: Mapped[str] = mapped_column(sa.String(20), default="")
    standard_key: Mapped[str] = mapped_column(sa.String(240))
    standard_name: Mapped[str] = mapped_column(sa.String(200))
    measure_number: Mapped[str] = mapped_column(sa.String(30), default="")
    household_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    town_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    period: Mapped[dt.date]  # the month the amount is owed for
    amount: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    owed: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    payee: Mapped[str] = mapped_column(sa.String(20), default="person")
    in_kind: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    funding: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[LineStatus] = mapped_column(
        sa.Enum(LineStatus, native_enum=False, length=10), default=LineStatus.pending
    )
    result_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    claim_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())

    def __str__(self) -> str:
        return f"{self.standard_name} {self.period:%Y-%m}"


class Claim(TownScoped, TenantOwned, Base):
    """A per-event benefit entered with dates and evidence (申领), accepted or refused with
    the reason (the yearly cap, once in a lifetime, not eligible)."""

    __tablename__ = "benefit_claims"
    __table_args__ = (
        tenant_fk(["household_id"], "households", ["id"]),
        sa.Index("ix_benefit_claims_tenant_key", "tenant_id", "standard_key", "person_id"),
        sa.Index("ix_benefit_claims_tenant_household", "tenant_id", "household_id"),
    )

    standard_key: Mapped[str] = mapped_column(sa.String(240))
    standard_name: Mapped[str] = mapped_column(sa.String(200))
    household_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    town_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    start: Mapped[dt.date]
    end: Mapped[dt.date]
    quantity: Mapped[int] = mapped_column(default=1)  # days or times accepted
    asked: Mapped[int] = mapped_column(default=1)  # days or times entered
    amount: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    status: Mapped[ClaimStatus] = mapped_column(
        sa.Enum(ClaimStatus, native_enum=False, length=10), default=ClaimStatus.accepted
    )
    reason: Mapped[list] = mapped_column(sa.JSON, default=list)  # structured, like line reasons
    evidence_note: Mapped[str] = mapped_column(sa.Text, default="")
    entered_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cycle_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())  # the cycle that pays it

    def __str__(self) -> str:
        return f"{self.standard_name} {self.start:%Y-%m-%d}"


class PayeeAccount(TenantOwned, Base):
    """A payee's bank account (收款账户): the number encrypted, a blind index, shown masked."""

    __tablename__ = "payee_accounts"
    __admin__ = False
    __audit_mask__ = frozenset({"account"})
    __table_args__ = (
        tenant_fk(["household_id"], "households", ["id"]),
        sa.UniqueConstraint("tenant_id", "household_id", "person_id"),
        sa.Index("ix_payee_accounts_tenant_index", "tenant_id", "account_index"),
    )

    household_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())  # None: the household's
    holder: Mapped[str] = mapped_column(sa.String(40), default="")
    bank: Mapped[str] = mapped_column(sa.String(80), default="")
    account: Mapped[str] = mapped_column(Encrypted("bank_account"))
    account_index: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __str__(self) -> str:
        return self.holder


class BankLayout(TenantOwned, Base):
    """The district's bank file layout (代发文件格式): which columns, in which order, under
    which Chinese headings, as [[field, heading], …]. No row: the documented generic
    layout (`bank.DEFAULT_LAYOUT`); the bank's results come back in the same layout."""

    __tablename__ = "benefit_bank_layouts"
    __admin__ = False
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    columns: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_by_name: Mapped[str] = mapped_column(sa.String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def __str__(self) -> str:
        return "、".join(h for _f, h in self.columns or [])


#: A bank account is masked like a resident ID: the first four and the last four digits.
mask_account = mask_id


def refuse_closed_changes(session: Any, flush_context: Any, instances: Any) -> None:
    """A closed cycle never changes: no update or delete of it or of its lines (listened on
    every Session below, whoever writes: views, CLI, demo, Flask-Admin)."""
    closed_ids: set[Any] = set()
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, PaymentCycle):
            was = sa.inspect(obj).attrs.status.history
            before = was.deleted[0] if was.deleted else obj.status
            if before == CycleStatus.closed and (
                obj in session.deleted or session.is_modified(obj)
            ):
                raise ValueError("A closed payment cycle never changes")
        elif isinstance(obj, PaymentLine) and (obj in session.deleted or session.is_modified(obj)):
            closed_ids.add(obj.cycle_id)
    if closed_ids:
        with session.no_autoflush:
            closed = session.execute(
                sa.select(PaymentCycle.id).where(
                    PaymentCycle.id.in_(closed_ids), PaymentCycle.status == CycleStatus.closed
                )
            ).first()
        if closed is not None:
            raise ValueError("Lines of a closed payment cycle never change")


listen_once(Session, "before_flush", refuse_closed_changes)
