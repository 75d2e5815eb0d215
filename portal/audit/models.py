"""The append-only audit trail and the head of each tenant's hash chain."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

#: The platform's own chain (operator actions, sign-ins of operators) uses this tenant id.
PLATFORM_CHAIN = uuid.UUID(int=0)

#: What an event records was done, to what, where: hashed by the chain (`verify.HASHED`)
#: and exported by the viewer (`services.EXPORT_COLUMNS`), in this order in the export.
RECORD_COLUMNS = (
    "action",
    "entity_type",
    "entity_id",
    "department_id",
    "summary",
    "changes",
)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __audit__ = False
    __table_args__ = (
        sa.Index("ix_audit_events_tenant_at", "tenant_id", "occurred_at"),
        # Viewer filters, newest first: each ends in seq (migration 0401).
        sa.Index(
            "ix_audit_events_tenant_entity_seq", "tenant_id", "entity_type", "entity_id", "seq"
        ),
        # Sorting by record type stops after a page (migration 1301).
        sa.Index("ix_audit_events_tenant_entity_type_seq", "tenant_id", "entity_type", "seq"),
        sa.Index("ix_audit_events_tenant_actor_seq", "tenant_id", "actor_id", "seq"),
        sa.Index("ix_audit_events_tenant_actor_name_seq", "tenant_id", "actor_name", "seq"),
        sa.Index("ix_audit_events_tenant_action_seq", "tenant_id", "action", "seq"),
        sa.Index("ix_audit_events_tenant_department_seq", "tenant_id", "department_id", "seq"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str] = mapped_column(sa.String(120))
    actor_role: Mapped[str] = mapped_column(sa.String(30))
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    request_id: Mapped[str] = mapped_column(sa.String(40), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    entity_type: Mapped[str] = mapped_column(sa.String(60), default="")
    entity_id: Mapped[str] = mapped_column(sa.String(80), default="")
    department_id: Mapped[uuid.UUID | None]
    summary: Mapped[str] = mapped_column(sa.String(400), default="")
    changes: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditChainHead(Base):
    """The newest (seq, hash) of one chain; its row lock serialises writers of a tenant."""

    __tablename__ = "audit_chain_heads"
    __audit__ = False

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default="0" * 64)
