"""Audit coverage cases of the audit domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

from typing import Any

from tests.audit.coverage import (
    Exercise,
    Expect,
    Listed,
    mark,
    signed_in,
)


def _audit_export(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-auditor")
    mark(app)
    r = b.get("/t/jiangyan/audit/export.csv?action=login")
    assert r.status_code == 200
    return [Expect("export", "AuditEvent", "jiangyan")]


def _platform_audit_export(app: Any) -> list[Expect]:
    b = signed_in(app, "operator")
    mark(app)
    assert b.get("/platform/audit/export.jsonl").status_code == 200
    return [Expect("export", "AuditEvent", "platform")]


#: Exports and downloads of this domain.
DOWNLOADS: dict[str, Exercise | Listed] = {
    "audit.export": Exercise(_audit_export),
    "audit.platform_export": Exercise(_platform_audit_export),
}

#: Models deliberately not audited, with the reason.
NOT_AUDITED: dict[str, str] = {
    "AuditEvent": "the trail itself (append-only)",
    "AuditChainHead": "the chain heads, part of the trail's own machinery",
}
