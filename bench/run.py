"""The benchmark: `python bench/run.py` (see bench/README.md).

For each backend (SQLite, PostgreSQL) and scale (10 and 2,800 districts) it makes sure a
database seeded by `python -m bench.seed_scale` exists, then measures in-process with the Flask
test client: p50/p95/p99 of every page in bench/pages.py next to its bare Flask-Admin
floor (bench/floor.py), `portal audit verify` throughput, and the cost of audit capture
on a write request. Results go to bench/results/ (JSON + summary.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get(
    "PORTAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
APP_ROLE = os.environ.get("PORTAL_APP_DB_ROLE", "portal_app")
#: The benchmark databases' personal-information key (synthetic data only; a fixed key so
#: repeated runs and the register seeding read each other's ciphertexts).
BENCH_PII_KEY = os.environ.get(
    "PORTAL_PII_KEY", "k1:" + "YmVuY2gtb25seS1waWkta2V5LW5vdC1mb3ItcmVhbCE="
)
os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)  # for importers (floor_wsgi, profiles)

import sqlalchemy as sa  # noqa: E402

from bench.pages import PAGES, Page  # noqa: E402

# ----------------------------------------------------------------------------- databases


class BenchDB:
    def __init__(self, backend: str, scale: int) -> None:
        self.backend, self.scale = backend, scale
        if backend == "sqlite":
            path = RESULTS / "db" / f"scale-{scale}.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.app_url = self.owner_url = f"sqlite:///{path}"
            self.name = str(path)
        else:
            base = sa.engine.make_url(PG_ADMIN)
            self.name = os.environ.get("BENCH_DB_PREFIX", "") + f"bench_{scale}"
            self.owner_url = base.set(database=self.name).render_as_string(hide_password=False)
            self.app_url = base.set(
                database=self.name, username=APP_ROLE, password=None
            ).render_as_string(hide_password=False)

    def env(self) -> dict:
        return dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            PORTAL_DATABASE_URL=self.app_url,
            PORTAL_MIGRATE_DATABASE_URL=self.owner_url,
            PORTAL_SECRET_KEY="bench",
            PORTAL_PII_KEY=BENCH_PII_KEY,
            FLASK_APP="portal",
        )

    def ensure(self, log: Callable[[str], None]) -> float:
        """Create, migrate and seed (idempotent); returns seconds spent seeding."""
        if self.backend == "postgres":
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                exists = c.exec_driver_sql(
                    "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": self.name}
                ).first()
                if not exists:
                    c.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            admin.dispose()
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [str(bin_dir / "flask"), "db", "upgrade", "heads"],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
        )
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.seed_scale",
                "--tenants",
                str(self.scale),
                "--batch",
                "50",
            ],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        )
        log(proc.stdout.strip().splitlines()[-1])
        return time.perf_counter() - t0


# ----------------------------------------------------------------------------- measuring


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def summarize(samples: list[float]) -> dict:
    ms = [x * 1000 for x in samples]
    return {
        "n": len(ms),
        "p50": round(pct(ms, 50), 2),
        "p95": round(pct(ms, 95), 2),
        "p99": round(pct(ms, 99), 2),
        "mean": round(statistics.fmean(ms), 2) if ms else None,
    }


def timed_gets(client: Any, path: str, n: int, warmup: int) -> tuple[int, list[float], int]:
    status = 0
    size = 0
    for _ in range(warmup):
        r = client.get(path)
        status, size = r.status_code, len(r.data)
        if status != 200:
            return status, [], size
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        samples.append(time.perf_counter() - t0)
        if r.status_code != 200:
            return r.status_code, samples, size
    return status, samples, size


def context(app: Any, scale: int) -> dict:
    """The district, officer, duty and meeting the pages are measured on."""
    from bench.seed import _cross_tenant, officer_username, slug_for
    from portal.extensions import db

    slug = slug_for(max(1, scale // 2))
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        _cross_tenant(conn)
        md = db.Model.metadata
        tenants, duties, entries, departments = (
            md.tables[t] for t in ("tenants", "duties", "progress_entries", "departments")
        )
        tenant_id = conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == slug)).scalar_one()
        period = conn.execute(
            sa.select(sa.func.max(duties.c.period)).where(duties.c.tenant_id == tenant_id)
        ).scalar_one()
        # Entries written by the benchmark's own write measurement and the load test
        # ("…测试：…") are not counted, so repeated runs measure the same duty.
        n_entries = sa.func.count(entries.c.id).filter(entries.c.narrative.not_like("%测试：%"))
        row = conn.execute(
            sa.select(duties.c.id, duties.c.department_id, n_entries)
            .select_from(
                duties.outerjoin(
                    entries,
                    sa.and_(
                        entries.c.tenant_id == duties.c.tenant_id, entries.c.duty_id == duties.c.id
                    ),
                )
            )
            .where(duties.c.tenant_id == tenant_id, duties.c.period == period)
            .group_by(duties.c.id, duties.c.department_id)
            .order_by(n_entries.desc(), duties.c.id)
            .limit(1)
        ).one()
        # The write measurement logs its entries in another department's duty, so the
        # measured officer's list and duty stay the same however often the bench runs.
        write = conn.execute(
            sa.select(duties.c.id, duties.c.department_id, departments.c.key)
            .join(
                departments,
                sa.and_(
                    departments.c.tenant_id == duties.c.tenant_id,
                    departments.c.id == duties.c.department_id,
                ),
            )
            .where(
                duties.c.tenant_id == tenant_id,
                duties.c.period == period,
                duties.c.department_id != row.department_id,
            )
            .order_by(departments.c.key, duties.c.id)
            .limit(1)
        ).one()
        dept_key = conn.execute(
            sa.select(departments.c.key).where(
                departments.c.tenant_id == tenant_id, departments.c.id == row.department_id
            )
        ).scalar_one()
        ctx: dict[str, Any] = {
            "slug": slug,
            "tenant_id": tenant_id,
            "period": period,
            "duty_id": row.id,
            "duty_entries": row[2],
            "write_duty_id": write.id,
            "write_department_id": write.department_id,
            "writer": officer_username(slug, write.key),
            "department_id": row.department_id,
            "officer": officer_username(slug, dept_key),
            "lead": f"{slug}-lead",
        }
        meetings = md.tables.get("meetings")
        if meetings is not None:
            mid = conn.execute(
                sa.select(meetings.c.id)
                .where(meetings.c.tenant_id == tenant_id)
                .order_by(meetings.c.id.desc())
                .limit(1)
            ).scalar()
            if mid is not None:
                ctx["meeting_id"] = mid
        counts = {}
        for name in ("departments", "users", "duties", "progress_entries", "audit_events"):
            t = md.tables[name]
            counts[name] = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        ctx["db_rows"] = counts
    return ctx


def sign_in(app: Any, username: str) -> Any:
    from bench.seed import BENCH_PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": BENCH_PASSWORD,
            "csrf_token": token.group(1) if token else "",
        },
    )
    if r.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: {r.status_code}")
    return client


class QueryCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *a: Any) -> None:
        self.n += 1


@contextlib.contextmanager
def capture_disabled(session_class: type) -> Iterator[None]:
    """Measurement only: take the audit capture hooks off the session class, then put them back."""
    from portal.audit import trail

    hooks = [
        (name, fn)
        for name, fn in (
            ("after_flush", getattr(trail, "_capture_flush", None)),
            ("before_commit", getattr(trail, "_write_chains", None)),
        )
        if fn is not None and sa.event.contains(session_class, name, fn)
    ]
    for name, fn in hooks:
        sa.event.remove(session_class, name, fn)
    try:
        yield
    finally:
        for name, fn in hooks:
            sa.event.listen(session_class, name, fn)


def write_cost(app: Any, ctx: dict, officer: Any, rounds: int) -> dict:
    """Log a progress entry (the officer's commonest write) with and without audit capture."""
    from portal.extensions import db

    with app.app_context():
        session_class = type(db.session())
    path = f"/t/{ctx['slug']}/duties/{ctx['write_duty_id']}/entries"
    page = officer.get(f"/t/{ctx['slug']}/duties/{ctx['write_duty_id']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)

    def write() -> int:
        r = officer.post(
            path,
            data={
                "csrf_token": token.group(1) if token else "",
                "row_version": "",  # no optimistic check: every write is a new entry
                "work_date": "2026-11-20",
                "narrative": "基准测试：入户走访两户特殊家庭并登记。",
                "families_reached": "2",
                "amount_paid": "0",
            },
        )
        return r.status_code

    kind = "HTTP POST /t/<slug>/duties/<uuid:duty_id>/entries"
    with_cap: list[float] = []
    without: list[float] = []
    statuses = set()
    for _ in range(3):
        statuses.add(write())
        with capture_disabled(session_class):
            statuses.add(write())
    block = 10
    for _ in range(max(1, rounds // block)):
        for _ in range(block):
            t0 = time.perf_counter()
            statuses.add(write())
            with_cap.append(time.perf_counter() - t0)
        with capture_disabled(session_class):
            for _ in range(block):
                t0 = time.perf_counter()
                statuses.add(write())
                without.append(time.perf_counter() - t0)
    a, b = summarize(with_cap), summarize(without)
    return {
        "kind": kind,
        "statuses": sorted(statuses),
        "with_capture": a,
        "without_capture": b,
        "overhead_p50": round(a["p50"] / b["p50"] - 1, 3) if b["p50"] else None,
        "overhead_mean": round(a["mean"] / b["mean"] - 1, 3) if b["mean"] else None,
    }


def verify_throughput(app: Any, sample: int) -> dict:
    """Events per second of `verify_chains` (what `portal audit verify` runs).

    With `sample` > 0 only that many chains (spread over all districts) are verified,
    one call per chain, so a run at 2,800 districts stays minutes, not half an hour; the
    rate is per event either way (each chain is read by its primary key range).
    """
    from bench.seed import _cross_tenant
    from portal.audit.verify import verify_chains
    from portal.extensions import db

    heads = db.Model.metadata.tables["audit_chain_heads"]
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        _cross_tenant(conn)
        chains = sorted(conn.execute(sa.select(heads.c.tenant_id)).scalars(), key=str)
        if sample and len(chains) > sample:
            step = len(chains) / sample
            chosen = [chains[int(i * step)] for i in range(sample)]
        else:
            chosen = None
        t0 = time.perf_counter()
        if chosen is None:
            results = verify_chains(conn)
        else:
            results = [r for tid in chosen for r in verify_chains(conn, tid)]
        seconds = time.perf_counter() - t0
    events = sum(r.events for r in results)
    return {
        "chains": len(results),
        "of_chains": len(chains),
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds) if seconds else None,
        "all_ok": all(r.ok for r in results),
    }


class Setup:
    """One database, signed in and ready: the portal app, its clients, and the floor."""

    def __init__(self, bdb: BenchDB, log: Callable[[str], None]) -> None:
        from bench.floor import floor_app
        from portal import create_app
        from portal.extensions import db

        self.bdb = bdb
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": bdb.app_url,
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
                "AUDIT_KEY": "bench",
            }
        )
        self.ctx = context(self.app, bdb.scale)
        log(
            f"  {bdb.backend} @{bdb.scale}: {self.ctx['slug']} period {self.ctx['period']}, "
            f"officer {self.ctx['officer']}, rows {self.ctx['db_rows']}"
        )
        self.clients = {
            "officer": sign_in(self.app, self.ctx["officer"]),
            "writer": sign_in(self.app, self.ctx["writer"]),
            "lead": sign_in(self.app, self.ctx["lead"]),
        }
        with self.app.app_context():
            self.counter = QueryCounter(db.engine)
        self.floor = floor_app(bdb.owner_url, self.ctx).test_client()
        self.out: dict[str, Any] = {
            "backend": bdb.backend,
            "scale": bdb.scale,
            "context": {k: str(v) for k, v in self.ctx.items() if k != "db_rows"},
            "db_rows": self.ctx["db_rows"],
            "pages": {},
        }

    def close(self) -> None:
        from portal.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def measure_backend(
    dbs: list[BenchDB], args: argparse.Namespace, log: Callable[[str], None]
) -> list[dict]:
    """All scales of one backend measured together, requests interleaved (10, 2800, 10, …)
    so that a burst of load from elsewhere on the machine hits every scale alike."""
    setups = [Setup(bdb, log) for bdb in dbs]
    # As the gunicorn workers do after loading the app (deploy/gunicorn.conf.py): objects
    # made at start-up are moved out of the collector's sight, so its full collections
    # do not walk the whole app (and both floors) again during timed requests.
    gc.collect()
    gc.freeze()
    for page in PAGES:
        if args.pages and not any(part in page.name for part in args.pages.split(",")):
            continue
        measure_page(page, setups, args, log)
    for st in setups:
        if not args.no_verify:
            log(f"  @{st.bdb.scale} audit verify …")
            st.out["verify"] = verify_throughput(st.app, args.verify_sample)
            log(f"  @{st.bdb.scale} verify: {st.out['verify']}")
        if not args.no_write:
            st.out["write"] = w = write_cost(
                st.app, st.ctx, st.clients["writer"], args.write_requests
            )
            log(
                f"  @{st.bdb.scale} write: with {w['with_capture']['p50']} ms, without "
                f"{w['without_capture']['p50']} ms, overhead {w['overhead_p50']}"
            )
        st.close()
    return [st.out for st in setups]


def measure_page(page: Page, setups: list[Setup], args: Any, log: Callable[[str], None]) -> None:
    live: list[tuple[Setup, Any, str, Any]] = []
    for st in setups:
        missing = [k for k in page.needs if k not in st.ctx]
        if missing:
            log(f"  {page.name} @{st.bdb.scale}: n/a (no {', '.join(missing)} in this database)")
            st.out["pages"][page.name] = {"status": f"n/a: no {', '.join(missing)}"}
            continue
        path = page.path.format(**st.ctx)
        client = st.clients[page.role]
        status, _, size = timed_gets(client, path, 0, args.warmup)
        # statements of one steady-state request (after the warm-up: a page's first request
        # may also count the menu's badges or record the session as seen)
        before = st.counter.n
        client.get(path)
        queries = st.counter.n - before
        if status != 200:
            log(f"  {page.name} @{st.bdb.scale}: n/a (HTTP {status} on {path})")
            st.out["pages"][page.name] = {"status": f"n/a: HTTP {status}", "path": path}
            continue
        floor_path = f"/floor/{page.floor}/"
        fstatus, _, _ = timed_gets(st.floor, floor_path, 0, args.warmup)
        st.out["pages"][page.name] = {
            "status": "ok",
            "path": path,
            "bytes": size,
            "queries": queries,
            "_floor_ok": fstatus == 200,
        }
        live.append((st, client, path, floor_path))
    samples: dict[int, tuple[list[float], list[float]]] = {id(st): ([], []) for st, *_ in live}
    cpu: dict[int, tuple[list[float], list[float]]] = {id(st): ([], []) for st, *_ in live}
    for _ in range(args.requests):
        for st, client, path, floor_path in live:
            mine, floor = samples[id(st)]
            c0 = time.thread_time()
            t0 = time.perf_counter()
            r = client.get(path)
            mine.append(time.perf_counter() - t0)
            cpu[id(st)][0].append(time.thread_time() - c0)
            if r.status_code != 200:
                raise RuntimeError(f"{path} answered {r.status_code} during the run")
            if st.out["pages"][page.name]["_floor_ok"]:
                c0 = time.thread_time()
                t0 = time.perf_counter()
                st.floor.get(floor_path)
                floor.append(time.perf_counter() - t0)
                cpu[id(st)][1].append(time.thread_time() - c0)
    for st, *_ in live:
        res = st.out["pages"][page.name]
        mine, floor = samples[id(st)]
        res["latency"] = summarize(mine)
        # CPU time of the app process per request: independent of what else the machine
        # runs (excludes the database server's own time).
        res["app_cpu_ms_p50"] = round(pct(cpu[id(st)][0], 50) * 1000, 2)
        res["floor_cpu_ms_p50"] = (
            round(pct(cpu[id(st)][1], 50) * 1000, 2) if cpu[id(st)][1] else None
        )
        res["floor"] = summarize(floor) if res.pop("_floor_ok") else {"status": "error"}
        if res["floor"].get("p95"):
            res["ratio_p95_vs_floor"] = round(res["latency"]["p95"] / res["floor"]["p95"], 2)
        lat = res["latency"]
        log(
            f"  {page.name} @{st.bdb.scale}: p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms, "
            f"{res['queries']} queries, app CPU p50 {res['app_cpu_ms_p50']} ms; floor p95 "
            f"{res['floor'].get('p95')} ms (CPU {res['floor_cpu_ms_p50']} ms)"
        )


# ----------------------------------------------------------------------------- report


def machine() -> dict:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "loadavg": os.getloadavg(),
    }
    with contextlib.suppress(OSError):
        cpu = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpu)
        info["cpu"] = m.group(1) if m else ""
        mem = Path("/proc/meminfo").read_text()
        info["mem_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 1024 / 1024, 1)  # type: ignore[union-attr]
    with contextlib.suppress(Exception):
        e = sa.create_engine(PG_ADMIN)
        with e.connect() as c:
            info["postgresql"] = c.exec_driver_sql("SHOW server_version").scalar()
        e.dispose()
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    return info


def summary_md(report: dict) -> str:
    lines = [
        f"Run {report['started']} – {report['finished']}, `{report['command']}`",
        "",
        f"Machine: {report['machine'].get('cpu', '?')}, {report['machine']['cores']} cores, "
        f"{report['machine'].get('mem_gb', '?')} GB, Python {report['machine']['python']}, "
        f"PostgreSQL {report['machine'].get('postgresql', '?')}, SQLite {report['machine']['sqlite']}; "
        f"load average at start {tuple(round(x, 1) for x in report['machine']['loadavg'])}",
        "",
    ]
    runs = {(r["backend"], r["scale"]): r for r in report["runs"]}
    scales = sorted({r["scale"] for r in report["runs"]})
    for backend in ("sqlite", "postgres"):
        present = [s for s in scales if (backend, s) in runs]
        if not present:
            continue
        small, big = present[0], present[-1]
        lines.append(f"### {backend} ({', '.join(str(s) for s in present)} districts)")
        lines.append("")
        head = "| page | " + " | ".join(f"p50 / p95 / p99 ms @{s}" for s in present)
        head += (
            f" | floor p95 @{big} | ×floor @{big} | p95 {big}/{small} | queries |"
            f" app CPU ms p50 @{big} (floor) |"
        )
        lines.append(head)
        lines.append("|" + "---|" * (len(present) + 6))
        for page in PAGES:
            cells = []
            for s in present:
                p = runs[(backend, s)]["pages"].get(page.name, {})
                if p.get("status") == "ok":
                    lat = p["latency"]
                    cells.append(f"{lat['p50']} / {lat['p95']} / {lat['p99']}")
                else:
                    cells.append(p.get("status", "–"))
            pb = runs[(backend, big)]["pages"].get(page.name, {})
            ps = runs[(backend, small)]["pages"].get(page.name, {})
            if pb.get("status") == "ok":
                floor = pb["floor"].get("p95", "–")
                ratio = pb.get("ratio_p95_vs_floor", "–")
                growth = (
                    round(pb["latency"]["p95"] / ps["latency"]["p95"], 2)
                    if ps.get("status") == "ok" and big != small
                    else "–"
                )
                queries = pb["queries"]
                cpu = f"{pb.get('app_cpu_ms_p50')} ({pb.get('floor_cpu_ms_p50')})"
            else:
                floor = ratio = growth = queries = cpu = "–"
            lines.append(
                f"| {page.name} | "
                + " | ".join(cells)
                + f" | {floor} | {ratio} | {growth} | {queries} | {cpu} |"
            )
        lines.append("")
        for s in present:
            r = runs[(backend, s)]
            v, w = r.get("verify"), r.get("write")
            if v:
                lines.append(
                    f"- @{s}: audit verify {v['chains']} of {v.get('of_chains', v['chains'])} chains, {v['events']:,} events in {v['seconds']} s = "
                    f"**{v['events_per_s']:,} events/s** (all ok: {v['all_ok']})"
                )
            if w:
                lines.append(
                    f"- @{s}: write ({w['kind']}): p50 {w['with_capture']['p50']} ms with capture, "
                    f"{w['without_capture']['p50']} ms without → capture adds **{w['overhead_p50']:.0%}** "
                    f"(mean {w['overhead_mean']:.0%})"
                )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--scales", default="10,2800")
    ap.add_argument("--requests", type=int, default=200, help="timed requests per page")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--write-requests", type=int, default=100)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument(
        "--verify-sample",
        type=int,
        default=100,
        help="chains verified for the throughput figure (0: all; 2,800 districts = 5.7 M events)",
    )
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--no-seed", action="store_true", help="use the databases as they are")
    ap.add_argument(
        "--pages", default="", help="only pages whose name contains one of these (comma list)"
    )
    args = ap.parse_args()
    os.environ.setdefault("PORTAL_SECRET_KEY", "bench")
    os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_file = (RESULTS / "run.log").open("a")

    def log(msg: str) -> None:
        line = f"{dt.datetime.now(dt.UTC):%H:%M:%S} {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    report: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python bench/run.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "runs": [],
    }
    for backend in args.backends.split(","):
        dbs = [BenchDB(backend, int(x)) for x in args.scales.split(",")]
        for bdb in dbs:
            log(f"{backend} @ {bdb.scale} districts ({bdb.name})")
            if not args.no_seed:
                seconds = bdb.ensure(log)
                log(f"  database ready ({seconds:.0f}s)")
        report["runs"] += measure_backend(dbs, args, log)
        (RESULTS / "latest.json").write_text(json.dumps(report, indent=1, default=str))
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(report, indent=1, default=str))
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=1, default=str))
    md = summary_md(report)
    (RESULTS / "summary.md").write_text(md)
    print(md)


if __name__ == "__main__":
    _ = uuid
    main()
