"""The pages the benchmark measures: one line each.

`path` is formatted with the measurement context (`Context`); `floor` names the bare
Flask-Admin list (bench/floor.py) that shows the same rows without scoping or audit.
A page whose route is not (yet) on main answers 404 in the warm-up and is reported as
"n/a", so adding a page here never breaks a run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # "officer" | "lead"
    path: str
    floor: str
    needs: tuple[str, ...] = ()  # context keys that must be known (e.g. meeting_id)
    target_ms: float | None = None  # p95 target at 2,800 tenants on PostgreSQL


PAGES: list[Page] = [
    Page("officer duty list", "officer", "/t/{slug}/duties/", "officer_duties", target_ms=50),
    Page("lead home (status matrix)", "lead", "/t/{slug}/", "period_duties", target_ms=50),
    Page(
        "duty detail with progress",
        "officer",
        "/t/{slug}/duties/{duty_id}",
        "duty_entries",
        target_ms=50,
    ),
    Page(
        "audit viewer, filtered",
        "lead",
        "/t/{slug}/audit/?action=update&department={department_id}",
        "audit_filtered",
    ),
    Page("audit viewer, search 签报", "lead", "/t/{slug}/audit/?q=签报", "audit_search"),
    Page(
        "meeting draft agenda",
        "lead",
        "/t/{slug}/meetings/{meeting_id}",
        "period_duties",
        needs=("meeting_id",),
        target_ms=300,
    ),
    Page(
        "prep-pack export",
        "lead",
        "/t/{slug}/meetings/{meeting_id}/export/prep-pack.docx",
        "period_duties",
        needs=("meeting_id",),
        target_ms=300,
    ),
]
