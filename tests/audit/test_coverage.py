"""Audit coverage: every mapped model and every state-changing route leaves exactly the
expected audit event (actor, action, record, before/after).

The cases live beside each domain's tests (`tests/<domain>/audit_cases.py`); see
`tests/audit/coverage.py` for how to add yours.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.audit.coverage import (
    ACTOR,
    MARKS,
    SECRETS,
    Ctx,
    Exercise,
    Listed,
    as_json,
    chain_events,
    chain_head,
    chain_slugs,
    changed_value,
    clone,
    domain_tables,
    mark,
    model_names,
    new_events,
    plain_field,
)
from tests.conftest import DEMO_PASSWORD, demo_app

ROUTES: dict[str, Exercise | Listed] = domain_tables("ROUTES")
DOWNLOADS: dict[str, Exercise | Listed] = domain_tables("DOWNLOADS")
MODEL_FACTORIES = domain_tables("MODEL_FACTORIES")
NOT_AUDITED: dict[str, str] = domain_tables("NOT_AUDITED")

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

DOWNLOAD_RULE = re.compile(r"export|download")

#: Flask-Admin model views (portal/admin): every write goes through the scoped Session, so
#: the flush hook records it like any other ORM change (the model cases below prove the
#: capture per model); their endpoints are covered by this rule rather than one by one.
FLASK_ADMIN = re.compile(r"^(tadmin|padmin)(_\w+)?\.")

FLASK_ADMIN_NOTE = Listed(
    "Flask-Admin: create/update/delete of the view's model → create/update/delete events "
    "(flush hook), actor the signed-in user; export: the view's CSV export",
)

FILE_URL = re.compile(r"\.(?:[a-z]{2,5}|<[^>]+>)$")


def _covered(endpoint: str, table: dict) -> bool:
    return endpoint in table or bool(FLASK_ADMIN.match(endpoint))


@pytest.fixture(scope="module")
def cov_app(databases):  # type: ignore[no-untyped-def]
    """One demo database for the whole module (each case diffs the chain heads)."""
    with demo_app(databases) as application:
        yield application


def _state_changing_endpoints(app: Any) -> list[str]:
    return sorted(
        {
            r.endpoint
            for r in app.url_map.iter_rules()
            if STATE_CHANGING & set(r.methods or ()) and r.endpoint != "static"
        }
    )


def _download_endpoints(app: Any) -> list[str]:
    return sorted(
        {
            r.endpoint
            for r in app.url_map.iter_rules()
            if "GET" in (r.methods or ())
            and r.endpoint != "static"
            and (DOWNLOAD_RULE.search(r.endpoint) or FILE_URL.search(r.rule))
        }
    )


def _table_matches(endpoints: list[str], table: dict, name: str, how: str) -> None:
    """Every endpoint is in the table (`how` says how to add one) and nothing stale is."""
    missing = [e for e in endpoints if not _covered(e, table)]
    assert not missing, f"{name} without audit coverage — add each to {how}:\n  " + "\n  ".join(
        missing
    )
    stale = [e for e in table if e not in endpoints]
    assert not stale, f"the table lists {name} that no longer exist: {stale}"


def test_every_download_is_in_the_table(cov_app) -> None:  # type: ignore[no-untyped-def]
    _table_matches(
        _download_endpoints(cov_app),
        DOWNLOADS,
        "exports/downloads",
        "DOWNLOADS in tests/audit/test_coverage.py as Exercise(fn) or Listed('<expected "
        "event>', test=…) (record them with trail.record(db.session, 'export' or 'download', "
        "entity_type=…, summary=…, data={'rows': n, …}))",
    )


def test_every_state_changing_route_is_in_the_table(cov_app) -> None:  # type: ignore[no-untyped-def]
    _table_matches(
        _state_changing_endpoints(cov_app),
        ROUTES,
        "state-changing routes",
        "ROUTES in tests/audit/test_coverage.py as Exercise(fn) (fn makes the request and "
        "returns the Expect(...) events it must leave) or Listed('<expected event shape>', "
        "test='<your test that checks it>')",
    )


@pytest.mark.parametrize(
    "endpoint",
    sorted(e for e, c in {**ROUTES, **DOWNLOADS}.items() if isinstance(c, Exercise)),
)
def test_route_leaves_exactly_the_expected_events(cov_app, endpoint) -> None:  # type: ignore[no-untyped-def]
    case = {**ROUTES, **DOWNLOADS}[endpoint]
    assert isinstance(case, Exercise)
    mark(cov_app)
    expected = case.run(cov_app)
    events = new_events(cov_app, MARKS["heads"])
    slugs = chain_slugs(cov_app)
    got = sorted((e.action, e.entity_type, slugs.get(e.tenant_id, "?")) for e in events)
    want = sorted((x.action, x.entity_type, x.chain) for x in expected)
    assert got == want, f"{endpoint}: events {got}, expected {want}; changes " + str(
        [(e.action, e.entity_type, sorted(json.loads(e.changes))) for e in events]
    )
    from portal.audit import vocabulary

    with cov_app.app_context():  # each event reads in the viewer by its registered labels
        unregistered = {
            (e.action, e.entity_type)
            for e in events
            if vocabulary.action(e.action) is None or vocabulary.record_type(e.entity_type) is None
        }
    assert not unregistered, (
        f"{endpoint}: register in portal/<domain>/audit_actions.py: {unregistered}"
    )
    for x in expected:
        ev = next(
            e
            for e in events
            if (e.action, e.entity_type, slugs.get(e.tenant_id))
            == (x.action, x.entity_type, x.chain)
        )
        if x.actor is not None:
            assert ev.actor_name == x.actor, (endpoint, x, ev.actor_name)
        else:
            assert ev.actor_name not in ("anonymous", "system"), (endpoint, x, ev.actor_name)
            assert ev.ip and ev.request_id, (endpoint, x)
        if x.entity_id is not None:
            assert ev.entity_id == x.entity_id, (endpoint, x, ev.entity_id)
        if x.changed is not None:
            changes = json.loads(ev.changes)
            assert set(changes) == x.changed, (endpoint, x.action, set(changes))
            for name, diff in changes.items():
                assert "before" in diff and "after" in diff, (endpoint, name, diff)
                assert diff["before"] != diff["after"] or diff["before"] == "***", (name, diff)


def test_no_secret_from_the_exercised_routes_is_in_the_trail(cov_app, databases) -> None:  # type: ignore[no-untyped-def]
    """Runs after the route cases (module order): tokens and temporary passwords they showed."""
    if not SECRETS:
        pytest.skip("needs the route cases of this module to run first")
    engine = sa.create_engine(databases.owner_url(cov_app.config["SQLALCHEMY_DATABASE_URI"]))
    with engine.connect() as conn:
        text = "\n".join(
            "|".join(str(v) for v in row)
            for row in conn.execute(sa.text("SELECT * FROM audit_events"))
        )
    engine.dispose()
    for secret in [*SECRETS, DEMO_PASSWORD, "Coverage-pass-2026!"]:
        assert secret not in text, secret[:10]


@pytest.mark.parametrize("name", model_names())
def test_model_changes_leave_exactly_the_expected_events(cov_app, name) -> None:  # type: ignore[no-untyped-def]
    """Insert, update one plain field, delete: one event each, with the exact values."""
    from portal.audit import trail
    from portal.audit.trail import entity_id_of, field_value
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with cov_app.app_context():
        ctx = Ctx(db.session)
        cls = ctx.model(name)
        if not trail.is_audited(cls):
            assert name in NOT_AUDITED, (
                f"{name} sets __audit__ = False: add it to NOT_AUDITED in "
                "tests/audit/test_coverage.py with the reason it must not be audited"
            )
            return
        assert name not in NOT_AUDITED, f"{name} is audited: remove it from NOT_AUDITED"
        mapper = sa.inspect(cls)
        columns = [a.key for a in mapper.column_attrs]
        version = mapper.version_id_col.key if mapper.version_id_col is not None else None
        tenant_owned = "tenant_id" in mapper.columns and name != "Tenant"
        kaifeng = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        zone = scope.tenant_scope(kaifeng) if tenant_owned else scope.cross_tenant("coverage")
        with zone, trail.acting_as(trail.system_actor("audit-coverage")):
            # 1. insert
            if name in MODEL_FACTORIES:
                obj = MODEL_FACTORIES[name](ctx)
            else:
                src = db.session.execute(sa.select(cls).limit(1)).unique().scalars().first()
                assert src is not None, (
                    f"{name}: the demo data has no row to clone — add a factory to "
                    "MODEL_FACTORIES in tests/audit/test_coverage.py (fn(ctx) -> new unsaved "
                    "instance; ctx.first('Model') gives a demo row, ctx.make('Model') a new one)"
                )
                obj = clone(src)
            db.session.add(obj)
            db.session.flush()
            chain = trail.chain_for(obj)
            entity_id = entity_id_of(obj)
            inserted = {k: getattr(obj, k) for k in columns}
            head = chain_head(chain)
            db.session.commit()
            mine = [
                e
                for e in chain_events(chain, head)
                if (e.entity_type, e.entity_id) == (name, entity_id)
            ]
            assert [e.action for e in mine] == ["create"], f"{name}: {[e.action for e in mine]}"
            ev = mine[0]
            assert ev.actor_name == ACTOR and ev.actor_role == "system"
            assert ev.department_id == trail.department_of(obj), name
            assert json.loads(ev.changes) == as_json(
                {k: {"after": field_value(cls, k, v)} for k, v in inserted.items() if v is not None}
            ), name

            if getattr(cls, "__immutable__", False):  # rows are only ever added
                db.session.delete(obj)
                with pytest.raises(ValueError, match="never changed"):
                    db.session.flush()
                db.session.rollback()
                return

            # 2. update one plain field (models with none skip this step)
            attr = plain_field(mapper)
            old = getattr(obj, attr.key) if attr is not None else None
            new = changed_value(old)
            if attr is not None and new is not None:
                setattr(obj, attr.key, new)
                head = chain_head(chain)
                db.session.commit()
                events = chain_events(chain, head)
                assert [(e.action, e.entity_type, e.entity_id) for e in events] == [
                    ("update", name, entity_id)
                ], name
                changes = json.loads(events[0].changes)
                assert set(changes) - {version} == {attr.key}, (name, changes)
                assert changes[attr.key] == as_json(
                    {
                        "before": field_value(cls, attr.key, old),
                        "after": field_value(cls, attr.key, new),
                    }
                ), name

            # 3. delete
            loaded = {k: getattr(obj, k) for k in columns}
            head = chain_head(chain)
            db.session.delete(obj)
            db.session.commit()
            events = chain_events(chain, head)
            assert [(e.action, e.entity_type, e.entity_id) for e in events] == [
                ("delete", name, entity_id)
            ], name
            assert json.loads(events[0].changes) == as_json(
                {k: {"before": field_value(cls, k, v)} for k, v in loaded.items() if v is not None}
            ), name
        db.session.remove()
