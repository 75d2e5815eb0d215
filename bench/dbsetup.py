"""Databases for the benchmarks, made the way a deployment makes them: `flask db upgrade
heads` (as the schema owner where one is given), then the demo data when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate(app_url: str, owner_url: str | None = None, demo: bool = False) -> None:
    """Migrates (and seeds) the database in a subprocess, with production hashing."""
    env = dict(
        os.environ,
        PORTAL_DATABASE_URL=app_url,
        PORTAL_SECRET_KEY="bench",
        FLASK_APP="portal",
        PYTHONPATH=str(ROOT),
    )
    if owner_url:
        env["PORTAL_MIGRATE_DATABASE_URL"] = owner_url
    env.pop("PORTAL_TEST_FAST_HASH", None)  # production hashing parameters
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
