"""Benchmark: onboarding a district from a policy file must take under 5 seconds.

    PYTHONPATH=. .venv/bin/python bench/onboarding.py              # fresh SQLite file
    PYTHONPATH=. .venv/bin/python bench/onboarding.py --database-url postgresql+psycopg://…

Migrates a fresh database (SQLite in a temp dir unless --database-url is given, which
must point to an already migrated database), then onboards every template in tenants/
and tests/fixtures/dayi.yaml under new slugs through the same service the console
and CLI use (validation, one transaction, current-period duties, the lead's account
with production-cost argon2). Prints the seconds per file; exits 1 if any took 5 s or more.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from bench.dbsetup import fresh_sqlite

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="an already migrated database (default: fresh SQLite)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="onboard each file this many times")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = fresh_sqlite("bench-onboarding-")
    from portal import create_app
    from portal.audit import trail
    from portal.platform import onboarding

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    files = sorted((ROOT / "tenants").glob("*.yaml")) + [ROOT / "tests/fixtures/dayi.yaml"]
    worst = 0.0
    print(f"database: {url.split('@')[-1]}")
    with app.app_context(), trail.acting_as(trail.system_actor("bench onboarding")):
        for path in files:
            text = path.read_text(encoding="utf-8")
            for _ in range(args.repeat):
                slug = f"b-{path.stem[:20]}-{uuid.uuid4().hex[:6]}"
                start = time.perf_counter()
                result = onboarding.onboard(text, slug)
                took = time.perf_counter() - start
                worst = max(worst, took)
                print(f"{path.name:<16} {took:6.3f} s  ({result.duties} duties)")
    verdict = "OK" if worst < LIMIT_SECONDS else "TOO SLOW"
    print(f"slowest onboarding: {worst:.3f} s (limit {LIMIT_SECONDS:.0f} s) {verdict}")
    return 0 if worst < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
