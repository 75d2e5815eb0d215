"""Recompute every hash chain; name the first broken sequence number of each chain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.trail import GENESIS, chain_hash

COLUMNS = [c.name for c in AuditEvent.__table__.columns]


@dataclass
class ChainResult:
    tenant_id: uuid.UUID
    events: int
    first_bad_seq: int | None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_chains(
    conn: sa.Connection, tenant_id: uuid.UUID | None = None, batch: int = 20000
) -> list[ChainResult]:
    """Stream events in (tenant, seq) order through a raw connection (no ORM overhead)."""
    table = AuditEvent.__table__
    query = sa.select(*table.c).order_by(table.c.tenant_id, table.c.seq)
    heads_q = sa.select(AuditChainHead.__table__)
    if tenant_id is not None:
        query = query.where(table.c.tenant_id == tenant_id)
        heads_q = heads_q.where(AuditChainHead.__table__.c.tenant_id == tenant_id)
    heads = {r.tenant_id: (r.seq, r.hash) for r in conn.execute(heads_q)}
    results: dict[uuid.UUID, ChainResult] = {}
    current: ChainResult | None = None
    expected_seq, prev = 1, GENESIS
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    for row in result.mappings():
        tid = row["tenant_id"]
        if current is None or current.tenant_id != tid:
            current = results[tid] = ChainResult(tid, 0, None)
            expected_seq, prev = 1, GENESIS
        current.events += 1
        if current.first_bad_seq is not None:
            continue
        data = dict(row)
        if data["seq"] != expected_seq:
            current.first_bad_seq, current.reason = expected_seq, "missing or reordered event"
        elif data["prev_hash"] != prev:
            current.first_bad_seq, current.reason = data["seq"], "link to the previous event broken"
        elif chain_hash(prev, data) != data["hash"]:
            current.first_bad_seq, current.reason = data["seq"], "event content changed"
        else:
            prev = data["hash"]
            expected_seq += 1
            current.head_seq, current.head_hash = data["seq"], data["hash"]
    for tid, (head_seq, head_hash) in heads.items():
        res = results.get(tid)
        if res is None:
            if head_seq:
                results[tid] = ChainResult(tid, 0, 1, "events missing (chain head says more)")
            continue
        if res.ok and (res.head_seq, res.head_hash) != (head_seq, head_hash):
            res.first_bad_seq = res.head_seq + 1 if head_seq > res.head_seq else head_seq
            res.reason = "chain head does not match the newest event (tail removed or altered)"
    return list(results.values())
