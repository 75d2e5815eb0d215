"""The policy file's `care:` section: each seed carries what its document says; the
validator names every mistake by path."""

from __future__ import annotations

import copy

import pytest
import yaml

from portal.care.rules import CarePolicy
from portal.policy import schema
from tests.conftest import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"


def _load(stem: str) -> dict:
    return yaml.safe_load((ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8"))


def _seed_text(name: str) -> str:
    path = ROOT.parent.parent / "shared" / "seeds" / name
    if not path.exists():
        path = __import__("pathlib").Path("/work/shared/seeds") / name
    return "".join(path.read_text(encoding="utf-8").split())


@pytest.mark.parametrize(
    "stem,seed",
    [
        ("zhangdian", "000_cb0e1058ba2fc226.txt"),
        ("jiangyan", "001_58b0f00c85f4dd19.txt"),
        ("jiading", "002_4cedc7b2ea324869.txt"),
        ("kaifeng", "003_90f91cefd5b32884.txt"),
    ],
)
def test_every_quote_is_in_the_document(stem: str, seed: str) -> None:
    """Each `quote` (its parts around an ellipsis) occurs in the seed text, spaces aside."""
    care = _load(stem)["care"]
    text = _seed_text(seed)
    quotes = [care["contacts"]["quote"]]
    quotes += [v["quote"] for v in care.get("festival_visits") or []]
    quotes += [c["quote"] for c in care.get("checkups") or []]
    if care.get("doctor_contact"):
        quotes.append(care["doctor_contact"]["quote"])
    for q in quotes:
        for part in q.split("……"):
            assert "".join(part.split()) in text, (stem, part)


def test_each_district_carries_its_own_composition_and_cadences() -> None:
    zd = CarePolicy.from_section(_load("zhangdian")["care"])
    assert (zd.contacts_min, zd.contacts_max) == (3, 5)
    assert [(r.festival, r.family_types, r.member_min_age) for r in zd.festival_rules] == [
        ("spring_festival", ("bereaved",), None),
        ("mid_autumn", ("bereaved",), None),
        ("double_ninth", ("disabled_child",), 60),
    ]
    assert zd.doctor_cadence is None  # 张店 states no doctor-contact cadence
    jd = CarePolicy.from_section(_load("jiading")["care"])
    assert (jd.contacts_min, jd.required_roles) == (2, ("town_cadre", "village_cadre"))
    assert jd.doctor_cadence == "quarterly"
    jy = CarePolicy.from_section(_load("jiangyan")["care"])
    assert jy.festival_rules == () and jy.checkups[0].member_min_age == 65
    kf = CarePolicy.from_section(_load("kaifeng")["care"])
    assert kf.required_roles == ("town_leader", "health_cadre", "village_cadre")
    assert kf.festival_rules == () and kf.checkups == ()


@pytest.mark.parametrize(
    "mutate,path",
    [
        (lambda c: c["contacts"].update(min=0), "care.contacts.min"),
        (lambda c: c["contacts"].update(max=1), "care.contacts.max"),
        (lambda c: c["contacts"]["roles"].append("mayor"), "care.contacts.roles[6]"),
        (
            lambda c: c["festival_visits"][0].update(festival="qingming"),
            "care.festival_visits[0].festival",
        ),
        (lambda c: c["festival_visits"][0].pop("quote"), "care.festival_visits[0].quote"),
        (
            lambda c: c["festival_visits"].append(copy.deepcopy(c["festival_visits"][0])),
            "care.festival_visits[3]",
        ),
        (lambda c: c["checkups"][0].update(cadence="monthly"), "care.checkups[0].cadence"),
        (lambda c: c["checkups"][0].update(member_max_age=40), "care.checkups[0].member_max_age"),
        (lambda c: c.update(visits=[]), "care.visits"),
        (
            lambda c: c["checkups"][1]["inferred"].update(amount="x"),
            "care.checkups[1].inferred.amount",
        ),
    ],
)
def test_mistakes_are_named_by_path(mutate, path: str) -> None:  # type: ignore[no-untyped-def]
    data = _load("zhangdian")
    mutate(data["care"])
    problems = schema.validate_policy(data)
    assert path in [p.path for p in problems], [str(p) for p in problems]
