"""`migrations.tenant_tables` makes a tenant table exactly as the hand-written migrations did.

Measured against 1602 (`register_contact_villages`: own columns, a plain foreign key to
users, a composite one to areas, a unique constraint, an index, the RLS block): the same
PostgreSQL statements offline, the same catalog (columns, constraints, indexes, policy,
forced RLS, grants) on a live PostgreSQL database, and no difference from the model.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from migrations.tenant_tables import create_tenant_table, drop_tenant_table
from tests.conftest import BACKEND, ROOT

TABLE = "register_contact_villages"


def _with_helper() -> None:
    """1602's table, written with the helper (the way a new migration would)."""
    create_tenant_table(
        TABLE,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("village_id", sa.Uuid(), nullable=False),
        refs={"village_id": "areas"},
        links={"user_id": "users.id"},
        unique=[("tenant_id", "user_id")],
        indexes={"ix_register_contact_villages_tenant_village": ["tenant_id", "village_id"]},
    )


def _migration_1602() -> Any:
    path = Path(ROOT) / "migrations" / "versions" / "1602_register_contact_villages.py"
    spec = importlib.util.spec_from_file_location("m1602", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _offline_sql(run: Any) -> list[str]:
    """The PostgreSQL statements `run` emits (Alembic's offline mode, no database)."""
    out = io.StringIO()
    ctx = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": out}
    )
    with Operations.context(ctx):
        run()
    statements = [s.strip() for s in out.getvalue().split(";\n")]
    return [s for s in statements if TABLE in s]


def test_the_helper_emits_the_statements_of_migration_1602() -> None:
    by_hand = _offline_sql(_migration_1602().upgrade)
    helped = _offline_sql(_with_helper)
    assert [s.split("\n")[0] for s in by_hand] == [
        "CREATE TABLE register_contact_villages (",
        "CREATE INDEX ix_register_contact_villages_tenant_village ON register_contact_villages (tenant_id, village_id)",
        "ALTER TABLE register_contact_villages ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE register_contact_villages FORCE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS tenant_isolation ON register_contact_villages",
        "CREATE POLICY tenant_isolation ON register_contact_villages USING ((SELECT current_setting('app.cross_tenant', true)) = 'on' OR tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)) WITH CHECK ((SELECT current_setting('app.cross_tenant', true)) = 'on' OR tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON register_contact_villages TO portal_app",
    ]
    assert helped == by_hand


def test_drop_is_one_statement() -> None:
    assert _offline_sql(lambda: drop_tenant_table(TABLE)) == [f"DROP TABLE {TABLE}"]


def _catalog(conn: sa.Connection) -> dict[str, Any]:
    one = {"t": TABLE}
    q = {
        "columns": "select column_name, data_type, is_nullable, column_default "
        "from information_schema.columns where table_name = :t order by ordinal_position",
        "constraints": "select conname, pg_get_constraintdef(oid) from pg_constraint "
        "where conrelid = cast(:t as regclass) order by conname",
        "indexes": "select indexname, indexdef from pg_indexes where tablename = :t order by 1",
        "policies": "select policyname, permissive, roles, cmd, qual, with_check "
        "from pg_policies where tablename = :t order by 1",
        "rls": "select relrowsecurity, relforcerowsecurity from pg_class "
        "where oid = cast(:t as regclass)",
        "grants": "select grantee, privilege_type from information_schema.role_table_grants "
        "where table_name = :t order by 1, 2",
    }
    return {k: [tuple(r) for r in conn.execute(sa.text(v), one)] for k, v in q.items()}


@pytest.mark.skipif(BACKEND == "sqlite", reason="the catalog compared is PostgreSQL's")
def test_the_helper_makes_the_table_1602_made(databases) -> None:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(databases.owner_url(databases.new(demo=False)))
    try:
        with engine.connect() as conn, conn.begin() as tx:
            before = _catalog(conn)
            conn.exec_driver_sql(f"DROP TABLE {TABLE}")
            with Operations.context(MigrationContext.configure(conn)):
                _with_helper()
            after = _catalog(conn)
            tx.rollback()
    finally:
        engine.dispose()
    assert before["rls"] == [(True, True)] and before["policies"] and before["grants"]
    assert after == before


def test_the_helper_table_matches_the_model() -> None:
    """Alembic compares the model with the table the helper made: nothing to migrate."""
    from alembic.autogenerate import compare_metadata

    from portal import models  # noqa: F401  (every domain's tables in the metadata)
    from portal.extensions import db

    metadata = db.Model.metadata
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        metadata.create_all(
            conn, tables=[metadata.tables[t] for t in ("tenants", "users", "areas")]
        )
        with Operations.context(MigrationContext.configure(conn)):
            _with_helper()

        def ours(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
            table = obj if type_ == "table" else getattr(obj, "table", None)
            return getattr(table, "name", None) == TABLE

        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": ours}), metadata
        )
    assert diffs == []
