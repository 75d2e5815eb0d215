"""The domain modules, in load order, and the hooks each may provide.

A domain is a package `portal/<name>/`. Each hook is an optional submodule, found by
name, so adding a domain never means editing the app factory, the CLI or the demo:

- `models`  imported so the mapper registry (and Alembic) sees its tables
- `views`   a `bp` blueprint registered on the app, and/or `init_app(app)`
- `api`     imported before the `/api/v1` blueprint is registered (routes on `api.bp`)
- `cli`     `register_cli(app)` adds its `flask`/`portal` commands
- `signals` its receivers of `portal.kernel.signals` (connected when imported, by
            `portal.models`)
- `demo`    `load_demo(tenant, policy_data)` runs inside the tenant's scope after the
            base demo (departments and users) for each seed district, in domain order
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from importlib.util import find_spec
from types import ModuleType

DOMAINS = (
    "tenancy",
    "auth",
    "audit",
    "policy",
    "duties",
    "register",
    "benefits",
    "care",
    "meetings",
    "messages",
    "platform",
    "admin",
    "workspace",
)


def modules(hook: str) -> Iterator[ModuleType]:
    """Each domain's `portal.<domain>.<hook>` module that exists, in domain order."""
    for name in DOMAINS:
        qualified = f"portal.{name}.{hook}"
        if find_spec(f"portal.{name}") is not None and find_spec(qualified) is not None:
            yield importlib.import_module(qualified)
