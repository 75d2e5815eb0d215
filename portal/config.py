"""Configuration from environment variables (all prefixed PORTAL_)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PORTAL_{name}", default)


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    instance = Path(instance_path)
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"
    secret_key = _env("SECRET_KEY")
    if not secret_key:
        # A fixed key is needed across gunicorn workers; keep a generated one in instance/.
        key_file = instance / "secret_key"
        instance.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        secret_key = key_file.read_text().strip()
    config: dict = {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pool_pre_ping: portal.db.configure_postgresql checks a pooled connection at
        # checkout without a round trip.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "UPLOAD_DIR": _env("UPLOAD_DIR") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "AUDIT_KEY": _env("AUDIT_KEY"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env("SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _env("SECURE_COOKIES", "0") == "1",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(_env("IDLE_TIMEOUT_MIN", "30"))),
        "SESSION_REFRESH_EACH_REQUEST": False,  # the cookie is re-sent when "seen" moves (once a minute)
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        # Sign-in throttle (portal.auth.throttle): free failures, then doubling delays.
        "LOGIN_FREE_FAILURES": int(_env("LOGIN_FREE_FAILURES", "3")),
        "LOGIN_MAX_DELAY_SECONDS": int(_env("LOGIN_MAX_DELAY_SECONDS", "900")),
        "LOGIN_ACCOUNT_FREE_FAILURES": int(_env("LOGIN_ACCOUNT_FREE_FAILURES", "10")),
        "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": int(_env("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", "60")),
        "RATELIMIT_LOGIN": _env("RATELIMIT_LOGIN", "30 per minute"),
        # Per-address limiter store shared by the workers (portal.kernel.ratelimit).
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE")
        or _env("RATELIMIT_STORAGE_URI", "memory://"),
        # Password hashing (portal.auth.passwords): hashes at a time on the machine (empty:
        # cores − 1, at least 1), threads per worker busy with one (hashing or waiting), the wait,
        # the hashing helpers' niceness (0: none) and SCHED_IDLE (1: on), the Retry-After of a
        # refusal (that to twice that, seconds), the directory of the shared slot files, how
        # long a lowered hash may find no idle CPU before it is made at the worker's priority.
        "PASSWORD_HASH_CONCURRENCY": _env("PASSWORD_HASH_CONCURRENCY", ""),
        "PASSWORD_HASH_QUEUE": int(_env("PASSWORD_HASH_QUEUE", "1")),
        "PASSWORD_HASH_WAIT_SECONDS": float(_env("PASSWORD_HASH_WAIT_SECONDS", "10")),
        "PASSWORD_HASH_NICE": int(_env("PASSWORD_HASH_NICE", "19")),
        "PASSWORD_HASH_SCHED_IDLE": _env("PASSWORD_HASH_SCHED_IDLE", "1") == "1",
        "PASSWORD_HASH_RETRY_AFTER": int(_env("PASSWORD_HASH_RETRY_AFTER", "2")),
        "PASSWORD_HASH_IDLE_SECONDS": float(_env("PASSWORD_HASH_IDLE_SECONDS", "0.25")),
        "PASSWORD_HASH_LOCK_DIR": _env("PASSWORD_HASH_LOCK_DIR") or str(instance / "run"),
        "ARCHIVE_MAX_BYTES": int(_env("ARCHIVE_MAX_BYTES", str(2 * 1024**3))),
        "TRUSTED_PROXIES": _env("TRUSTED_PROXIES", ""),
        "PAGE_SIZE": 25,
        "FLASK_ADMIN_SWATCH": "cerulean",
    }
    if overrides:
        config.update(overrides)
    return config
