"""How a request's transaction ends (`portal.web.end_transaction`).

A request that only read ends with COMMIT so that psycopg keeps its prepared statements
and PostgreSQL reuses their plans; anything written but not committed by the view, or
still pending in the session, is rolled back as before.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, Browser

pytestmark = pytest.mark.skipif(BACKEND == "sqlite", reason="prepared statements are psycopg's")


def _name_in_db(app, dept_id) -> str:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    with engine.connect() as conn:
        name = conn.execute(
            sa.text("SELECT name FROM departments WHERE id = :i"), {"i": dept_id}
        ).scalar_one()
    engine.dispose()
    return name


def test_only_a_read_only_transaction_is_committed(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant
    from portal.web import end_transaction

    with fresh_app.test_request_context():
        with scope.cross_tenant("test"):
            tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="jiading")).scalar_one()
        db.session.commit()
        with scope.tenant_scope(tid):
            # 1. reads only: committed (the session leaves its transaction)
            dept = (
                db.session.execute(sa.select(Department).order_by(Department.key)).scalars().first()
            )
            original = dept.name
            end_transaction()
            assert not db.session().in_transaction()
            # 2. a change not flushed: left for the rollback at the end of the request
            dept.name = original + "（未提交）"
            end_transaction()
            assert db.session().in_transaction()
            db.session.rollback()
            # 3. a change flushed but not committed by the view: rolled back too
            dept = db.session.get(Department, (tid, dept.id))
            dept.name = original + "（已写未提交）"
            db.session.flush()
            end_transaction()
            assert db.session().in_transaction()
            db.session.rollback()
            dept_id = dept.id
    assert _name_in_db(fresh_app, dept_id) == original


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
