"""Tenants (districts), the canonical department kinds, and each tenant's departments."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, TenantOwned, new_id, utcnow
from portal.kernel import memo


class TenantStatus(enum.StrEnum):
    provisioning = "provisioning"
    active = "active"
    suspended = "suspended"
    pending_deletion = "pending_deletion"
    purged = "purged"  # business data deleted; the row and its audit chain remain


STATUS_LABELS = {
    TenantStatus.provisioning: _l("provisioning"),
    TenantStatus.active: _l("active"),
    TenantStatus.suspended: _l("suspended"),
    TenantStatus.pending_deletion: _l("pending deletion"),
    TenantStatus.purged: _l("purged"),
}


class Tenant(Base):
    """A district (区/县) or city running the programme. Not tenant-owned itself."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    level: Mapped[str] = mapped_column(sa.String(4))  # 区 / 县 / 市
    province: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[TenantStatus] = mapped_column(
        sa.Enum(TenantStatus, native_enum=False, length=20), default=TenantStatus.active
    )
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == TenantStatus.active


class DepartmentKind(Base):
    """Canonical list of department kinds (民政, 医保 …): a reference table shared by all tenants."""

    __tablename__ = "department_kinds"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(40))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name_zh


class Department(TenantOwned, Base):
    """One responsible unit (责任单位) of a tenant, e.g. 开封市民政局."""

    __tablename__ = "departments"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(sa.String(60))
    kind_code: Mapped[str] = mapped_column(sa.ForeignKey("department_kinds.code"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    kind: Mapped[DepartmentKind] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


# The canonical kinds; docs/policy-format.md lists the same codes.
DEPARTMENT_KINDS: list[tuple[str, str, str]] = [
    ("health", "卫健", "Health Commission"),
    ("civil_affairs", "民政", "Civil Affairs"),
    ("medical_insurance", "医保", "Medical Insurance"),
    ("justice", "司法", "Justice"),
    ("housing", "住建", "Housing and Construction"),
    ("disabled_federation", "残联", "Disabled Persons' Federation"),
    ("finance", "财政", "Finance"),
    ("human_resources", "人社", "Human Resources and Social Security"),
    ("education", "教育", "Education"),
    ("public_security", "公安", "Public Security"),
    ("culture_tourism", "文旅", "Culture and Tourism"),
    ("rural_revitalization", "乡村振兴", "Rural Revitalization"),
    ("family_planning_association", "计生协", "Family Planning Association"),
    ("trade_union", "总工会", "Federation of Trade Unions"),
    ("youth_league", "团委", "Communist Youth League"),
    ("women_federation", "妇联", "Women's Federation"),
    ("publicity", "宣传部", "Publicity Department"),
    ("landscaping", "园林", "Landscaping"),
    ("red_cross", "红十字会", "Red Cross"),
    ("audit", "审计", "Audit"),
    ("area_office", "地区办", "Area Work Office"),
    ("court", "法院", "Court"),
    ("township", "镇街", "Towns and Subdistricts"),
    ("county_government", "县区政府", "County/District Governments"),
    ("veterans", "退役军人", "Veterans Affairs"),
    ("emergency", "应急", "Emergency Management"),
    ("market_regulation", "市场监管", "Market Regulation"),
    ("natural_resources", "自然资源", "Natural Resources"),
    ("agriculture", "农业农村", "Agriculture and Rural Affairs"),
    ("statistics", "统计", "Statistics"),
    ("letters_visits", "信访", "Letters and Visits"),
    ("other", "其他", "Other"),
]

# Loaded with the signed-in user before any kept answer is computed (`kernel.memo`).
memo.read_by_every_answer(
    Tenant.__tablename__, Department.__tablename__, DepartmentKind.__tablename__
)
