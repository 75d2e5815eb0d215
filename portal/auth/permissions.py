"""The one place that says what each role may do (DESIGN.md §3).

Views, the API and the CLI ask `can(user, action)` or use `@requires(action)`;
anything not granted is denied. Record-level scope (which tenant, which
department) is not decided here but by the ORM scoping hook.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from portal.kernel.grants import AUDITOR, GRANTS, LEAD, OFFICER, OPERATOR, can

__all__ = ["AUDITOR", "GRANTS", "LEAD", "OFFICER", "OPERATOR", "can", "requires"]


def requires(action: str, *, status: int = 403) -> Callable:
    """Deny with `status` unless the signed-in user's role holds `action`."""
    if action not in GRANTS:
        raise KeyError(f"unknown permission {action!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(status)
            return view(*args, **kwargs)

        wrapper.required_permission = action  # type: ignore[attr-defined]
        return wrapper

    return decorator
