"""audit: viewer indexes (filter + newest-first by seq), entity search, append-only on SQLite

Revision ID: 0401
Revises: 0002
Create Date: 2026-11-25 09:45:00

Every viewer query is "one tenant, some filters, newest first, one page": each filter
index ends in `seq` so PostgreSQL and SQLite walk it backwards and stop after a page,
however large the table. Full-text search on the entity uses a trigram index on
PostgreSQL when the pg_trgm extension can be created (it is a trusted extension).
SQLite has no roles, so triggers refuse UPDATE and DELETE there too.
"""

from alembic import op

revision = "0401"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = {
    "ix_audit_events_tenant_actor": ["tenant_id", "actor_id"],
    "ix_audit_events_tenant_action": ["tenant_id", "action"],
    "ix_audit_events_tenant_department": ["tenant_id", "department_id"],
    "ix_audit_events_tenant_entity": ["tenant_id", "entity_type", "entity_id"],
}
NEW = {
    "ix_audit_events_tenant_actor_seq": ["tenant_id", "actor_id", "seq"],
    "ix_audit_events_tenant_action_seq": ["tenant_id", "action", "seq"],
    "ix_audit_events_tenant_department_seq": ["tenant_id", "department_id", "seq"],
    "ix_audit_events_tenant_entity_seq": ["tenant_id", "entity_type", "entity_id", "seq"],
}


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for name in OLD:
            batch_op.drop_index(name)
        for name, columns in NEW.items():
            batch_op.create_index(name, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """DO $$ BEGIN
              CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXCEPTION WHEN insufficient_privilege OR feature_not_supported THEN
              RAISE NOTICE 'pg_trgm not available: audit entity search uses a sequential scan';
            END $$"""
        )
        op.execute(
            """DO $$ BEGIN
              IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX IF NOT EXISTS ix_audit_events_search_trgm ON audit_events
                  USING gin ((entity_type || ' ' || entity_id || ' ' || summary) gin_trgm_ops);
              END IF;
            END $$"""
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{verb.lower()} "
                f"BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_audit_events_search_trgm")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for name in NEW:
            batch_op.drop_index(name)
        for name, columns in OLD.items():
            batch_op.create_index(name, columns, unique=False)
