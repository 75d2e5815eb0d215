"""`bench/loadtest.py --against-floor`: both sides are counted over the same seconds."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import loadtest
from bench.loadtest import Side, cpu_seconds, side_by_side


def _side(tmp_path: Path, floor: bool, answers: list[tuple[float, float, bool]]) -> Side:
    args = argparse.Namespace(users=2, seconds=200, read_only=True, storm=False)
    side = Side(floor, args, {}, ["home"], "stamp", port=1)
    prefix = tmp_path / f"locust-stamp-{side.name}"
    Path(f"{prefix}_timeline.json").write_text(json.dumps(answers))
    return side


@pytest.fixture()
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(loadtest, "RESULTS", tmp_path)
    return tmp_path


def test_window_starts_when_the_later_side_has_signed_in_and_ends_before_the_first_stops(
    results: Path,
) -> None:
    # The portal answers every second from t=0 to t=99, the floor from t=0 to t=119;
    # the floor had signed in all at t=10, the portal only at t=40.
    portal = _side(results, False, [(float(t), 100.0, False) for t in range(100)])
    floor = _side(results, True, [(float(t), 50.0, t == 60) for t in range(120)])
    portal.cpu = [(0.0, 0.0), (100.0, 100.0)]  # one CPU second per second
    floor.cpu = [(0.0, 0.0), (120.0, 60.0)]  # half of one
    portal.db_cpu = [(0.0, 0.0), (100.0, 50.0)]  # its database backends: half a second a second
    ran = [
        (portal, {"mix": "read-only", "sign_ins": {"all_signed_in_at": 40.0}}),
        (floor, {"mix": "read-only", "sign_ins": {"all_signed_in_at": 10.0}}),
    ]
    compared = side_by_side(argparse.Namespace(users=2), ran)
    # [40, 99 - 5): 54 s, one answer a second on both sides
    assert compared["window_s"] == 54.0
    assert compared["portal"]["requests"] == compared["floor"]["requests"] == 54
    assert compared["floor"]["failures"] == 1
    assert compared["throughput_ratio"] == 1.0
    assert compared["portal"]["server_cpu_s"] == 54.0
    assert compared["floor"]["server_cpu_s"] == 27.0
    assert compared["cpu_per_request_ratio"] == 2.0
    assert compared["portal"]["database_cpu_s"] == 27.0
    assert compared["portal"]["with_database_cpu_ms_per_request"] == 1500.0
    assert compared["with_database_cpu_per_request_ratio"] == 3.0
    assert compared["portal"]["p95_ms"] == 100 and compared["floor"]["p95_ms"] == 50


def test_no_common_window_without_every_sign_in(results: Path) -> None:
    portal = _side(results, False, [(float(t), 1.0, False) for t in range(100)])
    floor = _side(results, True, [(float(t), 1.0, False) for t in range(100)])
    ran = [
        (portal, {"sign_ins": {"all_signed_in_at": None}}),
        (floor, {"sign_ins": {"all_signed_in_at": 1.0}}),
    ]
    with pytest.raises(SystemExit, match="not every user signed in"):
        side_by_side(argparse.Namespace(users=2), ran)


def test_cpu_seconds_counts_the_children_of_a_process() -> None:
    """A parent that only waits is charged its busy child's CPU time."""
    busy = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])",
        ]
    )
    try:
        time.sleep(0.2)
        peak = 0.0
        while parent.poll() is None:
            peak = max(peak, cpu_seconds(parent.pid))
            time.sleep(0.05)
        assert peak >= 0.3  # the child's time, seen while it ran
    finally:
        parent.wait()
    assert cpu_seconds(os.getpid()) > 0
