"""The structure the code promises (DESIGN.md §4, docs/architecture.md), checked by grep.

- One unit of work: `db.session.commit(` only where an entry point ends its work.
- Permissions through the grant table: services never compare `Role.` values.
- Half-year periods parsed only by the kernel (`portal.kernel.periods`).
- Today only from the kernel clock (pinned for tests and demos).
- The import-linter layer contract holds (also run by `make test`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"

#: The places allowed to commit: the request's unit of work, the demo loader's (one
#: commit per district, an entry point like the CLI), and the two records of a refused
#: request (a cross-district probe in the shell, an in-district denial in the audit
#: viewer), which must survive the rollback of the 403/404 they record.
COMMIT_ALLOWED = {
    "portal/kernel/uow.py",
    "portal/demo.py",
    "portal/web.py",
    "portal/audit/views.py",
}


def _sources() -> list[Path]:
    return sorted(p for p in PORTAL.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _code_lines(path: Path) -> list[tuple[int, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        out.append((number, line))
    return out


def _offenders(pattern: re.Pattern[str] | str, allowed: Any = lambda rel: False) -> list[str]:
    """`file:line: code` of each code line matching `pattern` outside the `allowed` files."""
    return [
        f"{_rel(p)}:{n}: {line.strip()}"
        for p in _sources()
        if not allowed(_rel(p))
        for n, line in _code_lines(p)
        if re.search(pattern, line)
    ]


def test_only_the_units_of_work_commit() -> None:
    offenders = _offenders(r"session\.commit\(", lambda rel: rel in COMMIT_ALLOWED)
    assert not offenders, (
        "services, views and API endpoints never commit: the request commits once "
        "(portal.kernel.uow.commit_request), the CLI through cli_transaction():\n  "
        + "\n  ".join(offenders)
    )


SERVICE_MODULE = re.compile(r"(services|operations|queries|rules|generation|storage)\.py$")
ROLE_COMPARISON = re.compile(r"(==|!=|\bin\b|\bis\b)\s*\(?\s*Role\.|Role\.\w+\s*(==|!=)")


def _not_a_service(rel: str) -> bool:
    return not SERVICE_MODULE.search(rel) or "/kernel/" in rel


def test_services_ask_the_grant_table_not_roles() -> None:
    offenders = _offenders(ROLE_COMPARISON, _not_a_service)
    assert not offenders, (
        "a service compares roles instead of asking require(user, grant) "
        "(portal.kernel.grants):\n  " + "\n  ".join(offenders)
    )


PERIOD_PARSING = re.compile(r"H\(\[12\]\)|H\[12\]|period\[5\]|period\[:4\]|\.split\(\"H\"\)")


def test_periods_are_parsed_only_by_the_kernel() -> None:
    offenders = _offenders(PERIOD_PARSING, lambda rel: rel == "portal/kernel/periods.py")
    assert not offenders, (
        "half-year periods are parsed and computed only by portal.kernel.periods.Period:\n  "
        + "\n  ".join(offenders)
    )


def test_today_comes_from_the_kernel_clock() -> None:
    offenders = _offenders(r"\bdate\.today\(\)", lambda rel: rel == "portal/kernel/clock.py")
    assert not offenders, (
        "use portal.kernel.clock.today() (it honours the pinned date):\n  " + "\n  ".join(offenders)
    )


def test_the_layer_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:]
