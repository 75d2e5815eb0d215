"""A pooled PostgreSQL connection is checked at checkout without a round trip
(`portal.db.configure_postgresql`), and one the server has closed is replaced.

What `pool_pre_ping` did with a `SELECT 1` per request: the server that goes away sends its
goodbye and closes the socket first, so a connection with nothing to read is still open.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL connections only")


@pytest.fixture
def owner_url(app, databases) -> str:  # type: ignore[no-untyped-def]
    return databases.owner_url(app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture
def engine(owner_url):  # type: ignore[no-untyped-def]
    """An engine set up as the app's (one pooled connection), on the owner's role."""
    from portal.db import configure_postgresql

    engine = sa.create_engine(owner_url, pool_size=1, max_overflow=0)
    configure_postgresql(engine)
    yield engine
    engine.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record each real ping the checkout sends."""
    calls: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn):  # type: ignore[no-untyped-def]
        calls.append(dbapi_conn)
        return ping(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return calls


def test_an_idle_live_connection_is_taken_without_a_round_trip(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _backend_pid(engine)
    pings = _pings(engine, monkeypatch)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert _backend_pid(engine) == first  # the same pooled connection
    assert pings == []
    assert statements == ["SELECT pg_backend_pid()"]


def test_a_connection_the_server_closed_is_replaced(owner_url, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _backend_pid(engine)
    killer = sa.create_engine(owner_url)
    with killer.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({first})").scalar_one()
        for _ in range(100):  # until the backend has gone (5 s at most)
            gone = conn.exec_driver_sql(
                f"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = {first}"
            ).scalar_one()
            if gone:
                break
            time.sleep(0.05)
    killer.dispose()
    time.sleep(0.2)  # its goodbye reaches the socket
    pings = _pings(engine, monkeypatch)
    # The first use after the termination works, on a new backend.
    assert _backend_pid(engine) != first
    assert len(pings) == 1  # the goodbye made the socket readable: one real ping, failed


def test_a_notification_on_a_live_connection_does_not_drop_it(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.exec_driver_sql("LISTEN portal_pool_check")
        conn.commit()
    other_engine = sa.create_engine(engine.url)
    with other_engine.connect() as other:
        other.exec_driver_sql("NOTIFY portal_pool_check")
        other.commit()
    other_engine.dispose()
    time.sleep(0.2)  # the notification reaches the idle connection's socket
    pings = _pings(engine, monkeypatch)
    assert _backend_pid(engine) == first  # readable, pinged, kept
    assert len(pings) == 1
