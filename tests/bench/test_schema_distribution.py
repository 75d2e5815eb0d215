"""The schema stays ready for Citus: tenant_id leads every tenant-owned key.

Walks the whole SQLAlchemy metadata, so tables added by any domain later are checked too.
"""

from __future__ import annotations

import sqlalchemy as sa

from bench import distribution
from portal.db import Base


def test_every_tenant_owned_table_leads_with_tenant_id() -> None:
    assert distribution.problems() == []


def test_tenant_owned_models_are_distributed_and_globals_are_reference() -> None:
    kinds = distribution.classify()
    tenant_owned = {
        t.name
        for m in Base.registry.mappers
        if getattr(m.class_, "__tenant_owned__", False)
        for t in m.tables
    }
    assert tenant_owned, "no tenant-owned models registered"
    assert {kinds[t] for t in tenant_owned} == {"distributed"}
    # Audit trail is co-located with the tenant's data; lookup tables are replicated.
    assert kinds["audit_events"] == kinds["audit_chain_heads"] == "distributed"
    for name in ("tenants", "department_kinds", "users"):
        assert kinds[name] == "reference"


def test_rules_catch_a_bad_table() -> None:
    """A table violating each rule is reported (guards the checker itself)."""
    md = sa.MetaData()
    sa.Table("tenants", md, sa.Column("id", sa.Uuid, primary_key=True))
    sa.Table(
        "parents",
        md,
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(10), unique=True),
    )
    sa.Table(
        "children",
        md,
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("parent_id", sa.Uuid, sa.ForeignKey("parents.id")),
    )
    sa.Table(
        "loose",
        md,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
    )
    sa.Table(
        "globals",
        md,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid),
        sa.Column("parent_id", sa.Uuid),
        sa.ForeignKeyConstraint(["tenant_id", "parent_id"], ["parents.tenant_id", "parents.id"]),
    )
    found = "\n".join(distribution.problems(md))
    assert "children: foreign key (parent_id)" in found
    assert "parents: unique" in found and "(code)" in found
    assert "loose: has a NOT NULL tenant_id" in found
    assert "globals: reference table with a foreign key to distributed table parents" in found


def test_citus_ddl_names_every_table() -> None:
    ddl = distribution.citus_ddl()
    for table in distribution.metadata().sorted_tables:
        assert f"'{table.name}'" in ddl
    assert "create_reference_table('tenants')" in ddl
    assert "create_distributed_table('audit_events', 'tenant_id'" in ddl
