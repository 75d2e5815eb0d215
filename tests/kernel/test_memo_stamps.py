"""The worker processes of one server share stamps (`portal.kernel.memo`): a write that
one worker commits drops the answers the others kept of what it wrote, at once, and
nothing else. Another worker is a forked child here, as gunicorn forks its workers."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping

import pytest
import sqlalchemy as sa

from portal.kernel import memo

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd (Linux)")


@pytest.fixture()
def shared_stamps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stamp table as deploy/gunicorn.conf.py makes it, opened as a worker opens it."""
    fd = os.memfd_create(memo._MEMFD_NAME, 0)
    os.ftruncate(fd, memo._SLOTS * memo._STAMP.size)
    monkeypatch.setenv("PORTAL_MEMO_FD", str(fd))
    table = memo._shared_stamps()
    assert table is not None
    monkeypatch.setattr(memo, "_stamps", table)
    memo.forget()
    yield
    memo.forget()
    table.close()
    os.close(fd)


def _another_worker_commits(writes: Mapping[object, set[str]]) -> None:
    """`writes` committed in another worker: its own kept answers are dropped (a copy of
    ours, in the child) and it stamps the shared table, which it opens itself."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            memo._stamps = memo._shared_stamps()  # type: ignore[assignment]
            if memo._stamps is not None:
                memo.forget(writes)
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _two_districts(tables: set[str]) -> tuple[uuid.UUID, uuid.UUID]:
    """Two district ids whose stamps share no slot with each other's, the platform's or
    those of writes of no known district, for these tables (a shared slot only drops an
    answer early, which would make the assertions below depend on chance)."""
    tables = {*tables, memo.ANY, memo._WROTE, *memo._every_answer_reads}
    while True:
        districts = (uuid.uuid4(), uuid.uuid4(), None, memo._EVERY)
        slots = [memo._offset(d, t) for d in districts for t in tables]
        if len(set(slots)) == len(slots):
            return districts[0], districts[1]


def test_another_workers_write_drops_what_it_touched_at_once(fresh_app, shared_stamps) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    with fresh_app.app_context():
        a, b = _two_districts({"messages", "duties"})
        asked: list[str] = []

        def keep(name: str, tenant_id: object, table: str) -> None:
            def compute() -> str:
                asked.append(name)
                db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608 - a fixed name
                return name

            memo.remembered(("stamps test", name), compute, tenant_id)

        def ask_all() -> list[str]:
            asked.clear()
            keep("a messages", a, "messages")
            keep("a duties", a, "duties")
            keep("b messages", b, "messages")
            keep("platform messages", None, "messages")
            db.session.rollback()
            return list(asked)

        assert ask_all() == ["a messages", "a duties", "b messages", "platform messages"]
        assert ask_all() == []  # kept

        _another_worker_commits({a: {"messages"}})
        assert ask_all() == ["a messages", "platform messages"]

        _another_worker_commits({b: {"duties"}})  # nothing here read B's duties but the platform
        assert ask_all() == []

        _another_worker_commits({memo._EVERY: {"duties"}})  # district not known
        assert ask_all() == ["a duties"]

        _another_worker_commits({a: {memo.ANY}})  # a table not mapped: all of A's
        assert ask_all() == ["a messages", "a duties", "platform messages"]


def test_an_answer_another_workers_write_overtook_is_not_kept(fresh_app, shared_stamps) -> None:  # type: ignore[no-untyped-def]
    """A write committed while the answer was being computed may have come after what
    the computation read: the answer is given, not kept."""
    from portal.extensions import db

    with fresh_app.app_context():
        a = uuid.uuid4()
        calls = 0

        def compute() -> int:
            nonlocal calls
            calls += 1
            db.session.execute(sa.text("SELECT count(*) FROM messages")).scalar()
            if calls == 1:
                _another_worker_commits({a: {"duty_entries"}})
            return calls

        assert memo.remembered(("overtaken",), compute, a) == 1
        assert memo.remembered(("overtaken",), compute, a) == 2  # not kept: asked again
        assert memo.remembered(("overtaken",), compute, a) == 2  # kept now
        db.session.rollback()


def test_a_descriptor_that_is_not_the_stamp_table_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process spawned by a worker inherits PORTAL_MEMO_FD but not the descriptor: the
    number may name another file, which must never be mapped and written."""
    with tempfile.TemporaryFile() as other:
        other.truncate(memo._SLOTS * memo._STAMP.size)
        monkeypatch.setenv("PORTAL_MEMO_FD", str(other.fileno()))
        assert memo._shared_stamps() is None
    monkeypatch.setenv("PORTAL_MEMO_FD", "not a number")
    assert memo._shared_stamps() is None
    monkeypatch.setenv("PORTAL_MEMO_FD", "999999")  # closed
    assert memo._shared_stamps() is None
