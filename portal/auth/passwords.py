"""Password hashing (argon2id at OWASP's setting, through a bounded gate) and the policy.

Parameters: OWASP Password Storage Cheat Sheet's first argon2id option — m = 19 MiB
(19,456 KiB), t = 2 iterations, p = 1 lane — about 25–40 ms of one core here. Hashes
made with other parameters (argon2-cffi's old defaults) still verify, and are re-made
with these at the holder's next sign-in (`needs_rehash`).

Hashing is the one CPU- and memory-heavy step of a request. Every hash and verification
passes a bounded gate per worker process: `PASSWORD_HASH_CONCURRENCY` (default 1) hash
at a time, and at most `PASSWORD_HASH_QUEUE` (default 1) more waiting for their turn.
A waiting sign-in still holds one of the worker's threads, so the queue is kept short:
a sign-in that finds it full is answered at once with 503 and `Retry-After` ("many
people are signing in; try again in a moment") instead of taking the threads that
other users' page views need. One that waits longer than `PASSWORD_HASH_WAIT_SECONDS`
is answered the same way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.kernel.rules import RuleError

T = TypeVar("T")

# OWASP: argon2id, m=19 MiB, t=2, p=1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

# PORTAL_TEST_FAST_HASH=1 (tests only) trades hashing cost for speed.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get("PORTAL_TEST_FAST_HASH") == "1"
    else PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)
)
MIN_LENGTH = 10
MIN_STRENGTH = 3  # zxcvbn score 0–4: 3 = "safely unguessable" for an online attack
HISTORY_SIZE = 5  # earlier passwords a user may not take again

DEFAULT_CONCURRENCY = 1
DEFAULT_QUEUE = 1
DEFAULT_WAIT_SECONDS = 10.0

_gate: threading.BoundedSemaphore | None = None
_gate_size = 0
_gate_lock = threading.Lock()
_waiting = 0  # threads of this process waiting for a hashing slot


class HashingBusy(RuleError):
    """Every hashing slot stayed busy for too long (a sign-in storm): try again shortly."""

    code = "busy"
    status = 503


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name) if has_app_context() else None
    return float(value if value not in (None, "") else default)


def gate() -> threading.BoundedSemaphore:
    """The process's hashing semaphore, sized from the config the first time it is used."""
    global _gate, _gate_size
    size = max(1, int(_setting("PASSWORD_HASH_CONCURRENCY", DEFAULT_CONCURRENCY)))
    if _gate is None or size != _gate_size:
        with _gate_lock:
            if _gate is None or size != _gate_size:
                _gate, _gate_size = threading.BoundedSemaphore(size), size
    return _gate


def _busy() -> HashingBusy:
    return HashingBusy(_l("Many people are signing in at this moment; please try again."))


def _gated(work: Callable[[], T]) -> T:
    global _waiting
    slot = gate()
    if not slot.acquire(blocking=False):
        with _gate_lock:
            if _waiting >= int(_setting("PASSWORD_HASH_QUEUE", DEFAULT_QUEUE)):
                raise _busy()
            _waiting += 1
        try:
            got = slot.acquire(timeout=_setting("PASSWORD_HASH_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))
        finally:
            with _gate_lock:
                _waiting -= 1
        if not got:
            raise _busy()
    try:
        return work()
    finally:
        slot.release()


def hash_password(password: str) -> str:
    return _gated(lambda: _hasher.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return _gated(check)


def needs_rehash(password_hash: str) -> bool:
    """Was this hash made with other parameters than today's? (cheap: no hashing)"""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verifying against this keeps the timing of unknown usernames like known ones.
DUMMY_HASH = _hasher.hash("not-a-real-password")


def password_problems(password: str, username: str = "", hints: Iterable[str] = ()) -> list[str]:
    """What is wrong with a new password (empty: it may be used).

    Length and mix, the username, and zxcvbn's estimate of how guessable it is — which
    refuses the common ones ("password123", keyboard walks, names with a year)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH)))
    if password.isdigit() or password.isalpha():
        problems.append(str(_l("The password must mix letters with digits or symbols.")))
    if username and username.lower() in password.lower():
        problems.append(str(_l("The password must not contain the username.")))
    if not problems and _strength(password, [username, *hints]) < MIN_STRENGTH:
        problems.append(
            str(
                _l(
                    "This password is too common or too easy to guess. Add another word or "
                    "two, or make it longer."
                )
            )
        )
    return problems


def _strength(password: str, hints: list[str]) -> int:
    from zxcvbn import zxcvbn

    # zxcvbn's time grows with the length; the first 100 characters decide anyway.
    return int(zxcvbn(password[:100], user_inputs=[h for h in hints if h])["score"])


def used_before(password: str, hashes: Iterable[str]) -> bool:
    """Is `password` one of these (current and earlier) hashes?"""
    return any(verify_password(h, password) for h in hashes if h)
