"""A rate-limit store that every worker process of one server shares: a small SQLite file.

Flask-Limiter's default `memory://` counts per process, so with N gunicorn workers a
"30 per minute" limit lets 30×N through. `PORTAL_RATELIMIT_STORAGE` chooses the store:

- `memory://` (default; development and tests),
- `portal+sqlite:///var/lib/portal/ratelimit.sqlite3` — this module: one file on local
  disk, shared by every worker of the server (fixed windows; about 0.2 ms per hit),
- `redis://host:6379/0` — when several servers sit behind the load balancer
  (needs the `redis` package; see deploy/scale-out.md).

Importing this module registers the `portal+sqlite` scheme with `limits`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_limits ("
    "key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expiry REAL NOT NULL)"
)


class SqliteFileStorage(Storage):
    """Fixed-window counters in a local SQLite file (WAL, one short write per hit)."""

    STORAGE_SCHEME = ["portal+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = (uri or "").split("://", 1)[-1] or "ratelimit.sqlite3"
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM rate_limits WHERE expiry <= ?", (now,))
            conn.execute(
                "INSERT INTO rate_limits (key, hits, expiry) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET hits = hits + excluded.hits",
                (key, amount, now + expiry),
            )
            (hits,) = conn.execute("SELECT hits FROM rate_limits WHERE key = ?", (key,)).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(hits)

    def get(self, key: str) -> int:
        row = (
            self._conn()
            .execute(
                "SELECT hits FROM rate_limits WHERE key = ? AND expiry > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._conn().execute("SELECT expiry FROM rate_limits WHERE key = ?", (key,)).fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM rate_limits").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM rate_limits WHERE key = ?", (key,))
