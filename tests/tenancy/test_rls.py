"""Row-level security covers every tenant-owned table (walks the registry; PostgreSQL only)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND == "sqlite", reason="row-level security is PostgreSQL's")


def _tenant_tables() -> list[str]:
    from portal.extensions import db

    return sorted(
        {
            m.local_table.name
            for m in db.Model.registry.mappers
            if getattr(m.class_, "__tenant_owned__", False)
        }
    )


def test_every_tenant_table_has_forced_rls_and_a_policy(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "select c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(select count(*) from pg_policies p where p.tablename = c.relname), "
            "pg_get_userbyid(c.relowner) "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind = 'r'"
        ).all()
    info = {r[0]: r[1:] for r in rows}
    problems = []
    for table in _tenant_tables():
        enabled, forced, policies, owner = info[table]
        if not (enabled and forced and policies):
            problems.append(
                f"{table}: rls={enabled} force={forced} policies={policies} — call "
                "portal.tenancy.rls.tenant_table(...) in the table's migration"
            )
        if owner == "portal_app":
            problems.append(f"{table} is owned by the app role")
    assert not problems, "\n".join(problems)


def test_raw_sql_as_app_role_sees_and_writes_only_its_tenant(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        ids = dict(db.session.execute(sa.select(Tenant.slug, Tenant.id)).all())
        db.session.remove()
    a, b = str(ids["kaifeng"]), str(ids["jiading"])
    problems = []
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("select current_user").scalar() == "portal_app"
        conn.rollback()
        for table in _tenant_tables():
            with conn.begin():
                if conn.exec_driver_sql(f"select count(*) from {table}").scalar():
                    problems.append(f"{table}: rows visible with no tenant setting")
                conn.exec_driver_sql("select set_config('app.cross_tenant', 'on', true)")
                has_b = conn.exec_driver_sql(
                    f"select count(*) from {table} where tenant_id = %(b)s", {"b": b}
                ).scalar()
                if has_b:
                    conn.exec_driver_sql(
                        f"create temp table probe on commit drop as "
                        f"select * from {table} where tenant_id = %(b)s limit 1",
                        {"b": b},
                    )
                    conn.exec_driver_sql("update probe set id = gen_random_uuid()")
                conn.exec_driver_sql(
                    "select set_config('app.cross_tenant', 'off', true), "
                    "set_config('app.tenant_id', %(a)s, true)",
                    {"a": a},
                )
                leaked = conn.exec_driver_sql(
                    f"select count(*) from {table} where tenant_id <> %(a)s", {"a": a}
                ).scalar()
                if leaked:
                    problems.append(f"{table}: {leaked} rows of other tenants visible")
                if has_b:
                    savepoint = conn.begin_nested()
                    try:
                        conn.exec_driver_sql(f"insert into {table} select * from probe")
                        problems.append(f"{table}: insert of tenant B's row accepted")
                    except sa.exc.DBAPIError as e:
                        if "row-level security" not in str(e):
                            problems.append(f"{table}: insert refused for another reason: {e}")
                    savepoint.rollback()
                conn.rollback()
    assert not problems, "\n".join(problems)
