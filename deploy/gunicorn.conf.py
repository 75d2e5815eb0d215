"""gunicorn settings, sized by cores.

The portal is a synchronous Flask app whose requests mostly wait on PostgreSQL, so we
run `cores + 1` worker processes (CPU-bound Python work is spread over all cores) with
4 threads each (overlap the database waits). Fewer processes than gunicorn's usual
`2 × cores + 1`, with more threads: each worker keeps its own short-lived answers
(`portal.kernel.memo`: menus, badges, home panels, per user, 10 s), and the fewer the
processes, the more often a user's next page lands where they are kept. Measured at 400
users, read-only, 2 cores: 5 × 2 served 178 req/s, 3 × 4 231, 2 × 6 220
(docs/performance.md, eleventh session). Every setting can be overridden from the
environment, which is how tests and the load test run it:

| variable | default | meaning |
|---|---|---|
| PORTAL_BIND | 127.0.0.1:8000 | listen address (nginx proxies to it); `--bind` wins |
| PORTAL_WORKERS | cores + 1 | worker processes |
| PORTAL_THREADS | 4 | threads per worker (gthread) |
| PORTAL_ACCESS_LOG | - (stdout, i.e. the journal) | access log file; `/dev/null` to drop |
| PORTAL_ERROR_LOG | - | error log file |
| PORTAL_TIMEOUT | 60 | seconds before a stuck worker is restarted |
| PORTAL_MAX_REQUESTS | 20000 | recycle a worker after this many requests (± 10 % jitter; see below) |
| PORTAL_FORWARDED_ALLOW_IPS | 127.0.0.1 | proxies whose X-Forwarded-Proto gunicorn trusts (the client address is the app's: PORTAL_TRUSTED_PROXIES) |
| PORTAL_CONTROL_SOCKET | `$RUNTIME_DIRECTORY` (systemd), else `$XDG_RUNTIME_DIR`, else `instance/`, + `/gunicorn-<bind>.ctl` | this instance's `gunicornc` socket |

Control socket: gunicorn ≥ 25 opens one at `~/.gunicorn/gunicorn.ctl` by default, shared by
every instance of one user, so starting a second instance (a canary on another port, a
test run) replaced the first one's socket and stopping it removed it. Each instance gets
its own path, derived from its bind address.

Database connections: each worker holds its own SQLAlchemy pool (5 + 10 overflow), so
one app server opens at most workers × 15 connections; put pgbouncer (transaction
mode) between many app servers and PostgreSQL (see deploy/README.md).
"""

import multiprocessing
import os
import re

_cores = multiprocessing.cpu_count()

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", _cores + 1))
threads = int(os.environ.get("PORTAL_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("PORTAL_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
backlog = 2048
# Recycling bounds a slow leak; it is not free: a new worker loads the whole app (about
# 2 s of CPU) and starts with cold caches. At 2000, under a saturating load (200 users on
# 2 cores, some 21 requests a second per worker) every worker was replaced every ~95 s,
# start-ups took 14 % of the workers' profile samples, and the read-only mix served
# 90.9 req/s against 108–111 at 20000 (docs/performance.md, tenth session). A worker
# held 190–200 MB after ~3,000 requests.
max_requests = int(os.environ.get("PORTAL_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10
# Heartbeat files on tmpfs: a slow disk must not make the arbiter kill healthy workers.
_shm = "/dev/shm"  # noqa: S108 - gunicorn heartbeat files, not user data
worker_tmp_dir = _shm if os.path.isdir(_shm) else None
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
errorlog = os.environ.get("PORTAL_ERROR_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips


def _control_socket(bind_address: str) -> str:
    """One control socket per instance: named after the bind address, in the service's
    runtime directory (systemd `RuntimeDirectory=portal`), never the shared default."""
    explicit = os.environ.get("PORTAL_CONTROL_SOCKET")
    if explicit:
        return explicit
    directory = (
        os.environ.get("RUNTIME_DIRECTORY")
        or os.environ.get("XDG_RUNTIME_DIR")
        or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance")
    )
    os.makedirs(directory, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9]+", "-", bind_address).strip("-") or "default"
    return os.path.join(directory.split(":")[0], f"gunicorn-{name}.ctl")


control_socket = _control_socket(bind)
control_socket_mode = 0o600
# Each worker builds its own app (and its own connection pool): no pool is ever shared
# across fork, and a code reload only needs a HUP.
preload_app = False


def _share_memo_stamps() -> None:
    """The table of stamps the workers share (`portal.kernel.memo`): made here, in the
    master, so that every worker, respawned ones too, inherits the descriptor named in
    PORTAL_MEMO_FD; a write one worker commits then drops the others' kept answers at
    once. Where memfd is missing each worker keeps its own stamps."""
    if "PORTAL_MEMO_FD" in os.environ or not hasattr(os, "memfd_create"):
        return
    fd = os.memfd_create("portal-memo-stamps", 0)  # no CLOEXEC: workers are forked
    os.ftruncate(fd, 1 << 19)  # memo._SLOTS stamps of 8 bytes
    os.environ["PORTAL_MEMO_FD"] = str(fd)


_share_memo_stamps()


def post_worker_init(worker: object) -> None:
    """The worker has loaded the app: move start-up objects (models, templates, catalogs)
    out of the garbage collector's sight, so its full passes during requests stay short."""
    import gc

    gc.collect()
    gc.freeze()
