"""Sign-in throttling: growing delays per account and address, never a lockout.

A wrong password is allowed a few times; after that each further attempt from the same
address for the same account must wait longer (1 s, 2 s, 4 s … up to
`LOGIN_MAX_DELAY_SECONDS`). Someone guessing from many addresses meets a second, gentler
brake per account (`LOGIN_ACCOUNT_FREE_FAILURES`, at most `LOGIN_ACCOUNT_MAX_DELAY_SECONDS`),
so the account's holder — signing in from their own address — is at most briefly
delayed and never locked out by a stranger, and is told how long to wait.

The counts live in the database (`login_attempts`), so every worker process and every
server behind the load balancer sees the same ones. A successful sign-in starts the
count afresh (for its address, and for the account).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal.auth.models import LoginAttempt
from portal.db import utcnow
from portal.extensions import db

DEFAULTS = {
    "LOGIN_FREE_FAILURES": 3,  # per account and address, before delays begin
    "LOGIN_MAX_DELAY_SECONDS": 900,
    "LOGIN_ACCOUNT_FREE_FAILURES": 10,  # per account, from all addresses together
    "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": 60,
    "LOGIN_THROTTLE_WINDOW_HOURS": 24,  # older failures are forgotten
}


def setting(name: str) -> int:
    value = current_app.config.get(name)
    return int(value) if value not in (None, "") else DEFAULTS[name]


def delay(failures: int, free: int, ceiling: int) -> int:
    """Seconds to wait after `failures` failures: none for the first `free`, then doubling."""
    if failures < free:
        return 0
    return min(ceiling, 2 ** min(failures - free, 30))


@dataclass
class State:
    pair_failures: int  # this account from this address
    account_failures: int  # this account from anywhere
    wait: int  # seconds before the next attempt is considered

    @property
    def throttled(self) -> bool:
        return self.wait > 0


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def state(username: str, ip: str, now: dt.datetime | None = None) -> State:
    """How many recent failures, and how long the next attempt must still wait."""
    now = _aware(now or utcnow())
    assert now is not None
    start = now - dt.timedelta(hours=setting("LOGIN_THROTTLE_WINDOW_HOURS"))
    la = LoginAttempt
    last_ok_here, last_ok = db.session.execute(
        sa.select(sa.func.max(sa.case((la.ip == ip, la.at))), sa.func.max(la.at)).where(
            la.username == username, la.success.is_(True), la.at > start
        )
    ).one()
    pair_since = max(start, _aware(last_ok_here) or start)
    account_since = max(start, _aware(last_ok) or start)
    here = sa.and_(la.ip == ip, la.at > pair_since)
    anywhere = la.at > account_since
    row = db.session.execute(
        sa.select(
            sa.func.sum(sa.case((here, 1), else_=0)),
            sa.func.max(sa.case((here, la.at))),
            sa.func.sum(sa.case((anywhere, 1), else_=0)),
            sa.func.max(sa.case((anywhere, la.at))),
        ).where(
            la.username == username,
            la.success.is_(False),
            la.at > min(pair_since, account_since),
        )
    ).one()
    pair_n, pair_last, acct_n, acct_last = int(row[0] or 0), row[1], int(row[2] or 0), row[3]
    wait = 0.0
    for n, last, free, ceiling in (
        (pair_n, pair_last, setting("LOGIN_FREE_FAILURES"), setting("LOGIN_MAX_DELAY_SECONDS")),
        (
            acct_n,
            acct_last,
            setting("LOGIN_ACCOUNT_FREE_FAILURES"),
            setting("LOGIN_ACCOUNT_MAX_DELAY_SECONDS"),
        ),
    ):
        seconds = delay(n, free, ceiling)
        if seconds and last is not None:
            until = _aware(last) + dt.timedelta(seconds=seconds)  # type: ignore[operator]
            wait = max(wait, (until - now).total_seconds())
    return State(pair_n, acct_n, math.ceil(wait) if wait > 0 else 0)


def next_delay(failures_here: int, failures_anywhere: int) -> int:
    """The wait that the failure just recorded imposes (what the holder is told)."""
    return max(
        delay(failures_here, setting("LOGIN_FREE_FAILURES"), setting("LOGIN_MAX_DELAY_SECONDS")),
        delay(
            failures_anywhere,
            setting("LOGIN_ACCOUNT_FREE_FAILURES"),
            setting("LOGIN_ACCOUNT_MAX_DELAY_SECONDS"),
        ),
    )
