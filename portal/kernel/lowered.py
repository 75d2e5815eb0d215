"""CPU work at the machine's lowest priority, in helper processes of this one.

Why processes and not a lowered thread: a thread shares its process's interpreter lock
(the GIL). A thread at `SCHED_IDLE` gets no CPU while the cores are busy, and when it
holds the lock then — or wants it back after a C call such as argon2's, which makes the
thread holding it hand it over and wait until it is taken — every other thread of the
process waits with it, for as long as the cores stay busy. Measured here (three normal
processes spinning on two cores): a normal thread's 1 ms sleep took up to 0.48 s beside
an idle-priority thread running Python, against 1 ms without it. A helper process has a
lock of its own, so only its own work waits for idle time.

A helper is started with `spawn` (never a fork of a multi-threaded worker) and imports
only this module and the work's (the work must be picklable: a module-level function or
a bound method of a plain object); it lowers itself once and stays low — raising a
priority again needs a privilege the deployment does not have. This module imports
nothing of the portal's: a helper held 25 MB after a hash (argon2's 19 MiB included), and
`spawn` adds one resource-tracker process per worker (13 MB).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import threading

_lock = threading.Lock()
_pool: concurrent.futures.ProcessPoolExecutor | None = None
_pool_key: tuple[int, int, bool, int] | None = None  # (process id, nice, idle, helpers)


def lower_this_process(nice: int, idle: bool) -> None:
    """Runs once in each helper: `nice` steps below where it started, then SCHED_IDLE when
    asked and allowed (a seccomp or container policy may forbid it: the nice value stays)."""
    if nice > 0:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice))
    if idle and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def helpers(nice: int, idle: bool, count: int) -> concurrent.futures.ProcessPoolExecutor:
    """This process's helpers at that priority: made at first use, and again after a fork
    (a child has no helpers of its own), a change of priority or `discard`."""
    global _pool, _pool_key
    key = (os.getpid(), nice, idle, count)
    if _pool_key != key:
        with _lock:
            if _pool_key != key:
                if _pool is not None and _pool_key and _pool_key[0] == key[0]:
                    _pool.shutdown(wait=False, cancel_futures=True)
                _pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=count,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=lower_this_process,
                    initargs=(nice, idle),
                )
                _pool_key = key
    assert _pool is not None
    return _pool


def discard() -> None:
    """Let the next `helpers` start new ones (after a helper died: the pool is broken)."""
    global _pool_key
    with _lock:
        _pool_key = None


def priority() -> tuple[int, int]:
    """The calling thread's (scheduling policy, nice value): what a helper runs at."""
    me = threading.get_native_id()
    return os.sched_getscheduler(me), os.getpriority(os.PRIO_PROCESS, me)
