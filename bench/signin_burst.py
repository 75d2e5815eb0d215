"""A morning rush of sign-ins: does it starve everyone else's page views?

    PYTHONPATH=$PWD .venv/bin/python bench/signin_burst.py [--burst 30] [--gates 1/1/idle,64/64/0]
        [--shapes 2x4,5x2] [--repeat 3]

Makes a PostgreSQL database with the demo districts (the app connects as the non-owner
role, so row-level security applies; passwords hashed at the production argon2
parameters), serves it with gunicorn and deploy/gunicorn.conf.py, and for each
password-hashing gate — hashes at a time on the machine
(`PORTAL_PASSWORD_HASH_CONCURRENCY`; a large number is the same as no gate) / sign-ins
waiting per worker (`…_QUEUE`) / the hashing helpers' niceness (`…_NICE`, 0: none; `idle`:
SCHED_IDLE, the default) — and each gunicorn shape (workers × threads), `--repeat` times:

1. quiet: `--readers` signed-in users load their district home page in a loop;
2. burst: `--burst` other users sign in at the same instant, while the readers go on.
   The burst's clients run in a process of their own (`--same-process`: in the readers',
   as before the eighth session, where their client work held up the readers' threads).

It prints the readers' p50/p95/max latency when quiet and during the burst, and how
long the burst's sign-ins took, with the load average at the start and end of each run,
and writes bench/results/signin-burst-*.json. A sign-in refused as busy (503) is sent
again after the answer's Retry-After, as the sign-in page's script does (and with its
header, so the refusal is the script's short one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import re
import subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.dbsetup import free_port, migrate, portal_env, start_gunicorn
from bench.run import BENCH_PII_KEY  # the benchmark databases' fixed key

os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)  # the register's columns need one

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG = os.environ.get("PORTAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
APP_ROLE = os.environ.get("PORTAL_APP_DB_ROLE", "portal_app")
PASSWORD = "Demo-2026-pass"
SCRIPT_HEADERS = {"X-Portal-Sign-In": "script"}  # what portal/static/signin.js sends
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def make_database() -> tuple[str, str]:
    """(owner URL, app URL) of a new database with the demo data."""
    name = f"bench_signin_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    base = sa.engine.make_url(PG)
    owner = base.set(database=name).render_as_string(hide_password=False)
    app = base.set(database=name, username=APP_ROLE, password=None).render_as_string(
        hide_password=False
    )
    migrate(app, owner, demo=True)
    return owner, app


def drop_database(owner_url: str) -> None:
    name = sa.engine.make_url(owner_url).database
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def usernames(app_url: str) -> tuple[list[str], list[str]]:
    """(leads and auditors: the readers, officers: the burst)."""
    engine = sa.create_engine(sa.engine.make_url(app_url).set(username="postgres"))
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT username, role FROM users ORDER BY username")).all()
    engine.dispose()
    readers = [u for u, r in rows if r in ("district_lead", "auditor")]
    officers = [u for u, r in rows if r == "dept_officer"]
    return readers, officers


class Client:
    """One browser: its own connection and session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, form: dict | None = None, extra: dict | None = None
    ) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        headers.update(extra or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        self.retry_after = float(response.getheader("Retry-After") or 1)
        cookie = response.getheader("Set-Cookie")
        if cookie and cookie.startswith("session="):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text

    def sign_in(self, username: str) -> int:
        """Sign in; on 503 (hashing queue full) try again after Retry-After, as the sign-in
        page's script does."""
        _status, page = self.request("GET", "/login")
        token = CSRF.search(page)
        form = {
            "username": username,
            "password": PASSWORD,
            "csrf_token": token.group(1) if token else "",
        }
        self.retries = 0
        while True:
            status, _ = self.request("POST", "/login", form, SCRIPT_HEADERS)
            if status != 503 or self.retries >= 60:
                return status
            self.retries += 1
            time.sleep(self.retry_after)


Gate = tuple[int, int, str]  # hashes on the machine, per worker, niceness or "idle"


def start_server(
    app_url: str, port: int, gate: Gate, workers: int, threads: int
) -> subprocess.Popen:
    env = portal_env(
        app_url,
        PORTAL_AUDIT_KEY="bench-audit-key",
        PORTAL_BIND=f"127.0.0.1:{port}",
        PORTAL_WORKERS=str(workers),
        PORTAL_THREADS=str(threads),
        PORTAL_ACCESS_LOG="/dev/null",
        PORTAL_RATELIMIT_LOGIN="100000 per minute",
        PORTAL_PASSWORD_HASH_CONCURRENCY=str(gate[0]),
        PORTAL_PASSWORD_HASH_QUEUE=str(gate[1]),
        PORTAL_PASSWORD_HASH_WAIT_SECONDS="120",
        PORTAL_PASSWORD_HASH_NICE="19" if gate[2] == "idle" else gate[2],
        PORTAL_PASSWORD_HASH_SCHED_IDLE="1" if gate[2] == "idle" else "0",
    )
    server = start_gunicorn(env, port)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if Client(port).request("GET", "/login")[0] == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(1000 * pct(values, 0.50), 1),
        "p95_ms": round(1000 * pct(values, 0.95), 1),
        "max_ms": round(1000 * max(values), 1) if values else None,
    }


def run_burst(port: int, names: list[str]) -> tuple[float, float, list[tuple[int, float, int]]]:
    """The burst: every name signs in at the same instant, one thread each. Returns when
    it began and ended (`time.perf_counter`, CLOCK_MONOTONIC: the same clock in every
    process) and each sign-in's (status, seconds, retries)."""
    barrier = threading.Barrier(len(names))
    lock = threading.Lock()
    sign_ins: list[tuple[int, float, int]] = []

    def sign_in(name: str) -> None:
        c = Client(port)
        barrier.wait()
        start = time.perf_counter()
        status = c.sign_in(name)
        with lock:
            sign_ins.append((status, time.perf_counter() - start, c.retries))

    burst = [threading.Thread(target=sign_in, args=(n,)) for n in names]
    burst_from = time.perf_counter()
    for t in burst:
        t.start()
    for t in burst:
        t.join()
    return burst_from, time.perf_counter(), sign_ins


def _burst_process(port: int, names: list[str], go: Any, out: Any) -> None:
    """The burst in a process of its own: its 60 client threads do not hold up the
    readers' threads on this process's GIL (as 60 browsers would not), so the readers'
    times are the server's."""
    go.wait()
    out.put(run_burst(port, names))


def run_once(args: argparse.Namespace, app_url: str, gate: Gate, shape: tuple[int, int]) -> dict:
    readers_names, officers = usernames(app_url)
    port = free_port()
    load_from = os.getloadavg()[0]
    server = start_server(app_url, port, gate, *shape)
    burst_names = officers[: args.burst]
    if not args.same_process:
        # forked first, while this process has one thread and no reader's connection
        # (the child would hold their sockets too); it waits for `go`
        fork = multiprocessing.get_context("fork")
        go, out = fork.Event(), fork.Queue()
        child = fork.Process(target=_burst_process, args=(port, burst_names, go, out))
        child.start()
    try:
        readers = []
        for name in readers_names[: args.readers]:
            c = Client(port)
            assert c.sign_in(name) == 302, name
            readers.append(c)
        samples: list[tuple[float, float]] = []  # (start, seconds)
        stop = threading.Event()
        lock = threading.Lock()

        def read(c: Client) -> None:
            while not stop.is_set():
                start = time.perf_counter()
                status, _ = c.request("GET", c.home)
                took = time.perf_counter() - start
                if status == 200:
                    with lock:
                        samples.append((start, took))
                time.sleep(args.think)

        for c, name in zip(readers, readers_names, strict=False):
            c.home = f"/t/{name.rsplit('-', 1)[0]}/"  # type: ignore[attr-defined]
        threads = [threading.Thread(target=read, args=(c,), daemon=True) for c in readers]
        for t in threads:
            t.start()
        time.sleep(2)  # warm up
        quiet_from = time.perf_counter()
        time.sleep(args.quiet)
        quiet_to = time.perf_counter()

        if args.same_process:
            burst_from, burst_to, sign_ins = run_burst(port, burst_names)
        else:
            go.set()
            burst_from, burst_to, sign_ins = out.get()
            child.join(timeout=30)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        quiet = [s for t0, s in samples if quiet_from <= t0 < quiet_to]
        during = [s for t0, s in samples if burst_from <= t0 < burst_to]
        quiet_s, during_s = summary(quiet), summary(during)
        return {
            "gate": {"concurrency": gate[0], "queue": gate[1], "nice": gate[2]},
            "workers": shape[0],
            "threads": shape[1],
            "load_average": [round(load_from, 2), round(os.getloadavg()[0], 2)],
            "readers_quiet": quiet_s,
            "readers_during_burst": during_s,
            "p95_ratio": round(during_s["p95_ms"] / quiet_s["p95_ms"], 2)
            if quiet and during
            else None,
            "burst": {
                "sign_ins": len(sign_ins),
                "ok": sum(1 for s, _, _ in sign_ins if s == 302),
                "retries_after_503": sum(r for _, _, r in sign_ins),
                "wall_s": round(burst_to - burst_from, 2),
                **summary([d for _, d, _ in sign_ins]),
            },
        }
    finally:
        if not args.same_process and child.is_alive():
            child.terminate()
        server.terminate()
        server.wait(timeout=30)


def line(r: dict) -> str:
    """One run, on one line."""
    q, d, b = r["readers_quiet"], r["readers_during_burst"], r["burst"]
    return (
        f"{r['workers']}x{r['threads']} gate {r['gate']['concurrency']}/{r['gate']['queue']}/"
        f"{r['gate']['nice']} load {r['load_average'][0]}→{r['load_average'][1]}: "
        f"readers p50/p95 quiet {q['p50_ms']}/{q['p95_ms']} ms, "
        f"during the burst {d['p50_ms']}/{d['p95_ms']} ms (p95 ×{r['p95_ratio']}, "
        f"max {d['max_ms']} ms); {b['ok']}/{b['sign_ins']} sign-ins in {b['wall_s']} s "
        f"(p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms, {b['retries_after_503']} retries "
        "after 503)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--burst", type=int, default=30)
    ap.add_argument("--readers", type=int, default=6)
    ap.add_argument("--think", type=float, default=0.05, help="seconds between a reader's views")
    ap.add_argument("--quiet", type=float, default=15, help="seconds of quiet measurement")
    ap.add_argument(
        "--gates",
        default="1/1/idle,64/64/0",
        help="hashing gates to compare: hashes at a time on the machine/sign-ins waiting per "
        "worker/niceness of the hashing helpers or idle (SCHED_IDLE) (64/64/0: as good as "
        "none; idle if left out)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument(
        "--shapes",
        default="",
        help="gunicorn shapes, e.g. 2x4,5x2 (default: --workers x --threads)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="rounds of every gate and shape")
    ap.add_argument(
        "--same-process",
        action="store_true",
        help="run the burst's client threads in the readers' process (before the eighth "
        "session, every run did: the burst's client work then delayed the readers' own "
        "threads on the GIL, counted as the server's)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    ap.add_argument("--database", default="", help="use this database kept by --keep")
    args = ap.parse_args()
    shapes = [
        (int(w), int(t))
        for w, t in (
            s.split("x") for s in (args.shapes or f"{args.workers}x{args.threads}").split(",")
        )
    ]
    gates: list[Gate] = []
    for g in args.gates.split(","):
        concurrency, queue, nice = f"{g}/idle".split("/")[:3]
        gates.append((int(concurrency), int(queue), nice))
    if args.database:  # made by an earlier run with --keep
        base = sa.engine.make_url(PG).set(database=args.database)
        owner = base.render_as_string(hide_password=False)
        app_url = base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    else:
        owner, app_url = make_database()
        print(f"database {sa.engine.make_url(owner).database}", flush=True)
    try:
        results = []
        for _ in range(args.repeat):
            for shape in shapes:
                for g in gates:
                    results.append(run_once(args, app_url, g, shape))
                    print(line(results[-1]), flush=True)  # each run as it ends
    finally:
        if not (args.keep or args.database):
            drop_database(owner)
    from portal.auth import passwords

    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "argon2": {
            "memory_kib": passwords.MEMORY_KIB,
            "time_cost": passwords.TIME_COST,
            "parallelism": passwords.PARALLELISM,
        },
        "shapes": [f"{w}x{t}" for w, t in shapes],
        "readers": args.readers,
        "burst": args.burst,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"signin-burst-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
