"""Databases for the benchmarks, made the way a deployment makes them: `flask db upgrade
heads` (as the schema owner where one is given), then the demo data when asked for."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on (for a server a benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def portal_env(
    app_url: str,
    owner_url: str | None = None,
    *,
    secret: str = "bench",
    fast_hash: bool | None = False,
    **settings: str,
) -> dict[str, str]:
    """The environment of a portal process a benchmark or test starts: this checkout on
    the path, the database (migrated as `owner_url` when given), `settings` on top.
    `fast_hash`: False removes PORTAL_TEST_FAST_HASH (production hashing), True sets it,
    None leaves the caller's environment as it is."""
    env = dict(
        os.environ,
        PORTAL_DATABASE_URL=app_url,
        PORTAL_SECRET_KEY=secret,
        FLASK_APP="portal",
        PYTHONPATH=str(ROOT),
        **settings,
    )
    if owner_url:
        env["PORTAL_MIGRATE_DATABASE_URL"] = owner_url
    if fast_hash:
        env["PORTAL_TEST_FAST_HASH"] = "1"
    elif fast_hash is False:
        env.pop("PORTAL_TEST_FAST_HASH", None)
    return env


def spawn(args: list[str], env: dict[str, str], **kw: Any) -> subprocess.Popen:
    """A child process in the checkout (`python -m …` when `args` starts with "-m")."""
    if args[0] == "-m":
        args = [sys.executable, *args]
    return subprocess.Popen(args, cwd=ROOT, env=env, **kw)


def start_gunicorn(
    env: dict[str, str], port: int, app: str = "wsgi:app", log: Any = subprocess.DEVNULL
) -> subprocess.Popen:
    """gunicorn with the deployment's configuration, bound to loopback `port`."""
    bind = f"127.0.0.1:{port}"
    config = ["-c", "deploy/gunicorn.conf.py", "--bind", bind, app]
    return spawn(["-m", "gunicorn", *config], env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, server: subprocess.Popen, tries: int = 100, log: Any = None) -> bool:
    """Polls `url` until it answers (True) or `tries` run out (False); a server that exits
    meanwhile is an error (with its log when one is given)."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback
            return True
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(Path(log.name).read_text() if log else "server exited") from None
            time.sleep(0.2)
    return False


def migrate(
    app_url: str,
    owner_url: str | None = None,
    demo: bool = False,
    *,
    secret: str = "bench",
    fast_hash: bool = False,
) -> None:
    """Migrates (and seeds) the database in a subprocess, with production hashing unless
    `fast_hash` (the tests')."""
    env = portal_env(app_url, owner_url, secret=secret, fast_hash=fast_hash)
    steps = [["-m", "flask", "db", "upgrade", "heads"]]
    if demo:
        steps.append(["-m", "portal.cli", "demo", "--quiet"])
    for args in steps:
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True)


def fresh_sqlite(prefix: str) -> str:
    """The URL of a new, migrated SQLite database in a temporary folder."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=prefix)) / 'bench.sqlite3'}"
    migrate(url)
    return url
