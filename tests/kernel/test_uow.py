"""How a request's transaction ends (`portal.kernel.uow.commit_request`).

A request whose response is below 400 commits once at the end (a read too: psycopg keeps
its prepared statements across COMMIT, so PostgreSQL reuses their plans); any other
response rolls back everything the view did.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, Browser


def _name_in_db(app, dept_id) -> str:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    with engine.connect() as conn:
        departments = sa.table("departments", sa.column("id", sa.Uuid()), sa.column("name"))
        name = conn.execute(
            sa.select(departments.c.name).where(departments.c.id == dept_id)
        ).scalar_one()
    engine.dispose()
    return name


def test_a_request_commits_once_when_it_succeeds(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from flask import Response

    from portal.extensions import db
    from portal.kernel.uow import commit_request
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with fresh_app.test_request_context():
        with scope.cross_tenant("test"):
            tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="jiading")).scalar_one()
        with scope.tenant_scope(tid):
            dept = (
                db.session.execute(sa.select(Department).order_by(Department.key)).scalars().first()
            )
            original, dept_id = dept.name, dept.id
            # 1. a read: the transaction ends (committed), nothing changes
            commit_request(Response(status=200))
            assert not db.session().in_transaction()
            # 2. a change in a request that failed (4xx): rolled back
            dept = db.session.get(Department, (tid, dept_id))
            dept.name = original + "（失败未保存）"
            db.session.flush()
            commit_request(Response(status=409))
            assert not db.session().in_transaction()
    assert _name_in_db(fresh_app, dept_id) == original
    with fresh_app.test_request_context(), scope.tenant_scope(tid):
        # 3. a change in a request that succeeded: committed once, at the end
        dept = db.session.get(Department, (tid, dept_id))
        dept.name = original + "（已保存）"
        commit_request(Response(status=302))
    assert _name_in_db(fresh_app, dept_id) == original + "（已保存）"


@pytest.mark.skipif(BACKEND == "sqlite", reason="prepared statements are psycopg's")
def test_repeated_pages_reuse_prepared_statements(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    b = Browser(fresh_app)
    assert b.login("jiading-civil-affairs").status_code == 302
    for _ in range(8):
        assert b.get("/t/jiading/duties/").status_code == 200
    with fresh_app.app_context(), db.engine.connect() as conn:
        prepared = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT users.%%'"
        ).scalar_one()
    assert prepared >= 1
