"""Issue 19: each gunicorn instance has its own control socket."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bind: str) -> dict:
    monkeypatch.setenv("PORTAL_BIND", bind)
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    monkeypatch.delenv("PORTAL_CONTROL_SOCKET", raising=False)
    return runpy.run_path(str(CONF))


def test_each_instance_has_its_own_control_socket(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    one = _settings(monkeypatch, tmp_path, "127.0.0.1:8000")["control_socket"]
    two = _settings(monkeypatch, tmp_path, "127.0.0.1:8001")["control_socket"]
    assert one != two
    assert one.startswith(str(tmp_path)) and ".gunicorn" not in one
    monkeypatch.setenv("PORTAL_CONTROL_SOCKET", "/run/portal/x.ctl")
    assert runpy.run_path(str(CONF))["control_socket"] == "/run/portal/x.ctl"
