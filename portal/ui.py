"""Registries that let each domain module add its navigation and home-page panels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from portal.kernel.grants import ROLE_LABELS, can
from portal.tenancy.models import STATUS_LABELS as TENANT_STATUS_LABELS


@dataclass(frozen=True)
class NavItem:
    label: Any
    endpoint: str
    permission: str
    order: int = 50


@dataclass(frozen=True)
class HomePanel:
    """A block on the district home page: `context()` returns the template's variables."""

    template: str
    permission: str
    context: Callable[[], dict[str, Any]]
    order: int = 50


_nav: list[NavItem] = []
_panels: list[HomePanel] = []


def register_nav(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)


def register_home_panel(panel: HomePanel) -> None:
    if all(p.template != panel.template for p in _panels):
        _panels.append(panel)


def home_panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (p.template, p.context())
        for p in sorted(_panels, key=lambda p: p.order)
        if can(current_user, p.permission)
    ]


def nav_items() -> list[dict[str, Any]]:
    items = []
    for item in sorted(_nav, key=lambda i: i.order):
        if can(current_user, item.permission):
            try:
                url = url_for(item.endpoint)
            except Exception:  # noqa: BLE001 - endpoint needs a tenant we don't have here
                continue
            items.append({"label": item.label, "url": url, "active": request.path == url})
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "get_locale": get_locale,
            "nav_items": nav_items,
            "role_label": lambda r: ROLE_LABELS.get(r, r),
            "tenant_status_label": lambda s: TENANT_STATUS_LABELS.get(s, s),
        }

    from portal.kernel import periods

    # `{{ duty.period | period }}` → 2026年下半年 (2026 H2 in English): people never see codes.
    app.jinja_env.filters["period"] = periods.label
