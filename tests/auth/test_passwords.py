"""Password hashing: OWASP's argon2id parameters and the bounded gate (issue 20)."""

from __future__ import annotations

import threading
import time

import pytest


def test_argon2_parameters_are_owasps() -> None:
    from argon2 import PasswordHasher

    from portal.auth import passwords

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


def test_a_burst_queues_briefly_then_is_told_to_come_back() -> None:
    """One hash at a time per process, one more waiting; the next is refused at once
    (503) instead of holding a thread that other users' pages need."""
    from portal.auth import passwords

    slot = passwords.gate()
    assert slot.acquire(blocking=False)  # a sign-in is hashing
    waited: list[bool] = []
    waiter = threading.Thread(
        target=lambda: waited.append(passwords.verify_password(passwords.DUMMY_HASH, "not-it"))
    )
    waiter.start()
    deadline = time.time() + 5
    while passwords._waiting == 0 and time.time() < deadline:
        time.sleep(0.01)
    assert passwords._waiting == 1  # the second one queues
    started = time.perf_counter()
    with pytest.raises(passwords.HashingBusy) as busy:
        passwords.hash_password("Third-pass-2026!")
    assert time.perf_counter() - started < 0.5 and busy.value.status == 503
    slot.release()
    waiter.join(timeout=5)
    assert waited == [False] and passwords._waiting == 0
    assert passwords.verify_password(passwords.hash_password("Fourth-2026!x"), "Fourth-2026!x")


def test_a_full_queue_answers_the_sign_in_page_with_503(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth import passwords
    from tests.conftest import Browser

    fresh_app.config["PASSWORD_HASH_QUEUE"] = 0
    slot = passwords.gate()
    assert slot.acquire(blocking=False)
    try:
        r = Browser(fresh_app).login("kaifeng-lead")
    finally:
        slot.release()
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert "请稍后再试" in r.get_data(as_text=True)
    assert Browser(fresh_app).login("kaifeng-lead").status_code == 302
