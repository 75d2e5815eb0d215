"""Load test on loopback: gunicorn with deploy/gunicorn.conf.py + locust headless.

    PYTHONPATH=$PWD .venv/bin/python bench/loadtest.py [--users 60] [--seconds 60] [--db bench_2800]

Serves the PostgreSQL benchmark database made by bench/run.py (`bench_<N>`, N districts),
drives it with bench/locustfile.py and writes bench/results/loadtest-*.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
from bench.dbsetup import free_port, migrate, portal_env, start_gunicorn, wait_until_up  # noqa: E402
from bench.run import BENCH_PII_KEY  # noqa: E402 - the benchmark databases' fixed key

os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)
PG = os.environ.get("PORTAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def route_groups(app_url: str) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "SECRET_KEY": "x"})
    rules = {r.rule for r in app.url_map.iter_rules()}
    groups = ["home"]
    if "/t/<slug>/duties/" in rules:
        groups.append("duties")
    if "/t/<slug>/audit/" in rules:
        groups.append("audit")
    if "/t/<slug>/meetings/" in rules:
        groups.append("meetings")
    return groups


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_2800")
    ap.add_argument("--tenants", type=int, default=2800)
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--spawn-rate", type=float, default=10)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--workers", type=int, default=None, help="default: deploy config (cores + 1)")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="serve the bare Flask-Admin floor (bench/floor_wsgi.py) instead of the portal",
    )
    ap.add_argument(
        "--read-only",
        action="store_true",
        help="the read-only mix: every write of the mix becomes a read of the same page",
    )
    ap.add_argument(
        "--storm",
        action="store_true",
        help="keep the sign-in storm in the table (default: the table is reset when the last "
        "user has signed in, and covers the steady state after it)",
    )
    args = ap.parse_args()
    import sqlalchemy as sa

    base = sa.engine.make_url(PG)
    app_url = base.set(database=args.db, username="portal_app", password=None).render_as_string(
        hide_password=False
    )
    # a database seeded by an older build gets this build's tables first (a page reading
    # a table the database lacks would fail every time: seen once, 305 errors)
    migrate(app_url, base.set(database=args.db).render_as_string(hide_password=False))
    groups = route_groups(app_url)  # the same mix for the portal and its floor
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = portal_env(
        app_url,
        secret="loadtest",
        fast_hash=None,
        PORTAL_RATELIMIT_LOGIN="100000 per minute",
        PORTAL_ACCESS_LOG="/dev/null",
        BENCH_FLOOR_DB=args.db,
        BENCH_TENANTS=str(args.tenants),
    )
    if args.workers:
        env["PORTAL_WORKERS"] = str(args.workers)
    bin_dir = Path(sys.executable).parent
    glog = (RESULTS / "loadtest-gunicorn.log").open("w")
    server = start_gunicorn(env, port, "bench.floor_wsgi:app" if args.floor else "wsgi:app", glog)
    host = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(host + ("/floor/" if args.floor else "/healthz"), server, 150, glog)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        prefix = RESULTS / f"locust-{stamp}"
        load_before = os.getloadavg()
        cmd = [
            str(bin_dir / "locust"),
            "-f",
            "bench/locustfile.py",
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{args.seconds}s",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "5",
        ]
        sign_in_file = Path(f"{prefix}_sign_ins.json")
        lenv = dict(
            env,
            BENCH_TARGET="floor" if args.floor else "portal",
            BENCH_READ_ONLY="1" if args.read_only else "",
            BENCH_TENANTS=str(args.tenants),
            BENCH_ROUTES=",".join(groups),
            BENCH_SIGN_IN_STATS=str(sign_in_file),
            BENCH_STORM="1" if args.storm else "",
        )
        proc = subprocess.run(cmd, cwd=ROOT, env=lenv, capture_output=True, text=True)
        load_after = os.getloadavg()
        with open(f"{prefix}_stats.csv") as fh:
            rows = list(csv.DictReader(fh))
        result = {
            "when": stamp,
            "db": args.db,
            "served": "floor (bench/floor_wsgi.py)" if args.floor else "portal (wsgi.py)",
            "mix": "read-only" if args.read_only else "same mix (reads, writes, sign-ins)",
            "tenants": args.tenants,
            "users": args.users,
            "seconds": args.seconds,
            "workers": args.workers or "deploy default (2 x cores + 1), 2 threads",
            "routes": groups,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "endpoints": [
                {
                    "name": r["Name"],
                    "method": r["Type"],
                    "requests": int(r["Request Count"]),
                    "failures": int(r["Failure Count"]),
                    "rps": round(float(r["Requests/s"]), 1),
                    "p50": r["50%"],
                    "p95": r["95%"],
                    "p99": r["99%"],
                }
                for r in rows
            ],
        }
        agg = next(e for e in result["endpoints"] if e["name"] == "Aggregated")
        result["aggregated"] = agg
        if sign_in_file.exists():
            result["sign_ins"] = json.loads(sign_in_file.read_text())
        all_in = (result.get("sign_ins") or {}).get("all_signed_in_after_s")
        result["window"] = (
            "from the start, the sign-in storm included (--storm)"
            if args.storm
            else f"steady state: the {args.seconds - all_in:.0f} s after the last user signed in "
            f"({all_in} s into the run)"
            if all_in is not None and all_in < args.seconds
            else "from the start: not every user signed in within the run"
        )
        (RESULTS / f"loadtest-{stamp}.json").write_text(json.dumps(result, indent=1))
        latest = "loadtest-{}{}-latest.json".format(
            "floor" if args.floor else "portal", "-read-only" if args.read_only else ""
        )
        (RESULTS / latest).write_text(json.dumps(result, indent=1))
        print(proc.stdout[-4000:])
        print(proc.stderr[-3000:])
        print(json.dumps(agg))
        print(json.dumps(result.get("sign_ins")))
        print(result["window"])
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
