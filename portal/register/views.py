"""Register pages (filled in below)."""

from __future__ import annotations

from typing import Any

from portal.register import pii


def init_app(app: Any) -> None:
    pii.init_app(app)
