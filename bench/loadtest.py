"""Load test on loopback: gunicorn with deploy/gunicorn.conf.py + locust headless.

    PYTHONPATH=$PWD .venv/bin/python bench/loadtest.py [--users 60] [--seconds 60] [--db bench_2800]
    PYTHONPATH=$PWD .venv/bin/python bench/loadtest.py --against-floor --users 200 [--read-only]

Serves the PostgreSQL benchmark database made by bench/run.py (`bench_<N>`, N districts),
drives it with bench/locustfile.py and writes bench/results/loadtest-*.json.

`--against-floor` serves the portal and its floor side by side, each with its own gunicorn
and its own locust of `--users` users, started together: both share the same machine over
the same seconds, so their ratio holds even where the host's speed drifts between runs (seen
here: the same code 128–216 req/s in consecutive runs). Each side's answers and its server's
CPU seconds are counted over one common window, from the moment the later of the two has
signed in all its users to the moment the earlier one stops.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
from bench.dbsetup import free_port, migrate, portal_env, start_gunicorn, wait_until_up  # noqa: E402
from bench.run import BENCH_PII_KEY  # noqa: E402 - the benchmark databases' fixed key

PG = os.environ.get("PORTAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TICKS = os.sysconf("SC_CLK_TCK")
TAIL_S = 5  # the last seconds of a side-by-side window are left out: locust is stopping


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


def _stat(pid: str | int) -> list[str]:
    """The fields of /proc/<pid>/stat from the third (state) on."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _own_ticks(fields: list[str]) -> int:
    """A process's own CPU time (utime + stime), in clock ticks."""
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a gunicorn master and all its workers, the exited
    ones included (their time is in the master's cutime/cstime once reaped)."""

    try:
        own = _stat(pid)
    except OSError:
        return 0.0
    total = _own_ticks(own) + int(own[13]) + int(own[14])  # + cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(entry.name)
        except OSError:
            continue
        if int(fields[1]) == pid:  # a live worker: its own time
            total += _own_ticks(fields)
    return total / TICKS


class DatabaseCpu:
    """CPU seconds of the PostgreSQL backends serving each database user, summed per user
    from each backend's own time (`/proc`): the portal connects as `portal_app`, its floor
    as the owner, so each side's database work is told apart. Backends that come and go
    between samples lose at most a second's time each (the pools keep theirs)."""

    def __init__(self, database: str) -> None:
        import sqlalchemy as sa

        self.database = database
        self.engine = sa.create_engine(PG, poolclass=sa.pool.NullPool)
        self.conn = self.engine.connect()
        self.seen: dict[int, float] = {}
        self.total: dict[str, float] = {}

    def sample(self) -> dict[str, float]:
        """Every database user's CPU seconds so far."""
        import sqlalchemy as sa

        rows = self.conn.execute(
            sa.text("SELECT pid, usename FROM pg_stat_activity WHERE datname = :db"),
            {"db": self.database},
        ).all()
        self.conn.rollback()
        for pid, user in rows:
            try:
                now = _own_ticks(_stat(pid)) / TICKS
            except OSError:
                continue
            self.total[user] = self.total.get(user, 0.0) + now - self.seen.get(pid, 0.0)
            self.seen[pid] = now
        return dict(self.total)

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


@dataclass
class Side:
    """One target of a run: its gunicorn, its locust and where they write."""

    floor: bool
    args: argparse.Namespace
    env: dict[str, str]
    groups: list[str]
    stamp: str
    port: int = field(default_factory=free_port)
    server: Any = None
    locust: Any = None
    cpu: list[tuple[float, float]] = field(default_factory=list)
    db_cpu: list[tuple[float, float]] = field(default_factory=list)

    @property
    def db_user(self) -> str:
        """Who this side connects to the database as (`DatabaseCpu`)."""
        return "postgres" if self.floor else "portal_app"

    @property
    def name(self) -> str:
        return "floor" if self.floor else "portal"

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def prefix(self) -> Path:
        return RESULTS / f"locust-{self.stamp}-{self.name}"

    @cached_property
    def timeline(self) -> list[tuple[float, float, bool]]:
        """Every answer locust saw: (wall-clock end, ms, failed); read once, after the run."""
        return json.loads(Path(f"{self.prefix}_timeline.json").read_text())

    def start_server(self) -> None:
        log = (RESULTS / f"loadtest-gunicorn-{self.name}.log").open("w")
        app = "bench.floor_wsgi:app" if self.floor else "wsgi:app"
        self.server = start_gunicorn(self.env, self.port, app, log)
        wait_until_up(self.host + ("/floor/" if self.floor else "/healthz"), self.server, 150, log)

    def start_locust(self) -> None:
        bin_dir = Path(sys.executable).parent
        cmd = [
            str(bin_dir / "locust"),
            "-f",
            "bench/locustfile.py",
            "--headless",
            "-u",
            str(self.args.users),
            "-r",
            str(self.args.spawn_rate),
            "-t",
            f"{self.args.seconds}s",
            "--host",
            self.host,
            "--csv",
            str(self.prefix),
            "--only-summary",
            "--stop-timeout",
            "5",
        ]
        lenv = dict(
            self.env,
            BENCH_TARGET=self.name,
            BENCH_READ_ONLY="1" if self.args.read_only else "",
            BENCH_TENANTS=str(self.args.tenants),
            BENCH_ROUTES=",".join(self.groups),
            BENCH_SIGN_IN_STATS=f"{self.prefix}_sign_ins.json",
            BENCH_STORM="1" if self.args.storm else "",
            BENCH_TIMELINE=f"{self.prefix}_timeline.json",
        )
        self.locust = subprocess.Popen(
            cmd, cwd=ROOT, env=lenv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def sample_cpu(self, database: dict[str, float]) -> None:
        now = time.time()
        self.cpu.append((now, cpu_seconds(self.server.pid)))
        self.db_cpu.append((now, database.get(self.db_user, 0.0)))

    def cpu_between(self, start: float, end: float, samples: list | None = None) -> float:
        """The server's (or `samples`') CPU seconds between two wall-clock moments, linear
        between samples."""
        samples = self.cpu if samples is None else samples

        def at(t: float) -> float:
            before = max((s for s in samples if s[0] <= t), default=samples[0])
            after = min((s for s in samples if s[0] >= t), default=samples[-1])
            if after[0] == before[0]:
                return before[1]
            return before[1] + (after[1] - before[1]) * (t - before[0]) / (after[0] - before[0])

        return at(end) - at(start)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def result(self, load_before: tuple, load_after: tuple, out: str, err: str) -> dict[str, Any]:
        """The run as locust's table saw it (its steady state: reset once all signed in)."""
        with open(f"{self.prefix}_stats.csv") as fh:
            rows = list(csv.DictReader(fh))
        args = self.args
        result: dict[str, Any] = {
            "when": self.stamp,
            "db": args.db,
            "served": "floor (bench/floor_wsgi.py)" if self.floor else "portal (wsgi.py)",
            "mix": "read-only" if args.read_only else "same mix (reads, writes, sign-ins)",
            "tenants": args.tenants,
            "users": args.users,
            "seconds": args.seconds,
            "workers": args.workers or "deploy default (2 x cores + 1), 2 threads",
            "routes": self.groups,
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
        result["aggregated"] = next(e for e in result["endpoints"] if e["name"] == "Aggregated")
        sign_in_file = Path(f"{self.prefix}_sign_ins.json")
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
        result["locust_output"] = out[-4000:] + err[-3000:]
        return result

    def in_window(self, start: float, end: float) -> dict[str, Any]:
        """Answers, failures, throughput, p50/p95 and CPU per answer in [start, end)."""
        inside = [(ms, failed) for t, ms, failed in self.timeline if start <= t < end]
        ms = sorted(m for m, _ in inside)
        cpu = self.cpu_between(start, end)
        db_cpu = self.cpu_between(start, end, self.db_cpu) if self.db_cpu else 0.0
        return {
            "requests": len(inside),
            "failures": sum(1 for _, failed in inside if failed),
            "rps": round(len(inside) / (end - start), 1),
            "p50_ms": round(ms[len(ms) // 2]) if ms else None,
            "p95_ms": round(ms[int(len(ms) * 0.95)]) if ms else None,
            "server_cpu_s": round(cpu, 1),
            "cpu_ms_per_request": round(1000 * cpu / len(inside), 2) if inside else None,
            "database_cpu_s": round(db_cpu, 1),
            "with_database_cpu_ms_per_request": round(1000 * (cpu + db_cpu) / len(inside), 2)
            if inside
            else None,
        }


def prepare(args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    """Migrates the benchmark database; the servers' environment and the mix's route groups."""
    import sqlalchemy as sa

    base = sa.engine.make_url(PG)
    app_url = base.set(database=args.db, username="portal_app", password=None).render_as_string(
        hide_password=False
    )
    # a database seeded by an older build gets this build's tables first (a page reading
    # a table the database lacks would fail every time: seen once, 305 errors)
    migrate(app_url, base.set(database=args.db).render_as_string(hide_password=False))
    groups = route_groups(app_url)  # the same mix for the portal and its floor
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
    return env, groups


def run(args: argparse.Namespace, sides: list[Side]) -> list[tuple[Side, dict[str, Any]]]:
    """Starts every side's server, then all their locusts at once; samples the servers'
    and their database backends' CPU each second until every locust has stopped."""
    database = DatabaseCpu(args.db)
    try:
        for side in sides:
            side.start_server()
        load_before = os.getloadavg()
        for side in sides:
            side.sample_cpu(database.sample())
            side.start_locust()
        done = threading.Event()

        def sampler() -> None:
            while not done.wait(1.0):
                seen = database.sample()
                for side in sides:
                    side.sample_cpu(seen)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        outputs = [side.locust.communicate() for side in sides]
        done.set()
        thread.join()
        seen = database.sample()
        for side in sides:
            side.sample_cpu(seen)
        load_after = os.getloadavg()
        return [
            (side, side.result(load_before, load_after, out, err))
            for side, (out, err) in zip(sides, outputs, strict=True)
        ]
    finally:
        database.close()
        for side in sides:
            side.stop()


class NoWindow(SystemExit):
    """No steady state to compare: ends a side-by-side run; a single server's run records
    why and keeps its result."""


def common_window(ran: list[tuple[Side, dict[str, Any]]]) -> tuple[float, float]:
    """From when the last side had signed in all its users to `TAIL_S` before the first
    side's last answer (one side alone: its own steady state)."""
    starts = [(r.get("sign_ins") or {}).get("all_signed_in_at") for _, r in ran]
    if any(s is None for s in starts):
        raise NoWindow("not every user signed in within the run: no common window")
    ends = [max(t for t, _, _ in side.timeline) for side, _ in ran]
    start, end = max(starts), min(ends) - TAIL_S
    if end - start < 30:
        raise NoWindow(f"the common window is {end - start:.0f} s: run longer (--seconds)")
    return start, end


def side_by_side(args: argparse.Namespace, ran: list[tuple[Side, dict[str, Any]]]) -> dict:
    """The portal against its floor over one common window of the same seconds."""
    start, end = common_window(ran)
    window = {side.name: side.in_window(start, end) for side, _ in ran}
    portal, floor = window["portal"], window["floor"]
    return {
        "mix": ran[0][1]["mix"],
        "users_each": args.users,
        "window_s": round(end - start, 1),
        "window": f"the {end - start:.0f} s from when both had signed in all their users "
        f"to {TAIL_S} s before the first locust stopped",
        "portal": portal,
        "floor": floor,
        "throughput_ratio": round(portal["rps"] / floor["rps"], 3) if floor["rps"] else None,
        "cpu_per_request_ratio": _ratio(portal, floor, "cpu_ms_per_request"),
        "with_database_cpu_per_request_ratio": _ratio(
            portal, floor, "with_database_cpu_ms_per_request"
        ),
    }


def _ratio(portal: dict[str, Any], floor: dict[str, Any], name: str) -> float | None:
    return round(portal[name] / floor[name], 3) if portal[name] and floor[name] else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_2800")
    ap.add_argument("--tenants", type=int, default=2800)
    ap.add_argument("--users", type=int, default=60, help="users (each side's, side by side)")
    ap.add_argument("--spawn-rate", type=float, default=10)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--workers", type=int, default=None, help="default: deploy config (cores + 1)")
    target = ap.add_mutually_exclusive_group()
    target.add_argument(
        "--floor",
        action="store_true",
        help="serve the bare Flask-Admin floor (bench/floor_wsgi.py) instead of the portal",
    )
    target.add_argument(
        "--against-floor",
        action="store_true",
        help="serve the portal and its floor side by side, at once, and compare them over "
        "the same seconds",
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
    os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)
    if args.against_floor and args.storm:
        ap.error("--against-floor compares the steady state: leave out --storm")
    env, groups = prepare(args)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    targets = [False, True] if args.against_floor else [args.floor]
    ran = run(args, [Side(floor, args, env, groups, stamp) for floor in targets])
    mix = "-read-only" if args.read_only else ""
    if not args.against_floor and not args.storm:
        side, result = ran[0]
        try:
            start, end = common_window(ran)
        except NoWindow as none:
            result["steady_state"] = {"none": str(none)}
        else:
            steady = side.in_window(start, end)
            result["steady_state"] = {"window_s": round(end - start, 1), **steady}
    for side, result in ran:
        tail = f"-{side.name}" if args.against_floor else ""
        (RESULTS / f"loadtest-{stamp}{tail}.json").write_text(json.dumps(result, indent=1))
        (RESULTS / f"loadtest-{side.name}{mix}-latest.json").write_text(
            json.dumps(result, indent=1)
        )
        print(f"== {side.name}: {result['window']}")
        print(result["locust_output"])
        print(json.dumps(result["aggregated"]))
        print(json.dumps(result.get("sign_ins")))
        if "steady_state" in result:
            print(json.dumps(result["steady_state"]))
    if args.against_floor:
        compared = side_by_side(args, ran)
        (RESULTS / f"loadtest-{stamp}-against-floor.json").write_text(
            json.dumps(compared, indent=1)
        )
        (RESULTS / f"loadtest-against-floor{mix}-latest.json").write_text(
            json.dumps(compared, indent=1)
        )
        print(json.dumps(compared, indent=1))


if __name__ == "__main__":
    main()
