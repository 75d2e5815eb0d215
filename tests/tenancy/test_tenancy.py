"""The central scoping mechanism and PostgreSQL row-level security (issue 3 core)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND


def _tenant_ids(app) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        return dict(db.session.execute(sa.select(Tenant.slug, Tenant.id)).all())


def test_query_without_tenant_raises(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy.models import Department
    from portal.tenancy.scope import ScopeError

    with app.app_context(), pytest.raises(ScopeError):
        db.session.execute(sa.select(Department)).all()


def test_scope_filters_every_tenant_owned_query(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    ids = _tenant_ids(app)
    with app.app_context(), scope.tenant_scope(ids["kaifeng"]):
        depts = db.session.execute(sa.select(Department)).scalars().all()
        assert depts and {d.tenant_id for d in depts} == {ids["kaifeng"]}
        count = db.session.execute(sa.select(sa.func.count(Department.id))).scalar_one()
        assert count == len(depts)
        # get() by primary key of another tenant's row finds nothing
        other = None
        with scope.tenant_scope(ids["jiading"]):
            other = db.session.execute(sa.select(Department)).scalars().first()
        db.session.expunge_all()
        assert db.session.get(Department, (other.tenant_id, other.id)) is None


def test_new_rows_are_stamped_and_foreign_tenant_rows_refused(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    ids = _tenant_ids(fresh_app)
    with fresh_app.app_context(), scope.tenant_scope(ids["kaifeng"]):
        d = Department(key="x_test", kind_code="other", name="测试单位")
        db.session.add(d)
        db.session.commit()
        assert d.tenant_id == ids["kaifeng"]
        db.session.add(
            Department(tenant_id=ids["jiading"], key="forged", kind_code="other", name="伪造")
        )
        with pytest.raises(scope.ScopeError):
            db.session.flush()
        db.session.rollback()


def test_cross_tenant_url_is_404(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    assert b.get("/t/kaifeng/").status_code == 200
    assert b.get("/t/jiading/").status_code == 404
    assert b.get("/t/no-such-district/").status_code == 404
    op = login_as("operator")
    assert op.get("/t/kaifeng/").status_code == 404


def test_suspended_tenant_cannot_sign_in_and_says_so(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.platform.lifecycle import set_status
    from portal.tenancy import services
    from portal.tenancy.models import TenantStatus
    from tests.conftest import Browser

    b = Browser(fresh_app)
    assert b.login("jiading-lead").status_code == 302
    with fresh_app.app_context():
        set_status(services.get_tenant("jiading"), TenantStatus.suspended)
        db.session.commit()  # services never commit: the caller is the unit of work
        db.session.remove()
    r = b.get("/t/jiading/")
    assert r.status_code == 403 and "暂停" in r.get_data(as_text=True)
    r = Browser(fresh_app).login("jiading-civil-affairs")
    assert r.status_code == 401 and "暂停" in r.get_data(as_text=True)


@pytest.mark.skipif(BACKEND == "sqlite", reason="row-level security is PostgreSQL's")
def test_rls_raw_sql_sees_only_the_tenant_in_the_setting(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    ids = _tenant_ids(fresh_app)
    tenant_tables = [
        m.local_table.name
        for m in db.Model.registry.mappers
        if getattr(m.class_, "__tenant_owned__", False)
    ]
    assert "departments" in tenant_tables
    with fresh_app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            role = conn.exec_driver_sql(
                "select current_user, (select rolsuper or rolbypassrls from pg_roles where rolname = current_user)"
            ).one()
            assert role[0] == "portal_app" and role[1] is False
            conn.rollback()
            for table in tenant_tables:
                with conn.begin():
                    assert conn.exec_driver_sql(f"select count(*) from {table}").scalar() == 0
                    conn.exec_driver_sql(
                        "select set_config('app.tenant_id', %(t)s, true)",
                        {"t": str(ids["kaifeng"])},
                    )
                    others = conn.exec_driver_sql(
                        f"select count(*) from {table} where tenant_id <> %(t)s",
                        {"t": str(ids["kaifeng"])},
                    ).scalar()
                    assert others == 0, table
            with conn.begin():
                conn.exec_driver_sql(
                    "select set_config('app.tenant_id', %(t)s, true)", {"t": str(ids["kaifeng"])}
                )
                with pytest.raises(sa.exc.ProgrammingError):
                    conn.exec_driver_sql(
                        "insert into departments (tenant_id, id, key, kind_code, name, active, sort_order) "
                        "values (%(t)s, gen_random_uuid(), 'forged', 'other', 'x', true, 0)",
                        {"t": str(ids["jiading"])},
                    )


def test_one_statement_under_many_scopes_keeps_each_scopes_rows(app) -> None:  # type: ignore[no-untyped-def]
    """The scope's criteria keep their statement-cache key between statements (speed):
    the same statement run in turn for two districts and two departments (a cached
    compiled statement each time after the first) still answers only that scope's rows,
    in the main query, its joined eager loads and its lazy loads."""
    from portal.duties.models import Duty, ProgressEntry
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    ids = _tenant_ids(app)
    stmt = sa.select(Duty).limit(200)
    with app.app_context():
        depts: dict[str, list] = {}
        for slug in ("kaifeng", "jiading"):
            with scope.tenant_scope(ids[slug]):
                rows = db.session.execute(
                    sa.select(Department.id).where(Department.active).limit(2)
                )
                depts[slug] = [r[0] for r in rows]
        for _round in range(2):
            for slug in ("kaifeng", "jiading"):
                for dept in depts[slug]:
                    db.session.expunge_all()
                    with scope.tenant_scope(ids[slug], department_id=dept):
                        duties = db.session.execute(stmt).unique().scalars().all()
                        assert duties, (slug, dept)
                        assert {d.tenant_id for d in duties} == {ids[slug]}
                        assert {d.department_id for d in duties} == {dept}
                        assert {d.department.id for d in duties} == {dept}  # joined
                        entries = [e for d in duties[:5] for e in d.entries]  # lazy
                        assert all(
                            isinstance(e, ProgressEntry) and e.department_id == dept
                            for e in entries
                        )
