"""Password hashing (argon2id at OWASP's setting, through a machine-wide gate) and the policy.

Parameters: OWASP Password Storage Cheat Sheet's first argon2id option — m = 19 MiB
(19,456 KiB), t = 2 iterations, p = 1 lane — about 25–40 ms of one core here. Hashes
made with other parameters (argon2-cffi's old defaults) still verify, and are re-made
with these at the holder's next sign-in (`needs_rehash`).

Hashing is the one CPU- and memory-heavy step of a request, so a burst of sign-ins (the
morning rush) could take every core from other users' page views. Three brakes:

- A gate shared by every worker process of the deployment: at most
  `PASSWORD_HASH_CONCURRENCY` hashes at a time on the machine (default: cores − 1, at
  least 1), so the page views always keep a core. The slots are `flock` locks on files
  in `PASSWORD_HASH_LOCK_DIR` (default `instance/run/`): the kernel releases a slot when
  its process dies, so a killed worker never leaks one, and it works whatever the
  database (SQLite too). A per-machine resource wants a per-machine lock — a PostgreSQL
  advisory lock would serialise the sign-ins of every app server behind one database.
- At most `PASSWORD_HASH_QUEUE` (default 1) threads per worker process are busy with a
  password at a time, hashing or waiting (at most `PASSWORD_HASH_WAIT_SECONDS`) for a
  slot. A waiting sign-in still holds one of the worker's threads, so this is kept
  short: a sign-in that finds it full is answered at once with 503 and `Retry-After`
  ("many people are signing in; try again in a moment"), before any database work,
  instead of taking the threads that other users' page views need. (0: never wait.)
- The hash itself runs in a helper process of each worker (`portal.kernel.lowered`) at
  the machine's lowest CPU priority: `SCHED_IDLE` (`PASSWORD_HASH_SCHED_IDLE`, default
  on, Linux), else `PASSWORD_HASH_NICE` (default 19) nice steps below the worker; 0 and
  off: the worker's own priority, in the request's thread. A process, not a thread of
  the worker: a starved idle-priority thread holding or taking back the interpreter lock
  would stall every thread of the worker. The helper is made low once and stays low (an
  unprivileged process may lower a priority but never raise it again: RLIMIT_NICE is 0
  by default, and leaving SCHED_IDLE needs the same right). A hash then only uses time
  the page views leave; the argon2 parameters, the security setting, are unchanged: a
  sign-in waits a little longer under load, it costs no less. When the page views leave
  no idle time at all (an overload: the lowered hash not done after
  `PASSWORD_HASH_IDLE_SECONDS`, default 0.25 s, some seven hashes' time), it would wait
  as long as the overload lasts and nobody could sign in; it is then made in the
  request's own thread at the worker's priority (argon2-cffi releases the GIL while
  hashing), still within the machine-wide slot, and so are the process's hashes of the
  next `OVERLOAD_SECONDS` (10 s).

A refusal says when to come back (`Retry-After`, `PASSWORD_HASH_RETRY_AFTER` to twice
that, default 2–4 s, spread so that a crowd does not come back at the same instant); the
sign-in page's script (portal/static/signin.js) waits that long and sends the form again
by itself, with what the user typed still in it.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import fcntl
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.kernel import lowered
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

DEFAULT_QUEUE = 1
DEFAULT_WAIT_SECONDS = 10.0
DEFAULT_NICE = 19
DEFAULT_SCHED_IDLE = True
DEFAULT_RETRY_AFTER = 2  # seconds; a refusal says 2–4
DEFAULT_IDLE_SECONDS = 0.25  # a lowered hash not done by then found no idle CPU
OVERLOAD_SECONDS = 10.0  # after such a hash, the next ones skip the lowered helper
SLOT_FILE = "password-hash-slot-{}.lock"
_POLL_SECONDS = (0.001, 0.005)  # first and longest pause between looks at a busy slot

_gate_lock = threading.Lock()
_in_flight = 0  # threads of this process hashing or waiting for a slot
_overloaded_until = 0.0  # (monotonic) till then, hashes are made at the worker's priority


class HashingBusy(RuleError):
    """Every hashing slot stayed busy for too long (a sign-in storm): try again shortly."""

    code = "busy"
    status = 503

    def __init__(self, message: object, retry_after: int = DEFAULT_RETRY_AFTER) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name) if has_app_context() else None
    return float(value if value not in (None, "") else default)


def cores() -> int:
    """The cores this process may run on (a container's or a cgroup's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def concurrency() -> int:
    """Hashes at a time on the machine: the setting, else cores − 1 (at least 1)."""
    return max(1, int(_setting("PASSWORD_HASH_CONCURRENCY", max(1, cores() - 1))))


def lock_dir() -> Path:
    """Where the slot files are: every process that shares the gate must name the same."""
    configured = current_app.config.get("PASSWORD_HASH_LOCK_DIR") if has_app_context() else None
    if configured:
        return Path(configured)
    if has_app_context():
        return Path(current_app.instance_path) / "run"
    return Path(__file__).resolve().parents[2] / "instance" / "run"  # the app's default


class _Slots:
    """One attempt at the machine's slots: this thread's own open file per slot (a lock
    belongs to an open file, so two threads of one process exclude each other too)."""

    def __init__(self, directory: Path, size: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        self.files = [os.open(directory / SLOT_FILE.format(i), flags, 0o600) for i in range(size)]
        self.held: int | None = None

    def try_take(self) -> bool:
        for fd in self.files:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            self.held = fd
            return True
        return False

    def wait(self, seconds: float) -> bool:
        """Look again, briefly pausing between looks, until a slot is free or time is up."""
        deadline = time.monotonic() + seconds
        pause = _POLL_SECONDS[0]
        while not self.try_take():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_SECONDS[1])
        return True

    def close(self) -> None:
        """Closing the files releases the held slot (the kernel does it too if we die)."""
        for fd in self.files:
            os.close(fd)
        self.held = None


def retry_after() -> int:
    """Seconds a refused sign-in is told to wait: the setting to twice it, at random, so a
    crowd refused together does not come back together."""
    base = max(1, int(_setting("PASSWORD_HASH_RETRY_AFTER", DEFAULT_RETRY_AFTER)))
    return random.randint(base, 2 * base)  # noqa: S311 - spreading retries, not a secret


def busy() -> HashingBusy:
    """The refusal of a sign-in storm, with when to come back."""
    return HashingBusy(
        _l("Many people are signing in at this moment; please try again."), retry_after()
    )


def _queue_taken() -> bool:
    """Are `PASSWORD_HASH_QUEUE` threads of this process already hashing or waiting?"""
    return _in_flight >= int(_setting("PASSWORD_HASH_QUEUE", DEFAULT_QUEUE))


def queue_full() -> bool:
    """Has this process already its share of threads busy with passwords? (A shortcut for
    refusing before any other work: the slot itself is taken when the hash is made.)"""
    return bool(_in_flight) and _queue_taken()


def refuse_if_queue_full() -> None:
    """Refuse at once, before any database work, when `queue_full`."""
    if queue_full():
        raise busy()


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the machine's hashing slots, or wait briefly for one; HashingBusy (503)
    when the wait is too long, or when `PASSWORD_HASH_QUEUE` threads of this process are
    already hashing or waiting — so with the deploy's two threads per worker, one is
    always left for page views."""
    global _in_flight
    slots = _Slots(lock_dir(), concurrency())
    try:
        took = slots.try_take()
        with _gate_lock:
            if not took and _queue_taken():
                raise busy()
            _in_flight += 1
        try:
            if not took and not slots.wait(
                _setting("PASSWORD_HASH_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)
            ):
                raise busy()
            yield
        finally:
            with _gate_lock:
                _in_flight -= 1
    finally:
        slots.close()


def at_hashing_priority(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` at the hashing priority: in a lowered helper process, or right here.

    `work` and `args` must be picklable (see `portal.kernel.lowered`: a lowered *thread*
    would stall the whole worker through the interpreter lock)."""
    global _overloaded_until
    nice = int(_setting("PASSWORD_HASH_NICE", DEFAULT_NICE))
    idle = bool(_setting("PASSWORD_HASH_SCHED_IDLE", DEFAULT_SCHED_IDLE))
    if (nice <= 0 and not idle) or not sys.platform.startswith("linux"):
        return work(*args)
    if time.monotonic() < _overloaded_until:
        return work(*args)
    try:
        lowered_work = lowered.helpers(nice, idle, cores()).submit(work, *args)
        return lowered_work.result(
            timeout=_setting("PASSWORD_HASH_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)
        )
    except concurrent.futures.TimeoutError:
        # The page views take every core (an overload, not a morning rush): at the lowest
        # priority the hash would wait for as long as the overload lasts, and nobody could
        # sign in. It is made here, at the worker's priority, still inside the machine's
        # slot (at most `concurrency()` hashes compete with the page views), and so are
        # this process's next ones for a while; the lowered copy, if it started, ends on
        # idle time only.
        lowered_work.cancel()
        _overloaded_until = time.monotonic() + OVERLOAD_SECONDS
        return work(*args)
    except concurrent.futures.process.BrokenProcessPool:
        lowered.discard()  # a helper died (killed for memory?): new ones next time
        return work(*args)


def _gated(work: Callable[..., T], *args: object) -> T:
    with hashing_slot():
        return at_hashing_priority(work, *args)


def hash_password(password: str) -> str:
    return _gated(_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _gated(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
