"""Password hashing: OWASP's argon2id parameters and the machine-wide gate (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel

from portal.auth import passwords
from portal.kernel import lowered

ROOT = Path(__file__).resolve().parents[2]

# Another process of the deployment (another gunicorn worker): it takes a hashing slot
# through the same code, says so, and keeps it until told (a line on stdin) to let go.
HOLDER = """
import sys
from flask import Flask
from portal.auth import passwords
app = Flask("holder")
app.config["PASSWORD_HASH_LOCK_DIR"] = sys.argv[1]
with app.app_context(), passwords.hashing_slot():
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@contextmanager
def slot_held_by_another_process(lock_dir: Path) -> Iterator[subprocess.Popen]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=10)


def release(holder: subprocess.Popen) -> None:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"


def gate_app(lock_dir: Path, **config: object) -> Flask:
    """A bare app with the gate's settings (and Babel, which the refusal's message needs)."""
    app = Flask("gate-test")
    app.config.update(PASSWORD_HASH_LOCK_DIR=str(lock_dir), PASSWORD_HASH_CONCURRENCY=1, **config)
    Babel(app)
    return app


def test_argon2_parameters_are_owasps() -> None:
    from argon2 import PasswordHasher

    assert (passwords.MEMORY_KIB, passwords.TIME_COST, passwords.PARALLELISM) == (19456, 2, 1)
    production = PasswordHasher(
        time_cost=passwords.TIME_COST,
        memory_cost=passwords.MEMORY_KIB,
        parallelism=passwords.PARALLELISM,
    )
    made = production.hash("Some-pass-2026!")
    assert made.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # a hash made with other parameters is re-made at the next sign-in
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash("x")
    saved = passwords._hasher
    passwords._hasher = production
    try:
        assert passwords.needs_rehash(old) and not passwords.needs_rehash(made)
    finally:
        passwords._hasher = saved


def test_the_default_leaves_page_views_a_core() -> None:
    with Flask("defaults").app_context():
        assert passwords.concurrency() == max(1, passwords.cores() - 1)


def test_another_process_holding_the_slot_makes_a_sign_in_wait_or_refused(
    tmp_path: Path,
) -> None:
    """The gate is the machine's, not the worker's: a slot held by another process is
    waited for (briefly), or refused at once when this process may not queue."""
    with slot_held_by_another_process(tmp_path) as holder:
        with gate_app(tmp_path, PASSWORD_HASH_QUEUE=0).app_context():
            started = time.perf_counter()
            with pytest.raises(passwords.HashingBusy) as busy:
                passwords.hash_password("First-pass-2026!")
            assert time.perf_counter() - started < 0.5 and busy.value.status == 503

        patient = gate_app(tmp_path, PASSWORD_HASH_QUEUE=1, PASSWORD_HASH_WAIT_SECONDS=0.3)
        with patient.app_context(), pytest.raises(passwords.HashingBusy):  # waited, refused
            passwords.hash_password("Second-pass-2026!")

        app = gate_app(tmp_path, PASSWORD_HASH_QUEUE=1, PASSWORD_HASH_WAIT_SECONDS=10)
        made: list[str] = []

        def sign_in() -> None:
            with app.app_context():
                made.append(passwords.hash_password("Third-pass-2026!"))

        waiter = threading.Thread(target=sign_in)
        waiter.start()
        time.sleep(0.4)
        assert waiter.is_alive() and made == []  # queued behind the other process
        release(holder)
        waiter.join(timeout=10)
    assert len(made) == 1 and passwords.verify_password(made[0], "Third-pass-2026!")


def test_a_burst_queues_briefly_then_is_told_to_come_back(tmp_path: Path) -> None:
    """Two threads of this process may be busy with passwords (QUEUE=2): one hashing, one
    waiting; the next is refused at once (503) instead of holding a thread that other
    users' pages need."""
    app = gate_app(tmp_path, PASSWORD_HASH_QUEUE=2)
    holding, let_go = threading.Event(), threading.Event()

    def hashing() -> None:  # a sign-in whose hash takes a while
        with app.app_context(), passwords.hashing_slot():
            holding.set()
            let_go.wait(10)

    holder = threading.Thread(target=hashing)
    holder.start()
    assert holding.wait(5)
    app.config["PASSWORD_HASH_QUEUE"] = 1  # the default: one thread of a worker at most
    with app.app_context(), pytest.raises(passwords.HashingBusy):
        passwords.hash_password("Other-pass-2026!")  # the worker's other thread is the pages'
    app.config["PASSWORD_HASH_QUEUE"] = 2
    waited: list[bool] = []

    def second() -> None:
        with app.app_context():
            waited.append(passwords.verify_password(passwords.DUMMY_HASH, "not-it"))

    waiter = threading.Thread(target=second)
    waiter.start()
    with app.app_context():
        deadline = time.time() + 5
        while time.time() < deadline:  # until the second one is in the queue
            try:
                passwords.refuse_if_queue_full()
            except passwords.HashingBusy:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the second sign-in never queued")
        started = time.perf_counter()
        with pytest.raises(passwords.HashingBusy) as busy:
            passwords.hash_password("Third-pass-2026!")
        assert time.perf_counter() - started < 0.5 and busy.value.status == 503
        let_go.set()
        holder.join(timeout=5)
        waiter.join(timeout=5)
        assert waited == [False]
        passwords.refuse_if_queue_full()  # the queue is empty again
        assert passwords.verify_password(passwords.hash_password("Fourth-2026!x"), "Fourth-2026!x")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_hashes_run_at_a_lower_cpu_priority() -> None:
    """Page views get the cores first: the hash runs in a helper process at SCHED_IDLE
    (the default) or a higher nice value; the request's own thread keeps its priority."""
    policy, mine = lowered.priority()
    app = Flask("nice")
    with app.app_context():
        got = passwords.at_hashing_priority(lowered.priority)
        assert got == (os.SCHED_IDLE, min(19, mine + 19))
        assert lowered.priority() == (policy, mine)
        app.config.update(PASSWORD_HASH_SCHED_IDLE=False, PASSWORD_HASH_NICE=10)
        assert passwords.at_hashing_priority(lowered.priority) == (policy, min(19, mine + 10))
        assert lowered.priority() == (policy, mine)
        app.config["PASSWORD_HASH_NICE"] = 0
        assert passwords.at_hashing_priority(lowered.priority) == (policy, mine)
        assert passwords.verify_password(
            passwords.hash_password("Nice-pass-2026"), "Nice-pass-2026"
        )
        assert not passwords.verify_password(passwords.hash_password("Nice-pass-2026"), "other")


def _spin(seconds: float, started: Any = None) -> None:
    if started is not None:
        started.release()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _priority_after_cpu(seconds: float, lowered_seconds: float | None = None) -> tuple[int, int]:
    """`seconds` (`lowered_seconds` at SCHED_IDLE) of this thread's own CPU in Python
    (holding the interpreter lock, unlike argon2's C), then the priority it ran at. (A
    wall-clock spin would be over for a thread that merely got scheduled once, however
    little CPU it was given.)"""
    if lowered_seconds is not None and lowered.priority()[0] == os.SCHED_IDLE:
        seconds = lowered_seconds
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return lowered.priority()


@contextmanager
def _every_core_busy(seconds: float) -> Iterator[None]:
    """An overload: every core spun at normal priority (by forks of this process)."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    started = fork.Semaphore(0)
    busy = [
        fork.Process(target=_spin, args=(seconds, started)) for _ in range(passwords.cores() + 1)
    ]
    for proc in busy:
        proc.start()
    try:
        # every spinner running (forking takes a while on a loaded machine), then a
        # moment for the scheduler to see them
        assert all(started.acquire(timeout=30) for _ in busy)
        time.sleep(0.2)
        yield
    finally:
        for proc in busy:
            proc.terminate()
            proc.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_a_hash_that_finds_no_idle_cpu_is_made_at_the_workers_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An overload (every core busy at normal priority) leaves a SCHED_IDLE helper nothing
    (measured: 50 ms of CPU took it 19.5 s beside three spinning processes on two cores):
    after PASSWORD_HASH_IDLE_SECONDS the hash is made in the request's own thread instead
    of waiting as long as the overload lasts, and so are the next ones for
    OVERLOAD_SECONDS. The lowered copy here needs 2 s of CPU, more than the wait even on
    a core of its own (how much idle time the rest of a CI run leaves is not this test's
    to decide); in the request's thread, 50 ms."""
    monkeypatch.setattr(passwords, "_overloaded_until", 0.0)  # (put back afterwards)
    mine = lowered.priority()
    app = Flask("overload")
    with app.app_context():
        app.config["PASSWORD_HASH_IDLE_SECONDS"] = 60  # as long as the lowered copy takes
        assert passwords.at_hashing_priority(_priority_after_cpu, 0.05)[0] == os.SCHED_IDLE
        app.config["PASSWORD_HASH_IDLE_SECONDS"] = 0.3
        started = time.monotonic()
        assert passwords.at_hashing_priority(_priority_after_cpu, 0.05, 2.0) == mine
        assert time.monotonic() - started < 4.0
        # the overload is remembered: the next hashes skip the lowered helper
        assert passwords._overloaded_until > time.monotonic()
        started = time.monotonic()
        assert passwords.at_hashing_priority(_priority_after_cpu, 0.05) == mine
        assert time.monotonic() - started < 0.3  # no wait for the helper this time


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_a_starved_hash_does_not_stall_the_workers_other_threads() -> None:
    """The lowered work runs in a helper process, not a thread of the worker: a starved
    idle-priority thread that holds the interpreter lock (or takes it back after
    argon2's C) makes every other thread of the worker wait as long as the overload lasts
    — 0.48 s for one 1 ms sleep, measured with a lowered thread."""
    app = Flask("stall")
    app.config["PASSWORD_HASH_IDLE_SECONDS"] = 60
    with app.app_context():
        passwords.at_hashing_priority(_priority_after_cpu, 0.0)  # the helper is up
        results: list[tuple[int, int]] = []
        with _every_core_busy(6.0):

            def sign_in() -> None:
                with app.app_context():
                    results.append(passwords.at_hashing_priority(_priority_after_cpu, 0.5))

            starved = threading.Thread(target=sign_in)
            starved.start()
            time.sleep(0.2)
            worst = 0.0
            for _ in range(40):  # a page view's worth of short waits
                before = time.monotonic()
                time.sleep(0.001)
                worst = max(worst, time.monotonic() - before)
            assert worst < 0.1, f"a 1 ms sleep took {worst:.3f} s"
            assert not results  # the lowered work is still waiting for idle time
        starved.join(timeout=60)
        assert results and results[0][0] == os.SCHED_IDLE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_a_helper_that_dies_is_replaced() -> None:
    """A helper killed (for memory, say) breaks its pool: that hash is made in the
    request's thread, and the next one in a new helper."""
    import signal

    app = Flask("helper")
    with app.app_context():
        helper = passwords.at_hashing_priority(os.getpid)
        assert helper != os.getpid()
        os.kill(helper, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{helper}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # (reaped by the pool's manager thread)
        assert passwords.at_hashing_priority(os.getpid) == os.getpid()
        assert passwords.at_hashing_priority(os.getpid) not in (helper, os.getpid())
        assert passwords.verify_password(
            passwords.hash_password("After-kill-2026"), "After-kill-2026"
        )


# Run as an ordinary user (the deployment's): once lowered, a thread cannot raise its
# priority again — which is why the hashing helpers are kept low for life instead of a
# request thread being lowered for the hash and put back.
UNPRIVILEGED = """
import os, resource, threading
if os.geteuid() == 0:
    resource.setrlimit(resource.RLIMIT_NICE, (0, 0))
    os.setgid(65534)
    os.setuid(65534)
me = threading.get_native_id()
os.setpriority(os.PRIO_PROCESS, me, 5)
try:
    os.setpriority(os.PRIO_PROCESS, me, 0)
    print("nice raised")
except PermissionError:
    print("nice stays")
os.sched_setscheduler(me, os.SCHED_IDLE, os.sched_param(0))
try:
    os.sched_setscheduler(me, os.SCHED_OTHER, os.sched_param(0))
    print("idle left")
except PermissionError:
    print("idle stays")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread policy is Linux's")
def test_a_lowered_thread_cannot_be_raised_again_without_privilege() -> None:
    import resource

    if os.geteuid() != 0 and resource.getrlimit(resource.RLIMIT_NICE)[0] > 0:
        pytest.skip("this user may raise priorities (RLIMIT_NICE)")
    out = subprocess.run(
        [sys.executable, "-c", UNPRIVILEGED], capture_output=True, text=True, timeout=30
    )
    assert out.stdout.split() == ["nice", "stays", "idle", "stays"], out.stderr


def test_a_refusal_says_when_to_come_back_spread_over_a_range(tmp_path: Path) -> None:
    app = gate_app(tmp_path)
    with app.app_context():
        seen = {passwords.retry_after() for _ in range(200)}
        assert seen == {2, 3, 4}  # the default: 2 s to twice that, so a crowd spreads out
        app.config["PASSWORD_HASH_RETRY_AFTER"] = 5
        assert {passwords.busy().retry_after for _ in range(50)} <= set(range(5, 11))


def test_a_refused_sign_in_answers_503_with_retry_after(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Another process hashing, no room to wait: 503, Retry-After, the message in the
    reader's language and the form again with the username kept (never the password);
    the page's script gets the message alone. Once the slot is free the same sign-in
    goes through."""
    from tests.conftest import Browser

    fresh_app.config.update(
        PASSWORD_HASH_LOCK_DIR=str(tmp_path), PASSWORD_HASH_CONCURRENCY=1, PASSWORD_HASH_QUEUE=0
    )
    with slot_held_by_another_process(tmp_path) as holder:
        r = Browser(fresh_app).login("kaifeng-lead")
        assert r.status_code == 503 and r.headers["Retry-After"] in {"2", "3", "4"}
        page = r.get_data(as_text=True)
        assert "登录人数较多，请稍候几秒再试" in page and "用户名已保留" in page
        assert 'value="kaifeng-lead"' in page and "Demo-2026-pass" not in page
        assert 'name="csrf_token"' in page and "data-signin" in page  # sent again as it is
        english = Browser(fresh_app)
        english.client.set_cookie("portal_locale", "en")
        r = english.login("kaifeng-lead")
        assert r.status_code == 503 and "Many people are signing in" in r.get_data(as_text=True)

        script = Browser(fresh_app)
        token = script.csrf()
        r = script.client.post(
            "/login",
            data={"username": "kaifeng-lead", "password": "Demo-2026-pass", "csrf_token": token},
            headers={"X-Portal-Sign-In": "script"},
        )
        assert r.status_code == 503 and r.headers["Retry-After"] in {"2", "3", "4"}
        assert r.mimetype == "text/plain" and r.get_data(as_text=True).startswith("登录人数较多")
        release(holder)
    assert Browser(fresh_app).login("kaifeng-lead").status_code == 302


def test_the_sign_in_page_sends_a_signed_in_browser_on(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Where the page's script lands after signing in: /login sends a signed-in user to a
    safe ?next= (the page they came for) or home, never off the site."""
    from tests.conftest import Browser

    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    r = b.get("/login?next=/t/kaifeng/duties/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/kaifeng/duties/")
    r = b.get("/login?next=https://evil.example/")
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    page = Browser(fresh_app).get("/login").get_data(as_text=True)
    assert "/static/signin.js" in page and "<script>" not in page  # CSP: no inline script


def test_a_full_queue_is_refused_before_any_database_work(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Browser, statements

    fresh_app.config.update(
        PASSWORD_HASH_LOCK_DIR=str(tmp_path),
        PASSWORD_HASH_CONCURRENCY=1,
        PASSWORD_HASH_QUEUE=1,
        PASSWORD_HASH_WAIT_SECONDS=10,
    )
    with slot_held_by_another_process(tmp_path) as holder:
        outcomes: list[int] = []
        queued = threading.Thread(
            target=lambda: outcomes.append(Browser(fresh_app).login("kaifeng-lead").status_code)
        )
        queued.start()
        browser = Browser(fresh_app)
        token = browser.csrf()
        deadline = time.monotonic() + 10  # until the first sign-in waits for the slot
        while not passwords.queue_full() and time.monotonic() < deadline:
            time.sleep(0.02)  # (a fixed pause was too short on a loaded CI machine)
        with statements(fresh_app) as seen:
            r = browser.client.post(
                "/login",
                data={"username": "luoyang-lead", "password": "x" * 12, "csrf_token": token},
            )
        assert r.status_code == 503 and r.headers["Retry-After"] in {"2", "3", "4"}
        assert not [s for s in seen if "login_attempts" in s or "FROM users" in s], seen
        release(holder)
        queued.join(timeout=10)
    assert outcomes == [302]  # the one that waited is signed in, not failed


def test_a_killed_worker_does_not_keep_its_slot(tmp_path: Path) -> None:
    """gunicorn kills a stuck worker (SIGKILL after its timeout): the kernel lets go of
    the slot with the process, so the machine does not lose a slot for good."""
    with slot_held_by_another_process(tmp_path) as holder:
        holder.kill()
        holder.wait(timeout=10)
    with gate_app(tmp_path, PASSWORD_HASH_QUEUE=0).app_context():
        assert passwords.verify_password(
            passwords.hash_password("Fifth-pass-2026!"), "Fifth-pass-2026!"
        )
