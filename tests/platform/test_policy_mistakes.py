"""A policy file with ten different mistakes: ten messages, nothing created (issue 7)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

from tests.conftest import ROOT, Browser
from tests.platform.test_onboarding_cli import _counts

FIXTURE = ROOT / "tests" / "fixtures" / "dayi.yaml"

# Each mistake and the path its message must name.
MISTAKES = {
    "format_version": lambda d: d.update(format_version=2),
    "tenant.level": lambda d: d["tenant"].update(level="省"),
    "departments[2].kind": lambda d: d["departments"][2].update(kind="treasury"),
    "departments[10].key": lambda d: d["departments"].append(
        {"key": "health", "kind": "health", "name": "大邑县卫生健康局（重复）"}
    ),
    "policy.effective_from": lambda d: d["policy"].update(effective_from="2024-13-01"),
    "measures[1].category": lambda d: d["measures"][1].update(category="money"),
    "measures[2].lead[0]": lambda d: d["measures"][2].update(lead=["street_office"]),
    "measures[1].benefits[0].unit": lambda d: d["measures"][1]["benefits"][0].update(
        unit="yuan_per_fortnight"
    ),
    "measures[3].benefits[0].frequency": lambda d: d["measures"][3]["benefits"][0].update(
        frequency="weekly"
    ),
    "measures[4].benefits[0].values[0].amount": lambda d: d["measures"][4]["benefits"][0]["values"][
        0
    ].update(amount=-300),
}


def broken_policy(slug: str = "dayi-broken") -> str:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["tenant"]["slug"] = slug
    for mutate in MISTAKES.values():
        mutate(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _matches(paths: list[str]) -> None:
    assert len(paths) == len(MISTAKES), paths
    for expected in MISTAKES:
        assert any(p == expected or p.startswith(expected) for p in paths), (expected, paths)


def test_ten_mistakes_ten_messages_through_the_cli(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.yaml"
    path.write_text(broken_policy(), encoding="utf-8")
    before = _counts(fresh_app)
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "onboard", str(path)])
    assert r.exit_code != 0
    lines = [line for line in r.output.splitlines() if line.startswith(f"{path}: ")]
    _matches([line.split(": ", 2)[1] for line in lines])
    assert "10 个问题" in r.output and "未创建任何内容" in r.output
    assert _counts(fresh_app) == before


def test_ten_mistakes_ten_messages_in_the_console(fresh_app) -> None:  # type: ignore[no-untyped-def]
    import io

    b = Browser(fresh_app)
    b.login("operator")
    before = _counts(fresh_app)
    r = b.post(
        "/platform/onboard",
        {"source": "upload", "policy_file": (io.BytesIO(broken_policy().encode()), "b.yaml")},
        "/platform/onboard",
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    block = page[page.index('id="problems"') :]
    items = re.findall(r"<li>([^<]+)</li>", block[: block.index("</ol>")])
    _matches([i.split(": ", 1)[0] for i in items])
    assert "发现 10 个问题" in page
    # the confirm step re-validates: forging it creates nothing
    r = b.post("/platform/onboard/confirm", {"policy_text": broken_policy()}, "/platform/onboard")
    assert r.status_code == 422
    assert _counts(fresh_app) == before
