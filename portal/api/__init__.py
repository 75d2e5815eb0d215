"""JSON API under /api/v1/: personal access tokens, the same scoping as the UI.

Domain modules add their endpoints to `bp` (see `portal/api/core.py` for the pattern):
authentication, tenant scope, audit actor and JSON errors are handled here once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, g, jsonify, request

from portal.audit import trail
from portal.auth.models import Role
from portal.auth.services import user_for_token
from portal.extensions import csrf, db, login_manager
from portal.kernel.grants import can
from portal.kernel.inputs import page_number
from portal.kernel.rules import RuleError
from portal.tenancy import scope

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message

    @classmethod
    def from_rule(cls, e: RuleError) -> ApiError:
        """A service's rule error as a JSON error; the transaction is rolled back first."""
        db.session.rollback()
        message = f"{e.field}: {e.message}" if e.field else str(e.message)
        return cls(e.status, e.code, message)


@bp.errorhandler(ApiError)
def _api_error(e: ApiError) -> Any:
    return jsonify({"error": {"code": e.code, "message": e.message}}), e.status


@bp.errorhandler(RuleError)
def _rule_error(e: RuleError) -> Any:
    """Any service's broken rule, for every endpoint: roll back and answer in JSON."""
    db.session.rollback()
    message = f"{e.field}: {e.message}" if e.field else str(e.message)
    return jsonify({"error": {"code": e.code, "message": message}}), e.status


@bp.before_request
def authenticate() -> None:
    """Bearer token → user → tenant (and department) scope for this request."""
    from flask_babel import gettext as _

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise ApiError(
            401,
            "unauthenticated",
            _("A personal access token is required (Authorization: Bearer …)."),
        )
    user = user_for_token(header[7:].strip())
    if user is None:
        raise ApiError(401, "invalid_token", _("The token is invalid, expired or revoked."))
    # The user of this request only: no session is created, read or refreshed (see
    # `portal.web.PortalSessionInterface`), so nothing outlives the token.
    login_manager._update_request_context_with_user(user)
    g.api_user = user
    trail.set_actor(
        trail.with_actor(
            trail.current_actor(), id=user.id, name=user.username, role=user.role.value
        )
    )
    if user.tenant_id is not None:
        g.tenant = user.tenant
        g.scope_token = scope.set_scope(
            scope.Scope(
                tenant_id=user.tenant_id,
                department_id=user.department_id if user.role == Role.dept_officer else None,
                read_only=user.role == Role.auditor,
                user_id=user.id,
                role=user.role.value,
            )
        )


def api_requires(action: str) -> Callable:
    """403 unless the token's user holds `action` (records out of scope still answer 404)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flask_babel import gettext as _

            if not can(g.api_user, action):
                raise ApiError(403, "forbidden", _("You do not have permission to do this."))
            return view(*args, **kwargs)

        wrapper.required_permission = action  # type: ignore[attr-defined]
        return wrapper

    return decorator


def paginate(select: Any, serialize: Callable[[Any], dict]) -> Any:
    """`?page=&per_page=` (max 100) → {"items", "page", "per_page", "total"}."""
    import sqlalchemy as sa

    from portal.extensions import db

    page, per_page = page_args()
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(select.order_by(None).subquery())
    ).scalar_one()
    rows = (
        db.session.execute(select.limit(per_page).offset((page - 1) * per_page))
        .unique()
        .scalars()
        .all()
    )
    return jsonify(
        {"items": [serialize(r) for r in rows], "page": page, "per_page": per_page, "total": total}
    )


def page_args() -> tuple[int, int]:
    """`?page=&per_page=` as whole numbers: 400 for junk, huge pages clamped (empty page)."""
    from flask_babel import gettext as _

    for name in ("page", "per_page"):
        raw = request.args.get(name, "").strip()
        if raw and not raw.lstrip("-").isdigit():
            raise ApiError(400, "bad_pagination", _("page and per_page must be whole numbers."))
    page = page_number(request.args.get("page"))
    per_page = page_number(request.args.get("per_page"), default=50, maximum=100)
    return page, per_page


def get_or_404(model: Any, ident: Any) -> Any:
    """Fetch by id through the scoped session; out of scope looks exactly like missing."""
    row = scope.get_scoped(model, ident)
    if row is None:
        abort(404)
    return row


def iso(value: Any) -> str | None:
    """A date or time as JSON carries it (ISO 8601); None stays null."""
    return value.isoformat() if value is not None else None


def json_body() -> dict:
    from flask_babel import gettext as _

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", _("The request body must be a JSON object."))
    return data


def init_app(app: Any) -> None:
    """Register the blueprint; the web shell has imported every domain's `api` module first
    (importing one registers its endpoints on `bp`)."""
    from portal.api import core  # noqa: F401  - registers endpoints

    app.register_blueprint(bp)
