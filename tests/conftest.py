"""Test databases: the same suite runs on SQLite and on PostgreSQL (PORTAL_TEST_BACKEND).

On PostgreSQL each database is made by the migrations as the owner (postgres) and the
app connects as the non-owner `portal_app` role, so row-level security really applies.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import portal.auth.passwords as passwords

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("PORTAL_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
APP_ROLE = os.environ.get("PORTAL_APP_DB_ROLE", "portal_app")
DEMO_PASSWORD = "Demo-2026-pass"
#: One demo login of every district role in 开封, and of each kind of department officer
#: whose pages differ (卫健 runs the register and the benefit cycles, 财政 approves and pays
#: them, 民政 reports on duties).
KAIFENG_USERS = (
    "kaifeng-lead",
    "kaifeng-auditor",
    "kaifeng-civil-affairs",
    "kaifeng-health",
    "kaifeng-finance",
    "kaifeng-town1",
    "kaifeng-village1",
)
# A fixed personal-information key (portal/register/pii.py) for the app and the demo
# subprocesses alike; production refuses to start without one.
os.environ.setdefault("PORTAL_PII_KEY", "k1:" + "dGVzdC1vbmx5LXBpaS1rZXktMzItYnl0ZXMtbG9uZyE=")

# Fast hashing in tests; production keeps argon2's defaults.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords.DUMMY_HASH = passwords._hasher.hash("x")


def pytest_report_header(config: pytest.Config) -> str:
    return f"portal test backend: {BACKEND}"


class Databases:
    """Makes fresh databases (migrated, optionally with demo data) for the chosen backend."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []
        self._templates: dict[bool, str] = {}

    def _admin(self) -> sa.Engine:
        return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def _migrate(self, owner_url: str, app_url: str, demo: bool) -> None:
        from bench.dbsetup import migrate

        migrate(app_url, owner_url, demo, secret="test", fast_hash=True)

    def new(self, demo: bool = True) -> str:
        """Returns the app's database URL."""
        name = f"t{uuid.uuid4().hex[:12]}"
        if BACKEND == "sqlite":
            template = self._templates.get(demo)
            path = self.tmp / f"{name}.sqlite3"
            if template is None:
                url = f"sqlite:///{path}"
                self._migrate(url, url, demo)
                self._templates[demo] = str(path)
                copy = self.tmp / f"{name}-copy.sqlite3"
                copy.write_bytes(path.read_bytes())
                return f"sqlite:///{copy}"
            path.write_bytes(Path(template).read_bytes())
            return f"sqlite:///{path}"
        admin = self._admin()
        base = sa.engine.make_url(PG_ADMIN_URL)
        template = self._templates.get(demo)
        with admin.connect() as c:
            if template is None:
                template = f"portal_tmpl_{uuid.uuid4().hex[:8]}_{int(demo)}"
                c.exec_driver_sql(f'CREATE DATABASE "{template}"')
                self.created.append(template)
                owner = base.set(database=template).render_as_string(hide_password=False)
                app_url = base.set(
                    database=template, username=APP_ROLE, password=None
                ).render_as_string(hide_password=False)
                self._migrate(owner, app_url, demo)
                self._templates[demo] = template
            c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.created.append(name)
        admin.dispose()
        return base.set(database=name, username=APP_ROLE, password=None).render_as_string(
            hide_password=False
        )

    def owner_url(self, app_url: str) -> str:
        """Same database as the schema owner (for tamper tests that act as a DBA)."""
        if BACKEND == "sqlite":
            return app_url
        url = sa.engine.make_url(app_url)
        base = sa.engine.make_url(PG_ADMIN_URL)
        return url.set(username=base.username, password=base.password).render_as_string(
            hide_password=False
        )

    def drop_all(self) -> None:
        if BACKEND != "postgresql" and BACKEND != "postgres":
            return
        admin = self._admin()
        with admin.connect() as c:
            for name in reversed(self.created):
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


def make_app(url: str, **overrides: object):  # type: ignore[no-untyped-def]
    from portal import create_app

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test",
        "RATELIMIT_ENABLED": False,
        "AUDIT_KEY": "test-audit-key",
    }
    config.update(overrides)
    return create_app(config)


@contextlib.contextmanager
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL statements the app runs inside the block (for bounded-query-count tests)."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listener(conn, cursor, statement, *a) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


@contextlib.contextmanager
def demo_app(databases: Databases, **overrides: object):  # type: ignore[no-untyped-def]
    """An app on a demo database of its own; its connections are closed afterwards (a
    fixture's scope decides how long it lives: session, module or one test)."""
    application = make_app(databases.new(demo=True), **overrides)
    try:
        yield application
    finally:
        from portal.extensions import db

        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(databases: Databases):  # type: ignore[no-untyped-def]
    """One demo database shared by read-mostly tests."""
    with demo_app(databases) as application:
        yield application


@pytest.fixture
def fresh_app(databases: Databases):  # type: ignore[no-untyped-def]
    """A demo database of its own, for tests that change or count things."""
    with demo_app(databases) as application:
        application.config["DATABASE_OWNER_URL"] = databases.owner_url(
            application.config["SQLALCHEMY_DATABASE_URI"]
        )
        yield application


class Browser:
    """A test client that signs in and carries the CSRF token of the last page."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.client = app.test_client()

    def csrf(self, path: str = "/login") -> str:
        import re

        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert match, f"no csrf token on {path}"
        return match.group(1)

    def login(self, username: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
        token = self.csrf("/login")
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )

    def get(self, *a, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(*a, **kw)

    def post(self, path: str, data: dict | None = None, csrf_from: str | None = None, **kw):  # type: ignore[no-untyped-def]
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(csrf_from or path))
        return self.client.post(path, data=data, **kw)


@pytest.fixture
def browser(app):  # type: ignore[no-untyped-def]
    return Browser(app)


@pytest.fixture
def login_as(app):  # type: ignore[no-untyped-def]
    def _login(username: str, application=None) -> Browser:  # type: ignore[no-untyped-def]
        b = Browser(application or app)
        r = b.login(username)
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return b

    return _login


def new_api_token(b: Browser) -> str:
    """A personal access token created through the account page by the signed-in user."""
    import re

    page = b.post("/account/tokens", {"name": "script"}).get_data(as_text=True)
    match = re.search(r'id="new-token">([^<]+)<', page)
    assert match, page[:2000]
    return match.group(1)


def count_of(model: type, *where: object) -> int:
    """How many rows of `model` match `where` (in the app context and scope around it)."""
    from portal.extensions import db

    return db.session.execute(
        sa.select(sa.func.count()).select_from(model).where(*where)
    ).scalar_one()
