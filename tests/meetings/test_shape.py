"""The meetings package keeps the shape issue 12 asks for: no module over ~600 lines among
the operations, queries and rules; services never commit; permissions asked of the grant
table, never by comparing roles; periods parsed only by the kernel; duties read through
its models, not its services."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "portal" / "meetings"
DOMAIN = ("rules", "queries", "arrangement", "agenda", "reports", "minutes", "decisions")


def _source(name: str) -> str:
    return (PACKAGE / f"{name}.py").read_text(encoding="utf-8")


def test_modules_a_person_can_hold_in_their_head() -> None:
    assert not (PACKAGE / "services.py").exists()
    sizes = {name: len(_source(name).splitlines()) for name in DOMAIN}
    assert max(sizes.values()) <= 600, sizes


def test_no_commit_no_role_comparison_no_period_parsing() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.stem != "cli":
            assert "session.commit(" not in text, path.name
        if path.stem in DOMAIN:
            assert not re.search(r"\bRole\.", text), path.name
            assert ".role ==" not in text and ".role in" not in text, path.name
        assert "H([12])" not in text and "PERIOD_RE" not in text, path.name
        assert "dt.date.today()" not in text, path.name
        assert "duties.services" not in text and "duties import services" not in text, path.name
