"""Registries that let each domain module add its navigation and home-page panels.

The shell's left menu is built here: every `NavItem` falls into one group of work
(工作台, 职责落实, 联席会议, 督办事项, 政策, 审计, 系统管理). Domains keep calling
`register_nav` as before; their group comes from `GROUP_BY_ENDPOINT` (one mapping, the
longest endpoint prefix wins), and the web shell adds badges with `register_badge`
(this module sits below the domains and never imports them).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal.kernel import memo
from portal.kernel.grants import ROLE_LABELS, can
from portal.kernel.inputs import page_number
from portal.listing import PAGE_SIZES
from portal.tenancy.models import STATUS_LABELS as TENANT_STATUS_LABELS


@dataclass(frozen=True)
class NavItem:
    label: Any
    endpoint: str
    permission: str
    order: int = 50
    # a further condition on the user beyond the grant (e.g. the register: only the
    # eligibility department among officers)
    when: Callable[[Any], bool] | None = None
    group: str | None = None  # None: taken from GROUP_BY_ENDPOINT


@dataclass(frozen=True)
class HomePanel:
    """A block on the district home page: `context()` returns the template's variables."""

    template: str
    permission: str
    context: Callable[[], dict[str, Any]]
    order: int = 50


# The groups of work, in menu order.
GROUPS: tuple[tuple[str, Any], ...] = (
    ("workbench", _l("Workbench")),
    ("duties", _l("Duty delivery")),
    ("meetings", _l("Joint meetings")),
    ("actions", _l("Action items")),
    ("policy", _l("Policy")),
    ("audit", _l("Audit")),
    ("system", _l("System administration")),
)
GROUP_LABELS = dict(GROUPS)

# Endpoint prefix → group; the longest matching prefix wins.
GROUP_BY_ENDPOINT: dict[str, str] = {
    "district.": "workbench",
    "messages.": "workbench",
    "platform.console": "workbench",
    "duties.": "duties",
    "care.": "workbench",
    "meetings.": "meetings",
    "meetings.action_items": "actions",
    "policy.": "policy",
    "audit.": "audit",
    "district_admin.": "system",
    "platform.": "system",
    "workspace.": "system",
}

_nav: list[NavItem] = []
_panels: list[HomePanel] = []
_badges: dict[str, Callable[[], Any]] = {}


def register_nav(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)
        memo.forget()


def register_badge(endpoint: str, badge: Callable[[], Any]) -> None:
    """A count shown beside the menu item of `endpoint` (registered by the web shell).

    `badge()` answers None (no badge for this user), a number, or — preferably — a count
    `Select`, so that all the menu's counts run as one statement per page."""
    _badges[endpoint] = badge


def register_home_panel(panel: HomePanel) -> None:
    if all(p.template != panel.template for p in _panels):
        _panels.append(panel)


def home_panels(exclude: tuple[str, ...] = ()) -> list[Markup]:
    """The panels the user may see, rendered.

    Each panel's HTML is kept up to a minute (`portal.kernel.memo`) under the request's
    scope (district, department, user), language and session (a panel may hold a form
    with the session's CSRF token): the panels of a lead's home ran 11 of its 16
    statements on every visit. Any write in the district drops them."""
    from portal.tenancy import scope

    current = scope.current()
    generate_csrf()  # the page's forms need it anyway; made first, the key is stable
    token = session.get("csrf_token")
    shown = []
    for p in sorted(_panels, key=lambda p: p.order):
        if p.template in exclude or not can(current_user, p.permission):
            continue
        key = ("home_panel", p.template, current, str(get_locale()), token)
        shown.append(memo.remembered(key, functools.partial(_render_panel, p), current.tenant_id))
    return shown


def _render_panel(panel: HomePanel) -> Markup:
    # the output of an autoescaping template: already safe HTML
    return Markup(render_template(panel.template, ctx=panel.context()))  # noqa: S704


def group_of(item: NavItem) -> str:
    if item.group:
        return item.group
    best = ""
    for prefix in GROUP_BY_ENDPOINT:
        if item.endpoint.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return GROUP_BY_ENDPOINT.get(best, "workbench")


def _url(endpoint: str) -> str | None:
    """The item's URL, always in the user's own district (never the district of the URL
    being answered: a 404 for another district's page must not link into it)."""
    values: dict[str, Any] = {}
    own = getattr(current_user, "tenant", None)
    if own is not None:
        values["slug"] = own.slug
    try:
        return url_for(endpoint, **values)
    except Exception:  # noqa: BLE001 - endpoint needs a tenant we don't have here
        return None


# What the menu shows a user — the items the role may open and their counts — is kept a
# few seconds per user and scope (`portal.kernel.memo`): the counts' statement and the
# items' grant checks and URLs cost ~2.5 ms of CPU on every page, a fifth of a duty page.


def _remembered(kind: str, extra: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` for the signed-in user and scope, kept by `portal.kernel.memo`."""
    from portal.tenancy import scope

    current = scope.current()
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    key = (
        kind,
        user.id,
        user.session_version,
        current.tenant_id,
        current.department_id,
        current.role,
        str(get_locale()),
        extra,
    )
    return memo.remembered(key, compute, current.tenant_id)


def _badge_values(endpoints: list[str]) -> dict[str, int | None]:
    """Every badge of the menu in one statement, once per request (and kept up to a minute).

    A badge function answers None (no badge for this user), a number, or a count
    `Select`; the selects of all items run together as scalar subqueries of one SELECT
    (the scoping hook narrows each subquery as it would narrow the query alone)."""
    if "_nav_badges" in g:
        return g._nav_badges
    # a badge never breaks a page, and a failed count is not kept
    values = _remembered("badges", tuple(endpoints), lambda: _count_badges(endpoints)) or {}
    g._nav_badges = values
    return values


def _count_badges(endpoints: list[str]) -> dict[str, int | None] | None:
    from portal.extensions import db
    from portal.tenancy import scope

    values: dict[str, int | None] = {}
    queries: dict[str, Any] = {}
    try:
        with user_scope():
            for endpoint in endpoints:
                fn = _badges.get(endpoint)
                value = fn() if fn is not None else None
                if isinstance(value, sa.Select):
                    queries[endpoint] = value
                else:
                    values[endpoint] = value
            if queries and scope.current().tenant_id is not None:
                row = db.session.execute(
                    sa.select(*(q.scalar_subquery() for q in queries.values()))
                ).one()
                values.update(zip(queries, row, strict=True))
    except Exception:  # noqa: BLE001 - a badge never breaks a page
        return None
    return values


def badge(endpoint: str) -> int | None:
    """The badge count of one menu item (computed with the whole menu's, once)."""
    return _badge_values([i["endpoint"] for i in nav_items(False)]).get(endpoint)


@contextlib.contextmanager
def user_scope() -> Iterator[None]:
    """Pages outside /t/<slug>/ (account pages) count in the user's own district, with the
    same department limit the URL would set; inside a district the request's scope holds."""
    from portal.tenancy import scope

    tenant_id = getattr(current_user, "tenant_id", None)
    if scope.current().tenant_id is not None or tenant_id is None:
        yield
        return
    department_id = None if can(current_user, "district.read_all") else current_user.department_id
    token = scope.set_scope(scope.Scope(tenant_id=tenant_id, department_id=department_id))
    try:
        yield
    finally:
        scope.reset_scope(token)


def nav_items(with_badges: bool = True, error: bool = False) -> list[dict[str, Any]]:
    """The items the user may open, with URL, group, badge and whether it is current.

    The current item is the one whose URL is the longest prefix of the path (so a duty's
    page highlights 职责); the result is cached for the request."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    if with_badges and not error:
        if "_nav_items_b" not in g:
            base = nav_items(False)
            values = _badge_values([i["endpoint"] for i in base])
            g._nav_items_b = [{**i, "badge": values.get(i["endpoint"])} for i in base]
        return g._nav_items_b
    key = "_nav_items_e" if error else "_nav_items"
    if key in g:
        return g.get(key)
    items = [dict(i) for i in _remembered("menu", None, _menu_items)]
    path = "" if error else request.path
    best = None
    best_len = -1
    for it in items:
        base = it["url"].split("?", 1)[0]
        inside = path == base or path.startswith(base if base.endswith("/") else base + "/")
        if path and inside and len(base) > best_len:
            best, best_len = it, len(base)
    if best is not None:
        best["active"] = True
    g.setdefault(key, items)
    return items


def _menu_items() -> list[dict[str, Any]]:
    """The items the user may open, in menu order (not yet marked current)."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    items = []
    seen: set[str] = set()
    for item in sorted(_nav, key=lambda i: i.order):
        if not can(user, item.permission) or item.endpoint in seen:
            continue
        if item.when is not None and not item.when(user):
            continue
        url = _url(item.endpoint)
        if url is None:
            continue
        seen.add(item.endpoint)
        items.append(
            {
                "label": str(item.label),  # translated once per window, not per page
                "url": url,
                "endpoint": item.endpoint,
                "group": group_of(item),
                "badge": None,
                "active": False,
            }
        )
    return items


def nav_groups(with_badges: bool = True, error: bool = False) -> list[dict[str, Any]]:
    """The menu: groups in their fixed order, each with the items the user may open."""
    items = nav_items(with_badges, error)
    groups = []
    for key, label in GROUPS:
        members = [i for i in items if i["group"] == key]
        if members:
            groups.append(
                {
                    "key": key,
                    "label": label,
                    "items": members,
                    "active": any(i["active"] for i in members),
                }
            )
    return groups


def active_item() -> dict[str, Any] | None:
    return next((i for i in nav_items(False) if i["active"]), None)


ACCOUNT_PAGES: dict[str, Any] = {
    "auth.change_password": _l("Change password"),
    "auth.tokens": _l("API tokens"),
    "auth.reauth": _l("Confirm your password"),
}


def breadcrumbs(with_badges: bool = False) -> list[dict[str, Any]]:
    """Group › item (linked when the page is below it); account pages: 个人中心 › page."""
    if request.endpoint in ACCOUNT_PAGES:
        return [
            {"label": _l("My account"), "url": None},
            {"label": ACCOUNT_PAGES[request.endpoint], "url": None},
        ]
    item = next((i for i in nav_items(with_badges) if i["active"]), None)
    if item is None:
        return []
    crumbs = [{"label": GROUP_LABELS.get(item["group"], ""), "url": None}]
    exact = request.path == item["url"].split("?", 1)[0]
    crumbs.append({"label": item["label"], "url": None if exact else item["url"]})
    return crumbs


def local_time(value: Any) -> str:
    """A stored UTC instant in the district's zone (the user's own for account pages), in
    the one format of `portal.kernel.timefmt`."""
    from portal.kernel import timefmt

    if value is None:
        return "—"
    tenant = getattr(g, "tenant", None) or getattr(current_user, "tenant", None)
    return timefmt.format_datetime(value, tenant)


# Questions asked before consequential one-click actions (portal.js reads `data-confirm`).
CONFIRM_TEXTS: dict[str, Any] = {
    "accept": _l("Accept this sign-off?"),
    "return": _l("Return this duty to the department?"),
    "close": _l("Close this action item?"),
    "suspend": _l("Suspend this district? Nobody of it can sign in until it is resumed."),
}


def colon() -> str:
    """The label colon: full-width in Chinese (：), ": " in English."""
    return ": " if str(get_locale()) == "en" else "："


def page_arg(maximum: int = 10_000) -> int:
    """The list page asked for in `?page=`: junk or < 1 gives 1, a huge one is clamped (an
    empty last page, never an overflowing OFFSET)."""
    return page_number(request.args.get("page"), maximum=maximum)


def paged(rows: Any, total: int, page: int, per_page: int) -> dict[str, Any]:
    """What every paged list template reads: the rows, the total and where the page stands."""
    return {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // per_page))}


def confirm_text(action: str) -> str:
    return str(CONFIRM_TEXTS.get(action, _l("Are you sure?")))


def _own_department() -> dict[str, str] | None:
    """The signed-in officer's department (name, kind) for the user menu and lists."""
    from portal.tenancy.services import own_department

    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return own_department(user) if getattr(user, "is_authenticated", False) else None


# HTML that depends on nothing but its key and the language — a blank form's fields —
# rendered once per process. A duty page drew its blank progress and sign-off forms field by
# field through WTForms on every view (about 0.8 ms, a seventh of the page).
_KEPT_HTML: dict[tuple[Any, str], Markup] = {}
_KEPT_HTML_MAX = 256


def kept_html(key: Any, caller: Callable[[], str]) -> Markup:
    """`{% call kept_html(key) %}…{% endcall %}`: the block's HTML, rendered the first time
    and then kept under (`key`, language). The key must name everything else the block
    shows; None renders it every time (a form holding the user's input or messages)."""
    if key is None:
        return Markup(caller())  # noqa: S704 - the output of an autoescaping template
    full = (key, str(get_locale()))
    html = _KEPT_HTML.get(full)
    if html is None:
        if len(_KEPT_HTML) >= _KEPT_HTML_MAX:
            _KEPT_HTML.clear()
        html = _KEPT_HTML[full] = Markup(caller())  # noqa: S704 - as above
    return html


def kept_user_html(key: Any, caller: Callable[[], str]) -> Markup:
    """`{% call kept_user_html(key) %}…{% endcall %}`: the block's HTML kept up to a minute
    (`portal.kernel.memo`, like the menu's items) for the signed-in user, session version,
    scope and language; `key` names everything else it shows. Any write in the district
    drops it. None draws it every time. The shell's menu, user menu and top bar cost
    about 0.6 ms of every page, a tenth of a duty page, drawn afresh."""
    if key is None or not getattr(current_user, "is_authenticated", False):
        return Markup(caller())  # noqa: S704 - the output of an autoescaping template
    return _remembered("html", key, lambda: Markup(caller()))  # noqa: S704 - as above


# The account pages the user menu marks as current.
ACCOUNT_MENU_ENDPOINTS = frozenset({"auth.change_password", "auth.tokens", "auth.revoke_token"})


def nav_key() -> tuple[Any, ...]:
    """What the left menu shows beyond the user's items: the current item and the badges."""
    items = nav_items()
    return (
        "nav",
        next((i["url"] for i in items if i["active"]), None),
        tuple(i["badge"] for i in items),
    )


def user_menu_key() -> tuple[Any, ...]:
    """What the user menu shows beyond the user: the current account page and the
    session's CSRF key (its forms carry a token signed with it)."""
    generate_csrf()  # the menu's forms need it anyway; made first, the key is stable
    endpoint = request.endpoint if request.endpoint in ACCOUNT_MENU_ENDPOINTS else None
    return ("user_menu", endpoint, session.get("csrf_token"))


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "kept_html": kept_html,
            "kept_user_html": kept_user_html,
            "nav_key": nav_key,
            "user_menu_key": user_menu_key,
            "get_locale": get_locale,
            "nav_items": nav_items,
            "nav_groups": nav_groups,
            "breadcrumbs": breadcrumbs,
            "local_time": local_time,
            "confirm_text": confirm_text,
            "own_department": _own_department,
            "colon": colon,
            "page_sizes": PAGE_SIZES,
            "role_label": lambda r: ROLE_LABELS.get(r, r),
            "tenant_status_label": lambda s: TENANT_STATUS_LABELS.get(s, s),
        }

    from portal.kernel import periods

    # `{{ duty.period | period }}` → 2026年下半年 (2026 H2 in English): people never see codes.
    app.jinja_env.filters["period"] = periods.label
