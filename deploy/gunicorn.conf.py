"""gunicorn settings, sized by cores.

The portal is a synchronous Flask app whose requests mostly wait on PostgreSQL, so we
run `2 × cores + 1` worker processes (CPU-bound Python work is spread over all cores)
with a few threads each (overlap the database waits). Every setting can be overridden
from the environment, which is how tests and the load test run it:

| variable | default | meaning |
|---|---|---|
| PORTAL_BIND | 127.0.0.1:8000 | listen address (nginx proxies to it); `--bind` wins |
| PORTAL_WORKERS | 2 × cores + 1 | worker processes |
| PORTAL_THREADS | 2 | threads per worker (gthread) |
| PORTAL_ACCESS_LOG | - (stdout, i.e. the journal) | access log file; `/dev/null` to drop |
| PORTAL_ERROR_LOG | - | error log file |
| PORTAL_TIMEOUT | 60 | seconds before a stuck worker is restarted |
| PORTAL_MAX_REQUESTS | 2000 | recycle a worker after this many requests (± jitter) |
| PORTAL_FORWARDED_ALLOW_IPS | 127.0.0.1 | proxies whose X-Forwarded-* headers are trusted |

Database connections: each worker holds its own SQLAlchemy pool (5 + 10 overflow), so
one app server opens at most workers × 15 connections; put pgbouncer (transaction
mode) between many app servers and PostgreSQL (see deploy/README.md).
"""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", _cores * 2 + 1))
threads = int(os.environ.get("PORTAL_THREADS", 2))
worker_class = "gthread"
timeout = int(os.environ.get("PORTAL_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
backlog = 2048
max_requests = int(os.environ.get("PORTAL_MAX_REQUESTS", 2000))
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
# Each worker builds its own app (and its own connection pool): no pool is ever shared
# across fork, and a code reload only needs a HUP.
preload_app = False


def post_worker_init(worker: object) -> None:
    """The worker has loaded the app: move start-up objects (models, templates, catalogs)
    out of the garbage collector's sight, so its full passes during requests stay short."""
    import gc

    gc.collect()
    gc.freeze()
