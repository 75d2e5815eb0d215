"""Changes are proposed, then confirmed or returned; duplicates are caught at proposal."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from tests.register.helpers import tenant_id


def make_id(born: str, order: int) -> str:
    body = f"410205{born}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def district(fresh_app):  # type: ignore[no-untyped-def]
    """The fresh demo's Kaifeng, its town officer, health officer and first village."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.register.models import Area, AreaKind, OfficerTown
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        users = {
            u.username: u
            for u in db.session.execute(
                sa.select(User).where(User.username.in_(["kaifeng-town1", "kaifeng-health"]))
            ).scalars()
        }
        town = db.session.execute(sa.select(OfficerTown.town_id)).scalar_one()
        village = (
            db.session.execute(
                sa.select(Area).where(Area.parent_id == town, Area.kind == AreaKind.village)
            )
            .scalars()
            .first()
        )
        yield {
            "town": users["kaifeng-town1"],
            "health": users["kaifeng-health"],
            "village": village,
        }
        db.session.rollback()


def _enrol(district, number: str, spouse: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    members = [
        {"relationship": "principal", "name": "测试甲", "id_number": number, "phone": "13900001111"}
    ]
    if spouse:
        members.append({"relationship": "spouse", "name": "测试乙", "id_number": spouse})
    return {"village_id": str(district["village"].id), "category": "bereaved", "members": members}


def test_enrolment_counts_only_once_confirmed(district) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register import decisions, pii, proposals
    from portal.register.models import Household, Person, RequestStatus

    number = make_id("19700304", 124)  # even order code: a woman
    request = proposals.propose_enrol(district["town"], _enrol(district, number))
    assert number not in str(request.payload) and request.payload["members"][0]["id"][
        "masked"
    ] == pii.mask_id(number)
    index = pii.blind_index(number, "id_number")
    assert db.session.execute(sa.select(Person).where(Person.id_index == index)).first() is None
    household = decisions.confirm(district["health"], request, request.row_version)
    assert request.status == RequestStatus.confirmed and request.household_id == household.id
    person = db.session.execute(sa.select(Person).where(Person.id_index == index)).scalar_one()
    assert person.id_number == number and person.gender.value == "female"
    assert str(person.birth_date) == "1970-03-04"
    assert household.woman_birth_date == person.birth_date
    assert (
        db.session.get(Household, (household.tenant_id, household.id)).status.value == "registered"
    )


def test_duplicate_id_is_caught_at_proposal_in_any_town(district) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register import proposals
    from portal.register.models import Area, Household, Person
    from portal.register.rules import Duplicate

    # a person of a household in another town than the officer's
    other = (
        db.session.execute(
            sa.select(Person)
            .join(Household, Household.id == Person.household_id)
            .join(Area, Area.id == Household.town_id)
            .where(Area.name == "示例街道三")
        )
        .scalars()
        .first()
    )
    with pytest.raises(Duplicate) as caught:
        proposals.propose_enrol(district["town"], _enrol(district, other.id_number))
    assert caught.value.field == "members.0.id_number"
    fresh = make_id("19650101", 222)
    with pytest.raises(Duplicate):
        proposals.propose_enrol(district["town"], _enrol(district, fresh, fresh))
    proposals.propose_enrol(district["town"], _enrol(district, fresh))
    with pytest.raises(Duplicate):  # now pending in a request
        proposals.propose_enrol(district["town"], _enrol(district, fresh))


def test_bad_ids_are_refused_with_the_field(district) -> None:  # type: ignore[no-untyped-def]
    from portal.register import proposals
    from portal.register.rules import RegisterError

    good = make_id("19700304", 124)
    for bad in (good[:-1] + ("0" if good[-1] != "0" else "1"), good[:17], "410205197013041240"):
        with pytest.raises(RegisterError) as caught:
            proposals.propose_enrol(district["town"], _enrol(district, bad))
        assert caught.value.field == "members.0.id_number"


def test_proposer_cannot_confirm_and_return_needs_a_reason(district) -> None:  # type: ignore[no-untyped-def]
    from portal.register import decisions, proposals
    from portal.register.rules import RegisterError

    request = proposals.propose_enrol(district["town"], _enrol(district, make_id("19720505", 346)))
    with pytest.raises(RegisterError):  # the town officer holds no confirm grant anyway
        decisions.confirm(district["town"], request, request.row_version)
    request.proposed_by_id = district["health"].id  # as if the confirming officer proposed
    with pytest.raises(RegisterError):
        decisions.confirm(district["health"], request, request.row_version)
    request.proposed_by_id = district["town"].id
    with pytest.raises(RegisterError) as caught:
        decisions.return_request(district["health"], request, "  ", request.row_version)
    assert caught.value.field == "reason"
    decisions.return_request(district["health"], request, "材料不全", request.row_version)
    assert request.status.value == "returned" and request.decided_by_name
    with pytest.raises(RegisterError):  # decided once
        decisions.confirm(district["health"], request, request.row_version)


def test_exit_and_change_through_the_pages(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    town = login_as("kaifeng-town1", fresh_app)
    page = town.get("/t/kaifeng/register/?status=registered").get_data(as_text=True)
    households = re.findall(r'href="(/t/kaifeng/register/households/[0-9a-f-]+)"', page)
    target = next(
        h
        for h in households
        if "待确认" not in town.get(h).get_data(as_text=True)
        and "propose-change" in town.get(h).get_data(as_text=True)
    )
    version = re.search(r'data-version="(\d+)"', town.get(target).get_data(as_text=True)).group(1)
    r = town.post(
        f"{target}/exit",
        {"exit_reason": "moved_away", "exit_date": "2026-06-30", "row_version": version},
        csrf_from=target,
    )
    assert r.status_code == 302
    r = town.post(
        f"{target}/exit",
        {"exit_reason": "death", "exit_date": "2026-06-30", "row_version": version},
        csrf_from=target,
    )
    assert "已有待确认的申请" in town.get(target).get_data(as_text=True)
    health = login_as("kaifeng-health", fresh_app)
    queue = health.get("/t/kaifeng/register/requests").get_data(as_text=True)
    household_id = target.rsplit("/", 1)[1]
    request_id = re.search(
        rf'data-request="([0-9a-f-]+)">\s*<td>退出</td>\s*<td><a href="[^"]*{household_id}"', queue
    ).group(1)
    request_version = re.search(
        rf'data-request="{request_id}".*?name="row_version" value="(\d+)"', queue, re.S
    ).group(1)
    r = health.post(
        f"/t/kaifeng/register/requests/{request_id}/decide",
        {"decision": "confirm", "row_version": request_version},
        csrf_from="/t/kaifeng/register/requests",
    )
    assert r.status_code == 302
    detail = health.get(target).get_data(as_text=True)
    assert "迁出" in detail and "2026年6月30日" in detail and "已确认" in detail
    # a stale row_version is a conflict, not a silent overwrite
    r = town.post(
        f"{target}/change", {"address": "新地址", "row_version": version}, csrf_from=target
    )
    assert "已退出名册" in town.get(target).get_data(as_text=True) or r.status_code == 302
