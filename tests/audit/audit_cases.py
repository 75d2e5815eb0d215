"""Audit coverage cases of the audit domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

from tests.audit.coverage import Exercise, Expect, Listed, download

#: Exports and downloads of this domain.
DOWNLOADS: dict[str, Exercise | Listed] = {
    "audit.export": download(
        "jiangyan-auditor",
        "/t/jiangyan/audit/export.csv?action=login",
        Expect("export", "AuditEvent", "jiangyan"),
    ),
    "audit.platform_export": download(
        "operator", "/platform/audit/export.jsonl", Expect("export", "AuditEvent", "platform")
    ),
}

#: Models deliberately not audited, with the reason.
NOT_AUDITED: dict[str, str] = {
    "AuditEvent": "the trail itself (append-only)",
    "AuditChainHead": "the chain heads, part of the trail's own machinery",
}
