"""Audit coverage cases of the audit domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

from typing import Any

from tests.audit.coverage import (
    Exercise,
    Expect,
    Listed,
    exported,
)


def _audit_export(app: Any) -> list[Expect]:
    exported(app, "jiangyan-auditor", "/t/jiangyan/audit/export.csv?action=login")
    return [Expect("export", "AuditEvent", "jiangyan")]


def _platform_audit_export(app: Any) -> list[Expect]:
    exported(app, "operator", "/platform/audit/export.jsonl")
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
