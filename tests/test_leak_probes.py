"""Leak probes: tenant B's records never show up for tenant A, an officer's other departments never.

Every tenant-owned mapped model is found by walking the mapper registry, so models
added later are covered without editing this file. Pages come from the access
matrix's classification (tests/test_access_matrix.py): every GET route a role may
open in its own tenant — lists, counts, search, exports, detail pages, API results,
Flask-Admin lists, details and exports — is fetched, and the ids and names found in
the answer must not include tenant B's (nor, for an officer, those of records of
other departments that the scope hides).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import demo_app
from tests.test_access_matrix import (
    OTHER_TENANT,
    OWN,
    Clients,
    Samples,
    all_routes,
    allowed,
    route_url,
)

A, B = "kaifeng", "zhangdian"  # as in tests/test_access_matrix.py (its Samples pick B's rows)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tenant_owned_models() -> list[type]:
    from portal.extensions import db

    return sorted(
        (
            m.class_
            for m in db.Model.registry.mappers
            if getattr(m.class_, "__tenant_owned__", False) and "id" in m.columns
        ),
        key=lambda c: c.__name__,
    )


@pytest.fixture(scope="module")
def probe_app(databases):  # type: ignore[no-untyped-def]
    with demo_app(databases) as application:
        yield application


class Secrets:
    """What tenant A must never see: every id of B's rows and B's distinctive names."""

    def __init__(self, app: Any, samples: Samples) -> None:
        from portal.extensions import db
        from portal.tenancy import scope
        from portal.tenancy.models import Department, Tenant

        a, b = samples.tenants[A], samples.tenants[B]
        self.b_ids: set[str] = set()
        self.hidden_from_officer: set[str] = set()
        with app.app_context():
            with scope.tenant_scope(b):
                for cls in tenant_owned_models():
                    self.b_ids |= {str(i) for i in db.session.execute(sa.select(cls.id)).scalars()}
                b_names = set(db.session.execute(sa.select(Department.name)).scalars())
            with scope.tenant_scope(a):
                a_names = set(db.session.execute(sa.select(Department.name)).scalars())
                every = self._ids(db)
            with scope.tenant_scope(a, samples.officer_department_id):
                visible = self._ids(db)
            self.hidden_from_officer = every - visible
            with scope.cross_tenant("test"):
                b_tenant = db.session.execute(sa.select(Tenant).filter_by(id=b)).scalar_one()
            self.b_names = {n for n in b_names - a_names if len(n) >= 4} | {b_tenant.name}
            db.session.remove()
        assert self.b_ids and self.b_names

    @staticmethod
    def _ids(db: Any) -> set[str]:
        ids: set[str] = set()
        for cls in tenant_owned_models():
            if getattr(cls, "__department_owned__", False):
                ids |= {str(i) for i in db.session.execute(sa.select(cls.id)).scalars()}
        return ids

    def leaks(self, role: str, body: str) -> list[str]:
        found = set(UUID_RE.findall(body))
        out = [f"id of tenant B: {i}" for i in sorted(found & self.b_ids)[:3]]
        out += [f"name of tenant B: {n}" for n in sorted(self.b_names) if n in body][:3]
        if role == "officer":
            out += [
                f"other department's record {i}"
                for i in sorted(found & self.hidden_from_officer)[:3]
            ]
        return out


def _as_lead(probe_app):  # type: ignore[no-untyped-def]
    """The samples, tenant A's lead signed in, and a CSRF token of the lead's session."""
    clients = Clients(probe_app)
    lead = clients.get("lead")
    return Samples(probe_app), lead, clients.csrf("lead", lead)


def test_every_tenant_owned_model_is_scoped_in_the_orm(probe_app) -> None:  # type: ignore[no-untyped-def]
    """Lists, counts and get-by-id through the session never reach tenant B's rows."""
    from portal.extensions import db
    from portal.tenancy import scope

    samples = Samples(probe_app)
    a, b = samples.tenants[A], samples.tenants[B]
    checked = []
    with probe_app.app_context():
        for cls in tenant_owned_models():
            with scope.tenant_scope(b):
                b_row = db.session.execute(sa.select(cls).limit(1)).unique().scalar()
                b_key = (b_row.tenant_id, b_row.id) if b_row is not None else None
            db.session.expunge_all()
            with scope.tenant_scope(a):
                rows = db.session.execute(sa.select(cls)).unique().scalars().all()
                assert all(r.tenant_id == a for r in rows), cls.__name__
                count = db.session.execute(sa.select(sa.func.count()).select_from(cls)).scalar()
                assert count == len(rows), cls.__name__
                if b_key is not None:
                    assert db.session.get(cls, b_key) is None, cls.__name__
                    by_id = sa.select(cls).where(cls.id == b_key[1])
                    assert db.session.execute(by_id).first() is None, cls.__name__
                    checked.append(cls.__name__)
            db.session.expunge_all()
        db.session.remove()
    assert "Department" in checked


def _probe_urls(app: Any, samples: Samples) -> list[tuple[str, str, str]]:
    """(endpoint, role, url) for every GET a district role may open in its own tenant."""
    out = []
    routes = all_routes(app)
    for rule in app.url_map.iter_rules():
        route = routes.get(rule.endpoint)
        if route is None or "GET" not in rule.methods or route.kind not in ("district", "api"):
            continue
        if rule.endpoint.endswith(".static") or rule.endpoint == "static":
            continue
        url = route_url(app, rule.endpoint, route, OWN, samples)
        if url is None:
            continue
        for role in ("lead", "officer", "auditor"):
            if allowed(route, role):
                out.append((rule.endpoint, role, url))
    return out


def test_no_page_or_api_answer_shows_another_tenant(probe_app) -> None:  # type: ignore[no-untyped-def]
    samples = Samples(probe_app)
    secrets = Secrets(probe_app, samples)
    clients = Clients(probe_app)
    problems: list[str] = []
    probes = _probe_urls(probe_app, samples)
    # search: B's names typed into A's searchable admin lists
    search = next(iter(sorted(secrets.b_names)))
    for endpoint in ("tadmin_departments.index_view", "tadmin_users.index_view"):
        with probe_app.test_request_context():
            from flask import url_for

            probes.append((endpoint, "lead", url_for(endpoint, slug=A, search=search)))
    assert len(probes) > 20
    for endpoint, role, url in probes:
        kw: dict[str, Any] = {}
        if url.startswith("/api/"):
            kw["headers"] = clients.bearer(role)
        response = clients.get(role).client.get(url, buffered=True, **kw)
        body = response.get_data().decode("utf-8", "replace").replace(search, "")  # echo
        response.close()
        if response.status_code >= 500:
            problems.append(f"{url} as {role}: {response.status_code}")
        for leak in secrets.leaks(role, body):
            problems.append(f"{url} [{endpoint}] as {role}: {leak}")
    assert not problems, "\n".join(problems)


def test_ids_of_tenant_b_in_admin_urls_are_404_and_delete_nothing(probe_app) -> None:  # type: ignore[no-untyped-def]
    """Detail, edit and delete of every admin view with each of B's record kinds."""
    from portal.extensions import db
    from portal.tenancy import scope

    samples, lead, token = _as_lead(probe_app)
    problems = []
    tables = {m.local_table.name: m.class_ for m in db.Model.registry.mappers}
    views = sorted(
        {
            e.split(".")[0]
            for e in probe_app.view_functions
            if e.startswith("tadmin_") and e.endswith(".details_view")
        }
    )
    assert "tadmin_departments" in views
    for view in views:
        table = view.removeprefix("tadmin_")
        cls = tables.get(table) or db.Model.registry._class_registry["User"]
        b_id = samples.record(cls.__name__, OTHER_TENANT, required=False)
        if b_id is None:
            continue
        base = f"/t/{A}/admin/{table}"
        for method, path, data in (
            ("GET", f"{base}/details/?id={b_id}", None),
            ("GET", f"{base}/edit/?id={b_id}", None),
            ("POST", f"{base}/edit/?id={b_id}", {"csrf_token": token, "name": "x"}),
            ("POST", f"{base}/delete/", {"csrf_token": token, "id": str(b_id)}),
        ):
            r = lead.client.open(path, method=method, data=data, buffered=True)
            r.close()
            allowed = (404,) if "details" in path else (302, 404)
            if r.status_code not in allowed:
                problems.append(f"{method} {path}: {r.status_code}")
        with probe_app.app_context(), scope.tenant_scope(samples.tenants[B]):
            still = db.session.execute(sa.select(cls.id).where(cls.id == b_id)).first()
            db.session.remove()
        if still is None:
            problems.append(f"{cls.__name__} {b_id} of tenant B was deleted through A's admin")
    assert not problems, "\n".join(problems)


def test_forged_tenant_and_department_fields_are_refused(probe_app) -> None:  # type: ignore[no-untyped-def]
    """Forms ignore tenant_id; a foreign department is not a valid choice."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    samples, lead, token = _as_lead(probe_app)
    b_dept = samples.record("Department", OTHER_TENANT)

    def forged(page: str, **fields: str) -> Any:
        """A form of A's district posted with B's tenant id slipped in."""
        data = {"csrf_token": token, "tenant_id": str(samples.tenants[B]), **fields}
        return lead.client.post(f"/t/{A}/{page}", data=data)

    r = forged("departments", key="forged_probe", kind="other", name="伪造探测")
    assert r.status_code in (302, 400)
    r = forged(
        "users",
        username="forged-probe",
        display_name="x",
        role="dept_officer",
        department=str(b_dept),
    )
    assert r.status_code < 500
    with probe_app.app_context(), scope.tenant_scope(samples.tenants[B]):
        assert (
            db.session.execute(sa.select(Department).filter_by(key="forged_probe")).first() is None
        )
        assert (
            db.session.execute(sa.select(User).filter_by(username="forged-probe")).first() is None
        )
        db.session.remove()
    with probe_app.app_context(), scope.cross_tenant("test"):
        made = db.session.execute(sa.select(User).filter_by(username="forged-probe")).scalar()
        assert made is None or made.department_id != b_dept
        db.session.remove()
