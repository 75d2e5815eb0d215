"""Who sees which households: the one scoping hook, 404 outside it (pages and API)."""

from __future__ import annotations

import re

from tests.register.helpers import bearer, contact_households, households_by_town

TOWN1, TOWN2 = "示例街道一", "示例街道二"


def _listed(page: str) -> set[str]:
    return set(re.findall(r'data-household="([0-9a-f-]+)"', page))


def test_town_officer_sees_and_opens_only_their_town(app, login_as) -> None:  # type: ignore[no-untyped-def]
    towns = households_by_town(app)
    b = login_as("kaifeng-town1")
    own = {str(h) for h in towns[TOWN1]}
    seen: set[str] = set()
    for page in range(1, 6):
        seen |= _listed(b.get(f"/t/kaifeng/register/?page={page}").get_data(as_text=True))
    assert seen and seen <= own
    assert b.get(f"/t/kaifeng/register/households/{towns[TOWN1][0]}").status_code == 200
    assert b.get(f"/t/kaifeng/register/households/{towns[TOWN2][0]}").status_code == 404
    # filtering by another town shows nothing rather than that town's families
    r = b.get(f"/t/kaifeng/register/?town={towns[TOWN2][0]}")
    assert not _listed(r.get_data(as_text=True))


def test_town_officer_cannot_propose_for_another_town(app, login_as) -> None:  # type: ignore[no-untyped-def]
    towns = households_by_town(app)
    b = login_as("kaifeng-town1")
    r = b.post(
        f"/t/kaifeng/register/households/{towns[TOWN2][0]}/exit",
        {"exit_reason": "death", "exit_date": "2026-01-01"},
        csrf_from="/t/kaifeng/register/",
    )
    assert r.status_code == 404


def test_village_contact_sees_only_assigned_households(app, login_as) -> None:  # type: ignore[no-untyped-def]
    assigned = {str(h) for h in contact_households(app, "kaifeng-village1")}
    b = login_as("kaifeng-village1")
    seen = _listed(b.get("/t/kaifeng/register/").get_data(as_text=True))
    assert seen == assigned and len(assigned) == 12
    other = next(h for hs in households_by_town(app).values() for h in hs if str(h) not in assigned)
    assert b.get(f"/t/kaifeng/register/households/{other}").status_code == 404


def test_only_the_eligibility_department_sees_the_register(app, login_as) -> None:  # type: ignore[no-untyped-def]
    household = households_by_town(app)[TOWN2][0]
    health = login_as("kaifeng-health")
    assert health.get(f"/t/kaifeng/register/households/{household}").status_code == 200
    assert "示例街道三" in health.get("/t/kaifeng/register/").get_data(as_text=True)
    other = login_as("kaifeng-civil-affairs")
    assert other.get("/t/kaifeng/register/").status_code == 404
    assert other.get(f"/t/kaifeng/register/households/{household}").status_code == 404
    assert "/register/" not in other.get("/t/kaifeng/").get_data(as_text=True)


def test_lead_and_auditor_see_the_whole_district(app, login_as) -> None:  # type: ignore[no-untyped-def]
    towns = households_by_town(app)
    total = sum(len(v) for v in towns.values())
    for user in ("kaifeng-lead", "kaifeng-auditor"):
        page = login_as(user).get("/t/kaifeng/register/").get_data(as_text=True)
        assert f"{total} 户" in page or f"{total} households" in page


def test_another_districts_household_is_not_found(app, login_as) -> None:  # type: ignore[no-untyped-def]
    other = households_by_town(app, "jiading")[TOWN1][0]
    b = login_as("kaifeng-lead")
    assert b.get(f"/t/kaifeng/register/households/{other}").status_code == 404
    assert b.get(f"/t/jiading/register/households/{other}").status_code == 404


def test_api_has_the_same_scope(app) -> None:  # type: ignore[no-untyped-def]
    towns = households_by_town(app)
    client = app.test_client()
    headers = bearer(app, "kaifeng-town1")
    listed = client.get("/api/v1/households?per_page=100", headers=headers).get_json()
    assert listed["total"] == len(towns[TOWN1])
    assert client.get(f"/api/v1/households/{towns[TOWN2][0]}", headers=headers).status_code == 404
    detail = client.get(f"/api/v1/households/{towns[TOWN1][0]}", headers=headers).get_json()
    assert detail["members"] and all("*" in m["id_number"] for m in detail["members"])
    officer = bearer(app, "kaifeng-civil-affairs")
    assert client.get("/api/v1/households", headers=officer).status_code == 404
    lead = client.get("/api/v1/households?status=exited", headers=bearer(app, "kaifeng-lead"))
    assert lead.get_json()["total"] >= 5
