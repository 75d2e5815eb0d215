"""Fault drill: restart PostgreSQL during a write load; no acknowledged write is lost or doubled.

The drill owns its database server, so it never touches a shared one: it makes a private
cluster (`initdb` of the system binaries into a temporary directory, trust auth, a free
port on 127.0.0.1), migrates it, onboards one district from `tenants/kaifeng.yaml`, and
signs its lead in from several threads. Each thread then creates joint meetings through
the app's own create form (Flask test client: sign-in, CSRF, scoping, RLS as the
non-owner role, the unit of work, the audit capture, the idempotency key) while the
server is restarted (`pg_ctl restart -m fast`, or `-m immediate`: no checkpoint, the WAL
is replayed).

A write is *acknowledged* when the app answered it with its redirect to the new meeting.
Anything else (the 503 page of an outage, a connection error, a 409 numbering clash) is
not, and the writer sends the same form again with the same `request_key`, as a browser's
retry would, until it is acknowledged or the drill gives up. Afterwards, read as the
schema owner:

- every acknowledged key has exactly one meeting; no meeting exists for a key never sent;
- every meeting is whole (its invitations, its minutes) and has exactly one `create`
  audit event, and every such event has its meeting (nothing half-written, acknowledged
  or not);
- every audit chain verifies (`portal.audit.verify.verify_chains`, what
  `portal audit verify` runs);
- the outage was really hit (some attempts were refused) and the app recovered by itself
  (writes were acknowledged after the restart).

    PYTHONPATH=$PWD .venv/bin/python -m bench.fault_restart --seconds 20 --threads 6 --restarts 3
    PYTHONPATH=$PWD .venv/bin/python -m bench.fault_restart --mode immediate

`tests/shell/test_fault_restart.py` runs a short version in CI (PostgreSQL run).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import glob
import logging
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.dbsetup import free_port, portal_env, spawn

ROOT = Path(__file__).resolve().parent.parent
APP_ROLE = "portal_app"
SLUG = "fault"
LEAD = "fault-lead"
PASSWORD = "Drill-7q!Rk2-wz9Lp"  # a throwaway cluster's throwaway account
# The register's key for a throwaway database (production refuses to start without one).
PII_KEY = "k1:" + "ZmF1bHQtZHJpbGwtb25seS1rZXktMzItYnl0ZXMhISE="


# -- a private PostgreSQL cluster -----------------------------------------------------------


def find_bindir() -> Path | None:
    """The server binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


@dataclasses.dataclass
class Cluster:
    """A throwaway server: its binaries, data directory, port and the OS user it runs as."""

    bindir: Path
    home: Path
    port: int
    os_user: str | None  # PostgreSQL refuses to run as root: then as this user

    @property
    def data(self) -> Path:
        return self.home / "data"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs: dict[str, Any] = {}
        if self.os_user:
            kwargs["user"] = self.os_user
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            cwd=self.home,
            **kwargs,
        )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} "
            "-c max_connections=60 -c shared_buffers=32MB"
        )

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.home / "server.log"), "-w",
            "-o", self._options(), "start",
        )  # fmt: skip

    def restart(self, mode: str = "fast") -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.home / "server.log"), "-w",
            "-m", mode, "-o", self._options(), "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"


@contextmanager
def private_cluster(bindir: Path | None = None) -> Iterator[Cluster]:
    """initdb + start on a free port; stopped and removed afterwards, whatever happens."""
    bindir = bindir or find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found")
    home = Path(tempfile.mkdtemp(prefix="portal-fault-"))
    os_user = None
    if os.geteuid() == 0:  # initdb and postgres refuse root: run them as an ordinary user
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            os_user = name
            os.chown(home, entry.pw_uid, entry.pw_gid)
            break
        else:
            raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run as")
    cluster = Cluster(bindir, home, free_port(), os_user)
    started = False
    try:
        cluster.init()
        cluster.start()
        started = True
        yield cluster
    finally:
        if started:
            with suppress(OSError, subprocess.SubprocessError):
                cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


# -- the district, its lead and the app -------------------------------------------------------


def start_migration(cluster: Cluster) -> tuple[subprocess.Popen, str, str]:
    """Create database `portal` and start migrating it (`flask db upgrade heads` as the
    owner, in a child process so the app can be built meanwhile).

    Returns (the migration process, app URL, owner URL); see `finish_migration`."""
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql('CREATE DATABASE "portal"')
    admin.dispose()
    owner = cluster.url(database="portal")
    app_url = cluster.url(user=APP_ROLE, database="portal")
    pii_key = os.environ.get("PORTAL_PII_KEY", PII_KEY)
    env = portal_env(app_url, owner, secret="fault-drill", fast_hash=None, PORTAL_PII_KEY=pii_key)
    upgrade = ["-m", "flask", "db", "upgrade", "heads"]
    process = spawn(upgrade, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, app_url, owner


def clone_schema(cluster: Cluster, source_owner_url: str) -> tuple[str, str]:
    """Database `portal` as a copy of an already migrated, empty database (`pg_dump |
    psql` with the cluster's own binaries): what the test suite uses, since its shared
    server holds such a database anyway and this is much cheaper than migrating again.

    Returns (app URL, owner URL)."""
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(
            f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
        )
        c.exec_driver_sql('CREATE DATABASE "portal"')
    admin.dispose()
    libpq = sa.engine.make_url(source_owner_url).set(drivername="postgresql")
    owner = cluster.url(database="portal")
    dump = subprocess.run(
        [str(cluster.bindir / "pg_dump"), "--dbname", libpq.render_as_string(False)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    target = sa.engine.make_url(owner).set(drivername="postgresql").render_as_string(False)
    subprocess.run(
        [str(cluster.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "--dbname", target],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return cluster.url(user=APP_ROLE, database="portal"), owner


def finish_migration(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=300)
    if process.returncode:
        raise RuntimeError(f"migration failed:\n{err[-3000:]}")


def make_app(app_url: str, owner_url: str):  # type: ignore[no-untyped-def]
    from portal import create_app

    os.environ.setdefault("PORTAL_PII_KEY", PII_KEY)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app_url,
            "DATABASE_OWNER_URL": owner_url,
            "SECRET_KEY": "fault-drill",
            "AUDIT_KEY": "fault-drill-audit-key",
            "RATELIMIT_ENABLED": False,
            # The production engine set-up (portal.db.configure_postgresql: the pool's
            # checkout check) stays as it is: the drill checks the app recovers with it.
        }
    )


def onboard(app) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """One district from the Kaifeng file, its lead with a known password.

    Returns three department ids to invite and a meeting date (ISO) six weeks ahead."""
    from portal.audit.trail import as_system
    from portal.auth.models import User
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.kernel.clock import today
    from portal.kernel.uow import cli_transaction
    from portal.platform import onboarding
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    text = (ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8")
    with app.app_context(), as_system("fault drill"):
        with cli_transaction():
            result = onboarding.onboard(text, SLUG, LEAD)
        with cli_transaction(), scope.cross_tenant("fault drill"):
            lead = db.session.execute(sa.select(User).filter_by(username=LEAD)).scalar_one()
            lead.password_hash = hash_password(PASSWORD)
            lead.must_change_password = False
        with scope.tenant_scope(result.tenant.id):
            ids = db.session.execute(sa.select(Department.id).order_by(Department.key)).scalars()
            day = (today() + dt.timedelta(days=40)).isoformat()
            return [str(i) for i in ids][:3], day


# -- the writers ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Tally:
    sent: set[str] = dataclasses.field(default_factory=set)  # every key ever sent
    acked: dict[str, float] = dataclasses.field(default_factory=dict)  # key → when
    given_up: set[str] = dataclasses.field(default_factory=set)
    refused: dict[str, int] = dataclasses.field(default_factory=dict)  # why → how many
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def refuse(self, why: str) -> None:
        with self.lock:
            self.refused[why] = self.refused.get(why, 0) + 1


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return found.group(1) if found else ""


def signed_in_client(app):  # type: ignore[no-untyped-def]
    """A test client signed in as the district's lead, with the create form's CSRF token."""
    client = app.test_client()
    for _ in range(20):
        token = _token(client.get("/login").get_data(as_text=True))
        r = client.post(
            "/login", data={"username": LEAD, "password": PASSWORD, "csrf_token": token}
        )
        if r.status_code == 302:
            break
        time.sleep(0.2)  # the hashing gate said busy: sign in again
    else:
        raise RuntimeError(f"{LEAD} could not sign in")
    page = client.get(f"/t/{SLUG}/meetings/new").get_data(as_text=True)
    return client, _token(page)


def writer(
    client: Any,
    token: str,
    invite: tuple[list[str], str],
    tally: Tally,
    stop: float,
    give_up: float,
) -> None:
    """Create meetings until `stop`; retry each unacknowledged one with its own key."""
    departments, day = invite
    while time.monotonic() < stop:
        key = uuid.uuid4().hex
        form = {
            "csrf_token": token,
            "kind": "ad_hoc",
            "title": f"故障演练 {key[:12]}",
            "meeting_date": day,
            "departments": departments,
            "request_key": key,
        }
        with tally.lock:
            tally.sent.add(key)
        while True:
            try:
                r = client.post(f"/t/{SLUG}/meetings/new", data=form)
                status = r.status_code
                location = r.headers.get("Location", "")
            except Exception as e:  # noqa: BLE001 — any failure is "not acknowledged"
                status, location = 0, type(e).__name__
            if status == 302 and "/meetings/" in location:
                with tally.lock:
                    tally.acked[key] = time.monotonic()
                break
            tally.refuse(str(status) if status else location)
            if time.monotonic() > give_up:
                with tally.lock:
                    tally.given_up.add(key)
                break
            time.sleep(0.05)


# -- the checks -----------------------------------------------------------------------------------


def check(owner_url: str, tally: Tally) -> list[str]:
    """What must hold after the fault; each broken rule is one line."""
    from portal.audit.verify import verify_chains

    problems: list[str] = []
    engine = sa.create_engine(owner_url)
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT m.id, m.request_key,"
                " (SELECT count(*) FROM meeting_invitations i WHERE i.meeting_id = m.id),"
                " (SELECT count(*) FROM meeting_minutes n WHERE n.meeting_id = m.id),"
                " (SELECT count(*) FROM audit_events a WHERE a.tenant_id = m.tenant_id"
                "   AND a.entity_type = 'Meeting' AND a.entity_id = CAST(m.id AS text)"
                "   AND a.action = 'create')"
                " FROM meetings m"
            )
        ).all()
        orphan_events = c.execute(
            sa.text(
                "SELECT count(*) FROM audit_events a WHERE a.entity_type = 'Meeting'"
                " AND a.action = 'create' AND NOT EXISTS"
                " (SELECT 1 FROM meetings m WHERE CAST(m.id AS text) = a.entity_id)"
            )
        ).scalar_one()
    per_key: dict[str, int] = {}
    for meeting_id, key, invitations, minutes, events in rows:
        per_key[key] = per_key.get(key, 0) + 1
        if key not in tally.sent:
            problems.append(f"meeting {meeting_id} has a key no writer sent")
        if not invitations or minutes != 1:
            problems.append(f"meeting {meeting_id} is half-written ({invitations} inv., {minutes})")
        if events != 1:
            problems.append(f"meeting {meeting_id} has {events} create events (expected 1)")
    for key in tally.acked:
        if per_key.get(key, 0) != 1:
            problems.append(f"acknowledged write {key} is present {per_key.get(key, 0)} times")
    if orphan_events:
        problems.append(f"{orphan_events} create events without their meeting")
    for result in verify_chains(engine):
        if not result.ok:
            problems.append(f"audit chain {result.tenant_id} broken at {result.first_bad_seq}")
    engine.dispose()
    return problems


@dataclasses.dataclass
class Report:
    acknowledged: int
    after_restart: int
    given_up: int
    refused: dict[str, int]
    present: int
    restart_seconds: list[float]
    problems: list[str]
    seconds: float
    phases: dict[str, float] = dataclasses.field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"acknowledged writes: {self.acknowledged} ({self.after_restart} after the last "
            f"restart), given up: {self.given_up}, meetings present: {self.present}",
            f"refused attempts by answer: {self.refused}",
            f"restarts took: {', '.join(f'{s:.2f} s' for s in self.restart_seconds)}",
            f"drill: {self.seconds:.1f} s ("
            + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())
            + f"); problems: {len(self.problems)}",
            *self.problems,
        ]


def drill(
    seconds: float = 4.0,
    threads: int = 4,
    restarts: int = 1,
    mode: str = "fast",
    schema_from: str | None = None,
) -> Report:
    """Run the whole drill on a private cluster and return what was seen.

    `schema_from`: the owner URL of a migrated, empty database to copy the schema from
    (else the migrations run on the private cluster)."""
    begun = time.monotonic()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        phases[name] = time.monotonic() - begun - sum(phases.values())

    with private_cluster() as cluster:
        lap("cluster")
        if schema_from:
            app_url, owner_url = clone_schema(cluster, schema_from)
            lap("schema")
            app = make_app(app_url, owner_url)
            lap("app")
        else:
            migration, app_url, owner_url = start_migration(cluster)
            app = make_app(app_url, owner_url)
            finish_migration(migration)
            lap("app+migrations")
        # Outages are logged as errors by the app (portal.web); here they are the point.
        app.logger.setLevel(logging.CRITICAL)
        invite = onboard(app)
        clients = [signed_in_client(app) for _ in range(threads)]
        lap("onboard+sign-in")
        tally = Tally()
        start = time.monotonic()
        stop = start + seconds
        give_up = stop + 15
        workers = [
            threading.Thread(target=writer, args=(c, t, invite, tally, stop, give_up), daemon=True)
            for c, t in clients
        ]
        for w in workers:
            w.start()
        took: list[float] = []
        last_up = start
        for i in range(restarts):
            # spread the restarts over the load, leaving load after the last one
            time.sleep(max(0.0, start + seconds * (i + 1) / (restarts + 1) - time.monotonic()))
            t0 = time.monotonic()
            cluster.restart(mode)
            last_up = time.monotonic()
            took.append(last_up - t0)
        for w in workers:
            w.join(timeout=give_up - time.monotonic() + 5)
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose()
        lap("load")
        problems = check(owner_url, tally)
        if restarts and not tally.refused:
            problems.append("no attempt was refused: the restart did not hit the load")
        after = sum(1 for t in tally.acked.values() if t > last_up)
        if restarts and not after:
            problems.append("nothing was acknowledged after the restart: the app did not recover")
        engine = sa.create_engine(owner_url)
        with engine.connect() as c:
            present = c.execute(sa.text("SELECT count(*) FROM meetings")).scalar_one()
        engine.dispose()
        return Report(
            acknowledged=len(tally.acked),
            after_restart=after,
            given_up=len(tally.given_up),
            refused=dict(tally.refused),
            present=present,
            restart_seconds=took,
            problems=problems,
            seconds=time.monotonic() - begun,
            phases=phases,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the write load")
    parser.add_argument("--threads", type=int, default=6, help="concurrent writers")
    parser.add_argument("--restarts", type=int, default=3, help="server restarts during it")
    parser.add_argument("--mode", choices=("fast", "immediate"), default="fast")
    parser.add_argument(
        "--schema-from",
        metavar="URL",
        help="copy the schema of this migrated, empty database instead of migrating",
    )
    args = parser.parse_args(argv)
    report = drill(args.seconds, args.threads, args.restarts, args.mode, args.schema_from)
    print("\n".join(report.lines()))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
