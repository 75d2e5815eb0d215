"""Signed checkpoints of every chain head, kept outside the database.

A plain hash chain cannot catch someone who rewrites the whole table or drops its
newest events; a checkpoint signed with `PORTAL_AUDIT_KEY` (never stored in the
database) can: each stored head must still be in the chain with the same hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from portal.audit.models import AuditChainHead, AuditEvent
from portal.db import utcnow


class CheckpointError(RuntimeError):
    pass


def _key() -> bytes:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise CheckpointError("PORTAL_AUDIT_KEY is not set")
    return key.encode()


def _sign(payload: dict) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(), body.encode(), hashlib.sha256).hexdigest()


def write_checkpoint(conn: sa.Connection, path: str | Path) -> dict:
    heads = [
        {"tenant_id": str(r.tenant_id), "seq": r.seq, "hash": r.hash}
        for r in conn.execute(
            sa.select(AuditChainHead.__table__).order_by(AuditChainHead.tenant_id)
        )
    ]
    payload = {"created_at": utcnow().isoformat(), "heads": heads}
    document = {**payload, "signature": _sign(payload)}
    Path(path).write_text(json.dumps(document, indent=1))
    return document


def check_against(
    conn: sa.Connection, path: str | Path, results: Iterable, names: dict
) -> list[str]:
    """Problems found by comparing the database with a signed checkpoint file."""
    document = json.loads(Path(path).read_text())
    signature = document.pop("signature", "")
    if not hmac.compare_digest(signature, _sign(document)):
        return ["checkpoint signature invalid (file altered or wrong PORTAL_AUDIT_KEY)"]
    problems = []
    table = AuditEvent.__table__
    for head in document["heads"]:
        tid = uuid.UUID(head["tenant_id"])
        label = "platform" if tid.int == 0 else names.get(tid, str(tid))
        if head["seq"] == 0:
            continue
        stored = conn.execute(
            sa.select(table.c.hash).where(table.c.tenant_id == tid, table.c.seq == head["seq"])
        ).scalar()
        if stored is None:
            problems.append(
                f"{label}: checkpointed event {head['seq']} is gone (tail deleted); first bad sequence number {head['seq']}"
            )
        elif stored != head["hash"]:
            problems.append(
                f"{label}: event {head['seq']} differs from the checkpoint (chain rewritten); first bad sequence number {head['seq']}"
            )
    return problems
