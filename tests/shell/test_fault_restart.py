"""Issue 19 (faults): PostgreSQL restarted during a write load loses or doubles nothing.

Runs `bench/fault_restart.py` briefly on a private cluster of its own (never the shared
test server, which it only reads a migrated empty schema from): a few seconds of meeting
creations from three signed-in threads, one `pg_ctl restart -m fast` in the middle.
Every acknowledged write must be there once, nothing half-written, every audit chain
must verify, and the app must have recovered by itself.
"""

from __future__ import annotations

import os

import pytest

from bench.fault_restart import drill, find_bindir
from tests.conftest import BACKEND

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(BACKEND == "sqlite", reason="runs in the PostgreSQL pass only"),
]


def test_acknowledged_writes_survive_a_postgresql_restart(databases) -> None:  # type: ignore[no-untyped-def]
    if find_bindir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no PostgreSQL server binaries (initdb, pg_ctl) under CI=true")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    schema = databases.owner_url(databases.new(demo=False))
    report = drill(seconds=3.0, threads=3, restarts=1, mode="fast", schema_from=schema)
    print("\n".join(report.lines()))
    assert not report.problems, "\n".join(report.lines())
    assert report.acknowledged > 0 and report.after_restart > 0
    assert sum(report.refused.values()) > 0, "the restart never hit a write"
    assert report.present >= report.acknowledged
