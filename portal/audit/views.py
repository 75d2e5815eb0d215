"""The audit trail viewer: a district's events for leads and auditors, the history of one
record (officers: only their own department's records), the platform chain for operators,
and exports of a filtered view (themselves audited).

Other domains link a record to its history with the template global
`audit_history_url(obj)` or the macro `{% from "audit/_macros.html" import history_link %}
{{ history_link(obj) }}` (renders nothing for users who may not read it), or with
`url_for('audit.history', entity_type=…, entity_id=…)`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal import listing
from portal.audit import display, paging, services, vocabulary
from portal.audit.models import PLATFORM_CHAIN
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import downloads
from portal.kernel.grants import can, requires
from portal.kernel.inputs import bounded_int
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav

bp = Blueprint("audit", __name__, template_folder="templates")

register_nav(NavItem(_l("Audit trail"), "audit.events", "audit.read", order=80))
register_nav(NavItem(_l("Sign-in log"), "audit.logins", "audit.read", order=81))
register_nav(NavItem(_l("Audit trail"), "audit.platform_events", "platform.audit.read", order=80))

EXPORT_TYPES = ("csv", "xlsx", "jsonl")


def _cursor(name: str) -> int | None:
    return bounded_int(request.args.get(name))


#: The trail's sortable columns (list kit conventions: ?sort=, ?dir=desc, arrow in the
#: header); each sorts by an indexed column of `paging.SORTS`.
COLUMNS = [
    listing.Column("time", _l("Time"), lambda r: r.when, sort=paging.SORTS["time"]),
    listing.Column("actor", _l("Person"), lambda r: r.actor, sort=paging.SORTS["actor"]),
    listing.Column("action", _l("Action"), lambda r: r.action, sort=paging.SORTS["action"]),
    listing.Column(
        "record_type", _l("Record"), lambda r: r.record, sort=paging.SORTS["record_type"]
    ),
]


def _listing(f: services.EventFilter) -> listing.Listing:
    """The list kit's sort and page size; no sort chosen is the chain's own order, newest
    first (a sort key outside the whitelist is ignored, as on every list)."""
    lst = listing.Listing.from_request(
        request.endpoint or "audit.events", COLUMNS, keep=f.args(), default_size=paging.PAGE_SIZE
    )
    if not lst.sort:
        lst.sort, lst.desc = paging.DEFAULT_SORT, True
    return lst


def _list(chain: uuid.UUID, template: str, *, module: str = "", **extra: Any) -> Any:
    f = services.EventFilter.from_args(request.args)
    if module:
        f.module = module
    platform = chain == PLATFORM_CHAIN
    departments = services.department_names(None if platform else chain)
    lst = _listing(f)
    if f.errors:
        result = paging.Page([], None, None)
    else:
        window = paging.Window(
            _cursor("before"), _cursor("after"), lst.per_page, lst.sort, lst.desc
        )
        result = paging.page(services.filtered(chain, f), chain, window, total=True)
        lst.total = result.total
    rows = display.present(
        result.events,
        district=not platform,
        history_url=None if platform else _history_link,
        departments=departments,
    )
    return render_template(
        template,
        page=result,
        listing=lst,
        by_time=lst.sort == paging.DEFAULT_SORT and lst.desc,
        total_cap=paging.TOTAL_CAP,
        text_window=services.TEXT_WINDOW,
        rows=rows,
        f=f,
        departments=departments,
        modules=[(m.code, vocabulary.text(m.label)) for m in vocabulary.modules()],
        grouped_actions=vocabulary.grouped_actions(only=module),
        record_types=vocabulary.record_type_choices(),
        platform=platform,
        **extra,
    )


_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+$")  # needs no quoting in a URL


def _history_link(entity_type: str, entity_id: str) -> str:
    """The record's history page; built once per page of events (url_for per row was a
    tenth of the trail's time), the type and id put in."""
    if _PLAIN.match(entity_type) and _PLAIN.match(entity_id):
        template = vocabulary.url_template(
            ("audit.history", ""),
            lambda: url_for("audit.history", entity_type="TYPE_", entity_id="ID_"),
        )
        if template and template.endswith("/TYPE_/ID_"):
            return template.removesuffix("TYPE_/ID_") + f"{entity_type}/{entity_id}"
    return url_for("audit.history", entity_type=entity_type, entity_id=entity_id)


@bp.get("/t/<slug>/audit/")
@requires("audit.read")
def events() -> Any:
    """The district's chain, newest first, with filters."""
    return _list(g.tenant.id, "audit/events.html")


@bp.get("/t/<slug>/audit/logins")
@requires("audit.read")
def logins() -> Any:
    """登录日志: sign-ins, failures, lockouts and sign-outs only."""
    return _list(g.tenant.id, "audit/events.html", module=vocabulary.SIGN_IN, logins=True)


@bp.get("/platform/audit/")
@requires("platform.audit.read")
def platform_events() -> Any:
    """Operators: the platform chain only (onboarding, suspension, operator sign-ins …)."""
    return _list(PLATFORM_CHAIN, "audit/events.html")


def _detail(chain: uuid.UUID, seq: int, platform: bool) -> Any:
    event = services.get_event(chain, seq)
    if event is None:
        abort(404)
    shown = display.present(
        [event],
        district=not platform,
        history_url=None if platform else _history_link,
        detail=True,
    )[0]
    return render_template("audit/event.html", event=event, row=shown, platform=platform)


@bp.get("/t/<slug>/audit/<int:seq>")
@login_required
def event(seq: int) -> Any:
    """One event with its before/after; officers only for their own department's events."""
    if can(current_user, "audit.read"):
        return _detail(g.tenant.id, seq, platform=False)
    if can(current_user, "audit.read_department"):
        found = services.get_event(g.tenant.id, seq)
        if found is None or found.department_id != current_user.department_id:
            abort(404)
        return _detail(g.tenant.id, seq, platform=False)
    abort(403)


@bp.get("/platform/audit/<int:seq>")
@requires("platform.audit.read")
def platform_event(seq: int) -> Any:
    return _detail(PLATFORM_CHAIN, seq, platform=True)


@bp.get("/t/<slug>/audit/history/<entity_type>/<path:entity_id>")
@login_required
def history(entity_type: str, entity_id: str) -> Any:
    """Every event of one record, newest first ("history of this record")."""
    officer_department = None
    if not can(current_user, "audit.read"):
        if not can(current_user, "audit.read_department"):
            abort(403)
        officer_department = current_user.department_id
    f = services.EventFilter(entity_type=entity_type[:60], entity_id=entity_id[:80])
    query = services.filtered(g.tenant.id, f, officer_department)
    result = paging.page(query, g.tenant.id, paging.Window(_cursor("before"), _cursor("after")))
    if officer_department is not None and not result.events:
        abort(404)  # not their department's record: it does not exist for them
    rows = display.present(result.events, district=True)
    registered = vocabulary.record_type(entity_type)
    name = next((r.record for r in rows if r.record), "")
    link = registered.link(entity_id) if registered and registered.link else None
    return render_template(
        "audit/history.html",
        page=result,
        rows=rows,
        entity_type=entity_type,
        entity_id=entity_id,
        record_type=vocabulary.record_label(entity_type),
        record=name,
        record_url=link,
        platform=False,
    )


def _export(chain: uuid.UUID, fmt: str, label: str) -> Any:
    if fmt not in EXPORT_TYPES:
        abort(404)
    f = services.EventFilter.from_args(request.args)
    if f.errors:
        abort(400)
    district = chain != PLATFORM_CHAIN
    query = services.filtered(chain, f)
    count = services.count_for_export(query)
    services.record_export(chain, fmt, count, f)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    lst = listing.Listing.from_request(request.endpoint or "audit.export", COLUMNS)
    events = services.export_rows(db.engine, chain, query, lst.sort, lst.desc)
    if fmt == "xlsx":
        response = Response(
            services.export_xlsx(events, district),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "csv":
        # Streams after the view returned (labels and names need the request's context).
        response = Response(
            stream_with_context(_in_scope(chain, services.export_csv(events, district))),
            mimetype="text/csv; charset=utf-8",
        )
    else:
        response = Response(
            services.export_jsonl(events), mimetype="application/x-ndjson; charset=utf-8"
        )
    downloads.attach(response, f"audit-{label}-{stamp}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response


def _in_scope(chain: uuid.UUID, body: Iterator[str]) -> Iterator[str]:
    """The streamed body's name look-ups run in the chain's district, as the view did."""
    from portal.tenancy import scope

    if chain == PLATFORM_CHAIN:
        yield from body
        return
    with scope.tenant_scope(chain, read_only=True):
        yield from body


@bp.get("/t/<slug>/audit/export.<fmt>")
@requires("audit.read")
def export(fmt: str) -> Any:
    return _export(g.tenant.id, fmt, g.tenant.slug)


@bp.get("/platform/audit/export.<fmt>")
@requires("platform.audit.read")
def platform_export(fmt: str) -> Any:
    return _export(PLATFORM_CHAIN, fmt, "platform")


# --- links other domains use ----------------------------------------------------------------


def history_url(obj_or_type: Any, entity_id: Any = None) -> str | None:
    """URL of the history page of an ORM object (or of `entity_type`, `entity_id`), or None
    when the signed-in user may not read it (no district, or a role without audit access)."""
    from portal.audit.trail import entity_id_of

    if not getattr(current_user, "is_authenticated", False) or current_user.tenant_id is None:
        return None
    if not (can(current_user, "audit.read") or can(current_user, "audit.read_department")):
        return None
    if entity_id is None:
        entity_type, entity_id = type(obj_or_type).__name__, entity_id_of(obj_or_type)
    else:
        entity_type = str(obj_or_type)
    return url_for(
        "audit.history",
        slug=current_user.tenant.slug,
        entity_type=entity_type,
        entity_id=str(entity_id),
    )


def _recent_context() -> dict[str, Any]:
    query = services.filtered(g.tenant.id, services.EventFilter())
    events = paging.page(query, g.tenant.id, paging.Window(size=5)).events
    rows = display.present(
        events, district=True, departments={}, users=display.actors_of(events), records=False
    )
    return {"recent": rows}


register_home_panel(HomePanel("audit/_recent_panel.html", "audit.read", _recent_context, order=95))


def record_denial(response: Response) -> Response:
    """A signed-in user refused (403) or shown "not found" (404) on a real route of their own
    district — a record outside their scope looks exactly like a missing one — is recorded.
    Probes of another district's URL are recorded by `portal.web` in the prober's chain."""
    if response.status_code not in (403, 404) or request.url_rule is None:
        return response
    tenant = g.get("tenant")
    if not getattr(current_user, "is_authenticated", False) or tenant is None:
        return response
    if current_user.tenant_id != tenant.id:
        return response  # already recorded as a cross-tenant probe
    from portal.audit import trail
    from portal.extensions import db
    from portal.kernel import denials
    from portal.tenancy import scope

    repeats = denials.repeats(current_user.id, response.status_code)
    if repeats is None:
        return response  # counted; recorded again at the next order of magnitude
    try:
        db.session.rollback()  # nothing of a refused request is kept
        with scope.tenant_scope(tenant.id):
            trail.record(
                db.session,
                "access_denied",
                tenant_id=tenant.id,
                entity_type="url",
                entity_id=request.path[:80],
                department_id=current_user.department_id,
                summary=f"{response.status_code} {request.method} {request.path}"[:400],
                data={
                    "status": response.status_code,
                    "endpoint": request.endpoint,
                    "repeats": repeats,
                },
            )
            db.session.commit()
    except Exception:  # noqa: BLE001 - never turn a refusal into a server error
        db.session.rollback()
        current_app.logger.exception("could not record an access denial")
    return response


def init_app(app: Flask) -> None:
    from portal.kernel import timefmt

    timefmt.init_app(app)
    app.add_template_global(history_url, "audit_history_url")
    app.after_request(record_denial)
