"""How each table would be placed on Citus, derived from the SQLAlchemy metadata.

* distributed by `tenant_id`: every table whose primary key starts with a NOT NULL
  `tenant_id` (all `TenantOwned` models, the audit events and chain heads). They are
  all co-located, so every join and foreign key inside one tenant stays on one node.
* reference (copied to every node): everything else — tenants, department kinds,
  users, API tokens … They are small and read on every request.
* local (coordinator only): `LOCAL_TABLES`, written on every sign-in, never joined.

Citus rules this module checks (tests/bench/test_schema_distribution.py runs them on every
table, including tables added later):

1. a foreign key between distributed tables must include the distribution column,
   i.e. start with `tenant_id` on both sides;
2. unique constraints / unique indexes / the primary key of a distributed table must
   include `tenant_id`;
3. a reference table may not reference a distributed table (Citus refuses it); the
   known exceptions are listed in `REFERENCE_TO_DISTRIBUTED_EXCEPTIONS` with what
   replaces the constraint on Citus.

`python -m bench.distribution` prints the Citus DDL.
"""

from __future__ import annotations

import sqlalchemy as sa

#: (table, referred table) -> how the rule is kept when the FK is dropped on Citus.
REFERENCE_TO_DISTRIBUTED_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("users", "departments"): (
        "users stays a reference table (sign-in looks users up by username without a "
        "tenant); on Citus this FK is dropped and the service layer "
        "(portal.auth.services) is the only writer of users.department_id"
    ),
}


#: Tables kept on the coordinator only (written on every sign-in, never joined).
LOCAL_TABLES = frozenset({"login_attempts"})


def metadata() -> sa.MetaData:
    import portal.models  # noqa: F401 - registers every domain's tables
    from portal.db import Base

    return Base.metadata


def is_distributed(table: sa.Table) -> bool:
    pk = list(table.primary_key.columns)
    return bool(pk) and pk[0].name == "tenant_id" and not pk[0].nullable


def classify(md: sa.MetaData | None = None) -> dict[str, str]:
    """table name -> 'distributed' | 'reference' | 'local'."""
    md = md or metadata()
    return {
        t.name: "distributed"
        if is_distributed(t)
        else ("local" if t.name in LOCAL_TABLES else "reference")
        for t in md.sorted_tables
    }


def problems(md: sa.MetaData | None = None) -> list[str]:
    """Every violation of the rules above; empty when the schema can be distributed."""
    from portal.db import Base

    md = md or metadata()
    found: list[str] = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tenant_owned__", False):
            for table in mapper.tables:
                if not is_distributed(table):
                    found.append(f"{table.name}: tenant-owned but tenant_id does not lead its PK")
    for table in md.sorted_tables:
        distributed = is_distributed(table)
        tenant_col = table.c.get("tenant_id")
        if tenant_col is not None and not tenant_col.nullable and not distributed:
            found.append(
                f"{table.name}: has a NOT NULL tenant_id (tenant-owned) but its primary key "
                f"does not start with tenant_id"
            )
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table
            if not is_distributed(referred):
                continue
            local = [c.name for c in fk.columns]
            remote = [e.column.name for e in fk.elements]
            if not distributed:
                if (table.name, referred.name) not in REFERENCE_TO_DISTRIBUTED_EXCEPTIONS:
                    found.append(
                        f"{table.name}: reference table with a foreign key to distributed "
                        f"table {referred.name} ({', '.join(local)})"
                    )
                continue
            if local[0] != "tenant_id" or remote[0] != "tenant_id":
                found.append(
                    f"{table.name}: foreign key ({', '.join(local)}) -> {referred.name}"
                    f"({', '.join(remote)}) does not start with tenant_id on both sides"
                )
        if not distributed:
            continue
        uniques: list[tuple[str, list[str]]] = [
            (c.name or "unique", [col.name for col in c.columns])
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint)
        ]
        uniques += [
            (ix.name or "index", [col.name for col in ix.columns])
            for ix in table.indexes
            if ix.unique
        ]
        uniques += [(f"{col.name} unique=True", [col.name]) for col in table.columns if col.unique]
        for name, cols in uniques:
            if "tenant_id" not in cols:
                found.append(
                    f"{table.name}: unique {name} ({', '.join(cols)}) lacks tenant_id "
                    "(Citus cannot enforce it across shards)"
                )
    return found


def citus_ddl(md: sa.MetaData | None = None) -> str:
    """The statements that distribute the schema on a Citus coordinator."""
    md = md or metadata()
    kinds = classify(md)
    lines = [
        "-- generated by: python -m bench.distribution",
        "-- run on the coordinator after the migrations, before loading data",
        "BEGIN;",
    ]
    for (table, referred), why in REFERENCE_TO_DISTRIBUTED_EXCEPTIONS.items():
        for fk in md.tables[table].foreign_key_constraints:
            if fk.referred_table.name == referred:
                lines.append(f"-- {why}")
                lines.append(f"ALTER TABLE {table} DROP CONSTRAINT {fk.name};")
    for name, kind in kinds.items():
        if kind == "reference":
            lines.append(f"SELECT create_reference_table('{name}');")
        elif kind == "local":
            lines.append(f"SELECT citus_add_local_table_to_metadata('{name}');")
    anchor = "tenants_shard_anchor"
    first = True
    for name, kind in kinds.items():
        if kind != "distributed":
            continue
        if first:
            lines.append(
                f"SELECT create_distributed_table('{name}', 'tenant_id', shard_count => 64);"
            )
            anchor, first = name, False
        else:
            lines.append(
                f"SELECT create_distributed_table('{name}', 'tenant_id', colocate_with => '{anchor}');"
            )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    issues = problems()
    for p in issues:
        print(f"-- PROBLEM: {p}", file=sys.stderr)
    print(citus_ddl(), end="")
    sys.exit(1 if issues else 0)
