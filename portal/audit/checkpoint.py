"""Signed checkpoints of every chain head, kept outside the database.

A plain hash chain cannot catch someone who rewrites the whole table or drops its
newest events; a checkpoint signed with `PORTAL_AUDIT_KEY` (never stored in the
database) can: each stored head must still be in the chain with the same hash.
The checkpoint is written only from chains that verify, so it never blesses tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

from flask import current_app

from portal.audit.verify import ChainResult, _chain_key, _param
from portal.db import utcnow

FORMAT = "portal-audit-checkpoint/1"


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


def checkpoint_document(results: list[ChainResult], names: dict) -> dict:
    """The signed heads of verified chains (raises if any chain is broken)."""
    _key()  # no key, no checkpoint: say so before anything else
    broken = [r for r in results if not r.ok]
    if broken:
        raise CheckpointError(
            "refusing to checkpoint broken chains: "
            + ", ".join(_label(r.tenant_id, names) for r in broken)
        )
    heads = [
        {
            "tenant_id": str(r.tenant_id),
            "chain": _label(r.tenant_id, names),
            "seq": r.head_seq,
            "hash": r.head_hash,
        }
        for r in sorted(results, key=lambda r: str(r.tenant_id))
    ]
    payload = {"format": FORMAT, "created_at": utcnow().isoformat(), "heads": heads}
    return {**payload, "signature": _sign(payload)}


def write_checkpoint(path: str | Path, results: list[ChainResult], names: dict) -> dict:
    document = checkpoint_document(results, names)
    Path(path).write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    return document


def _label(tenant_id: uuid.UUID, names: dict) -> str:
    return "platform" if tenant_id.int == 0 else names.get(tenant_id, str(tenant_id))


def check_against(
    dialect: str,
    dbapi: Any,
    path: str | Path,
    names: dict,
    tenant_id: uuid.UUID | None = None,
) -> list[str]:
    """Problems found comparing the database (inside the verify snapshot) with a checkpoint."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        signature = document.pop("signature", "")
        heads = document["heads"]
    except (ValueError, KeyError, TypeError) as e:
        return [f"checkpoint file unreadable: {e}"]
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(document)):
        return ["checkpoint signature invalid (file altered or wrong PORTAL_AUDIT_KEY)"]
    problems = []
    p = _param(dialect)
    cur = dbapi.cursor()
    try:
        for head in heads:
            tid = uuid.UUID(head["tenant_id"])
            if tenant_id is not None and tid != tenant_id:
                continue
            if head["seq"] == 0:
                continue
            label = _label(tid, names)
            cur.execute(
                f"SELECT hash FROM audit_events WHERE tenant_id = {p} AND seq = {p}",  # noqa: S608
                (_chain_key(dialect, tid), head["seq"]),
            )
            row = cur.fetchone()
            if row is None:
                problems.append(
                    f"{label}: checkpointed event {head['seq']} is gone (newest events deleted); "
                    f"first bad sequence number {head['seq']}"
                )
            elif row[0] != head["hash"]:
                problems.append(
                    f"{label}: event {head['seq']} differs from the checkpoint (chain rewritten "
                    f"up to here); first bad sequence number {head['seq']} or earlier"
                )
    finally:
        cur.close()
    return problems
