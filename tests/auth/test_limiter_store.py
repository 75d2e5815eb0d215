"""The per-address sign-in limit is counted in a store all workers share (issue 19: with
`memory://` two workers let 60 of 120 rapid attempts through instead of 30)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Browser, make_app


def test_two_processes_count_in_one_window(tmp_path: Path) -> None:
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    uri = f"portal+sqlite://{tmp_path / 'limits.sqlite3'}"
    import portal.kernel.ratelimit  # noqa: F401 - registers the scheme

    limit = parse("5 per minute")
    here = FixedWindowRateLimiter(storage_from_string(uri))
    code = (
        "import portal.kernel.ratelimit\n"
        "from limits import parse\n"
        "from limits.storage import storage_from_string\n"
        "from limits.strategies import FixedWindowRateLimiter\n"
        f"w = FixedWindowRateLimiter(storage_from_string({uri!r}))\n"
        "print(sum(w.hit(parse('5 per minute'), 'login', '10.0.0.1') for _ in range(4)))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == "4"  # the other worker used four of the five
    allowed = [here.hit(limit, "login", "10.0.0.1") for _ in range(3)]
    assert allowed == [True, False, False]
    assert here.hit(limit, "login", "10.0.0.2")  # another address has its own window


def test_the_app_takes_its_store_from_the_config(databases, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db, limiter

    app = make_app(
        databases.new(demo=True),
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"portal+sqlite://{tmp_path / 'l.sqlite3'}",
        RATELIMIT_LOGIN="3 per minute",
    )
    assert type(limiter._storage).__name__ == "SqliteFileStorage"
    b = Browser(app)
    statuses = [b.login(f"nobody-{n}", "wrong-password-1").status_code for n in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    with app.app_context():
        db.engine.dispose()
