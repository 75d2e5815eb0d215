"""The Chinese catalogs follow docs/glossary.md (issue 14): no translation uses a term the
glossary rules out for the concept its English text speaks of."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from tests.conftest import ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"


def rules() -> list[tuple[str, re.Pattern[str], list[str]]]:
    """(concept, English pattern, forbidden terms) from the glossary's table."""
    out = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith("| concept") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        concept, pattern, _zh, forbidden = cells[0], cells[1], cells[2], cells[3]
        pattern = pattern.strip("`").replace("\\|", "|")
        terms = [t for t in forbidden.split("、") if t]
        out.append((concept, re.compile(pattern, re.I), terms))
    return out


def catalog_messages() -> list[tuple[str, str, str]]:
    """(domain, English msgid, Chinese msgstr) of every zh catalog."""
    out = []
    for po in sorted((ROOT / "translations").glob("*/zh_Hans_CN/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        for m in catalog:
            if not m.id:
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strs = m.string if isinstance(m.string, tuple) else (m.string,)
            for i in ids:
                for s in strs:
                    out.append((po.parts[-4], i, s or ""))
    return out


def violations() -> list[str]:
    found = []
    for domain, msgid, msgstr in catalog_messages():
        for concept, pattern, terms in rules():
            if not pattern.search(msgid):
                continue
            for term in terms:
                if term in msgstr:
                    found.append(f"{domain}: {msgid!r} → {msgstr!r} uses {term} ({concept})")
    return found


def test_the_glossary_is_read() -> None:
    table = rules()
    assert len(table) >= 10
    concepts = {c.split(" (")[0] for c, _p, _t in table}
    assert {"district lead", "lead department", "sign off", "circulate"} <= concepts


def test_catalogs_follow_the_glossary() -> None:
    found = violations()
    assert not found, "\n".join(found)


def test_the_check_catches_a_forbidden_term() -> None:
    """The reviewer called 牵头单位 (the issue's example) is caught."""
    (concept, pattern, terms) = next(r for r in rules() if r[0].startswith("district lead"))
    assert pattern.search("Signing off sends this duty to the district lead for review.")
    assert "牵头单位" in terms and "联席办" in terms
