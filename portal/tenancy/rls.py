"""PostgreSQL row-level security and grants, applied by the migrations.

The app connects as `PORTAL_APP_DB_ROLE` (default `portal_app`): a role that owns
nothing, is not a superuser and has NOBYPASSRLS. Every tenant-owned table has
`FORCE ROW LEVEL SECURITY` and one policy keyed on the per-transaction setting
`app.tenant_id` (set by `portal.tenancy.scope` with `set_config(…, true)`); with the
setting unset the policy matches nothing. Explicit platform code (onboarding,
counts) sets `app.cross_tenant = on` for its transaction only.
"""

from __future__ import annotations

import os

from alembic import op

APP_ROLE = os.environ.get("PORTAL_APP_DB_ROLE", "portal_app")

# The settings are read in scalar sub-selects: PostgreSQL evaluates them once per
# statement (an InitPlan) instead of calling current_setting() twice for every row it
# filters — a count over a 9,000-household district went from ~20 ms to ~2 ms
# (migration 1603_rls_initplan; docs/performance.md). Same meaning as before.
TENANT_PREDICATE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
)
# Audit chains: a tenant sees its own chain; code with no tenant sees the platform chain.
CHAIN_PREDICATE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR tenant_id = (SELECT coalesce(nullif(current_setting('app.tenant_id', true), ''), "
    "'00000000-0000-0000-0000-000000000000')::uuid)"
)
#: The predicates of migrations before 1603 (its downgrade restores them).
TENANT_PREDICATE_PER_ROW = (
    "current_setting('app.cross_tenant', true) = 'on' "
    "OR tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
)
CHAIN_PREDICATE_PER_ROW = (
    "current_setting('app.cross_tenant', true) = 'on' "
    "OR tenant_id = coalesce(nullif(current_setting('app.tenant_id', true), ''), "
    "'00000000-0000-0000-0000-000000000000')::uuid"
)


def _pg() -> bool:
    # The context's dialect, not the connection's: offline (`flask db upgrade --sql`)
    # there is no connection, and the statements are still PostgreSQL's.
    return op.get_context().dialect.name == "postgresql"


def ensure_app_role() -> None:
    if not _pg():
        return
    op.execute(
        f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
          CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        END IF; END $$"""
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")


def tenant_table(
    table: str,
    predicate: str = TENANT_PREDICATE,
    privileges: str = "SELECT, INSERT, UPDATE, DELETE",
) -> None:
    """Forced RLS with the tenant policy, and the app role's privileges."""
    if not _pg():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})"
    )
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")


def global_table(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    if not _pg():
        return
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")


def append_only(table: str) -> None:
    """A trigger refuses UPDATE, DELETE and TRUNCATE, whoever asks."""
    if not _pg():
        return
    op.execute(
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"""
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )
