"""Demo register for each seed district: clearly marked sample areas (示例街道一 …, no real
place), about 200 synthetic households, change requests in every state, a few exits,
and one town officer and one village contact login.

Everything is seeded per district, so two runs give the same names and numbers. The
resident ID numbers are synthetic: the district's area code, a generated birth date
and order code, and a valid check digit computed with python-stdnum — taken from no
record. The bulk of the households is written with one multi-row INSERT per table on
the session's connection (ORM objects for 700 rows per district cost seconds of the
test suite's set-up); the demo's own change requests go through the operations as a
town officer and the eligibility officer would, and the load itself is one audit event.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa
from stdnum.cn import ric

from portal.audit import trail
from portal.auth.models import Role, User
from portal.db import new_id, utcnow
from portal.extensions import db
from portal.register import decisions, operations, pii, proposals
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ContactVillage,
    ExitReason,
    Household,
    HouseholdContact,
    HouseholdStatus,
    OfficerTown,
    Person,
    eligibility_department,
)
from portal.tenancy.models import Tenant

HOUSEHOLDS = 200
TOWNS = 3
VILLAGES_PER_TOWN = 3
DEMO_PASSWORD = "Demo-2026-pass"  # noqa: S105 - the demo's printed password
NUMERALS = "一二三四五六七八九十"
AREA_CODES = {"kaifeng": "410205", "zhangdian": "370303", "jiading": "310114", "jiangyan": "321204"}
LEVELS = {
    Category.bereaved: [""],
    Category.disabled_child: ["一级", "二级", "三级"],
    Category.surgery_complication: ["一级", "二级", "三级"],
}


def town_username(slug: str) -> str:
    return f"{slug}-town1"


def village_username(slug: str) -> str:
    return f"{slug}-village1"


class IdMaker:
    """Synthetic resident ID numbers with valid check digits, unique within a district."""

    def __init__(self, area: str, rng: random.Random) -> None:
        self.area, self.rng, self.used = area, rng, set()

    def make(self, born: dt.date, female: bool) -> str:
        while True:
            order = self.rng.randrange(100, 999)
            if (order % 2 == 0) != female:
                order += 1
            body = f"{self.area}{born:%Y%m%d}{order:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used:
                self.used.add(number)
                return number


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "158", "186", "187"]) + f"{rng.randrange(10**8):08d}"


def _date(rng: random.Random, start: int, end: int) -> dt.date:
    first = dt.date(start, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randrange(first, dt.date(end, 12, 28).toordinal()))


def _areas() -> list[tuple[Area, list[Area]]]:
    towns = []
    for t in range(TOWNS):
        town = operations.add_area(f"示例街道{NUMERALS[t]}", AreaKind.town)
        town.sort_order = t
        villages = []
        for v in range(VILLAGES_PER_TOWN):
            n = t * VILLAGES_PER_TOWN + v
            village = operations.add_area(
                f"示例社区{NUMERALS[n % 10]}{'' if n < 10 else n}", AreaKind.village, town
            )
            village.sort_order = v
            villages.append(village)
        towns.append((town, villages))
    db.session.flush()
    return towns


def _user(username: str, display: str, role: Role, tenant: Tenant) -> User:
    from portal.auth.operations import create_user
    from portal.kernel.grants import SYSTEM

    user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        user = create_user(
            SYSTEM,
            username=username,
            display_name=display,
            password=DEMO_PASSWORD,
            role=role,
            tenant=tenant,
        ).user
        db.session.flush()
    return user


def _households(
    tenant: Tenant, towns: list[tuple[Area, list[Area]]], rng: random.Random, ids: IdMaker
):
    """The rows of ~200 confirmed households and their members (plain dicts)."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(10**9))
    households: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    villages = [(town, v) for town, vs in towns for v in vs]
    now = utcnow()
    for i in range(HOUSEHOLDS):
        town, village = villages[i % len(villages)]
        category = rng.choices(list(Category), weights=[6, 3, 1])[0]
        hid = new_id()
        woman_born = _date(rng, 1950, 1977)
        husband_born = woman_born - dt.timedelta(days=rng.randrange(0, 2500))
        principal_female = category != Category.surgery_complication or rng.random() < 0.8
        surname = fake.last_name()
        woman = surname + fake.first_name_female() if principal_female else fake.name_female()
        man = fake.name_male() if principal_female else surname + fake.first_name_male()
        members = [
            (
                "principal",
                woman if principal_female else man,
                woman_born if principal_female else husband_born,
                principal_female,
            ),
            (
                "spouse",
                man if principal_female else woman,
                husband_born if principal_female else woman_born,
                not principal_female,
            ),
        ]
        if category == Category.disabled_child:
            members.append(
                ("child", surname + fake.first_name(), _date(rng, 1985, 2005), rng.random() < 0.5)
            )
        exited = i % 40 == 7
        households.append(
            {
                "tenant_id": tenant.id,
                "id": hid,
                "number": f"D{i + 1:06d}",
                "town_id": town.id,
                "village_id": village.id,
                "category": category.name,
                "level": rng.choice(LEVELS[category]),
                "address": f"{village.name}{rng.randrange(1, 40)}号楼{rng.randrange(1, 6)}单元",
                "head_name": members[0][1],
                "woman_birth_date": woman_born,
                "status": (HouseholdStatus.exited if exited else HouseholdStatus.registered).name,
                "exit_reason": rng.choice(list(ExitReason)).name if exited else None,
                "exit_date": _date(rng, 2023, 2025) if exited else None,
                "registered_on": _date(rng, 2008, 2025),
                "created_at": now,
                "row_version": 1,
            }
        )
        for pos, (relationship, name, born, female) in enumerate(members):
            number = ids.make(born, female)
            phone = _phone(rng) if relationship != "child" else None
            persons.append(
                {
                    "tenant_id": tenant.id,
                    "id": new_id(),
                    "household_id": hid,
                    "position": pos,
                    "relationship": relationship,
                    "name": name,
                    "id_number": number,
                    "id_index": pii.blind_index(number, "id_number"),
                    "birth_date": born,
                    "gender": "female" if female else "male",
                    "phone": phone,
                    "phone_index": pii.blind_index(phone, "phone") if phone else None,
                    "alive": True,
                    "death_date": None,
                    "disability_grade": rng.choice(["一级", "二级", "三级"])
                    if relationship == "child"
                    else "",
                    "created_at": now,
                }
            )
    return households, persons


def _requests(
    tenant: Tenant,
    town: Area,
    officer: User,
    confirmer: User | None,
    rng: random.Random,
    ids: IdMaker,
) -> None:
    """Pending, returned and confirmed requests, through the operations."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(10**9))
    villages = (
        db.session.execute(
            sa.select(Area).where(Area.parent_id == town.id).order_by(Area.sort_order)
        )
        .scalars()
        .all()
    )
    made = []
    for k in range(6):
        woman_born = _date(rng, 1958, 1975)
        data = {
            "village_id": str(villages[k % len(villages)].id),
            "category": (Category.bereaved if k % 2 == 0 else Category.disabled_child).value,
            "address": f"{villages[k % len(villages)].name}{k + 3}号",
            "registered_on": "2026-10-15",
            "evidence_note": "独生子女死亡证明、户口簿复印件",
            "members": [
                {
                    "relationship": "principal",
                    "name": fake.name_female(),
                    "id_number": ids.make(woman_born, True),
                    "phone": _phone(rng),
                },
                {
                    "relationship": "spouse",
                    "name": fake.name_male(),
                    "id_number": ids.make(woman_born - dt.timedelta(days=700), False),
                    "phone": _phone(rng),
                },
            ],
        }
        made.append(proposals.propose_enrol(officer, data))
    households = (
        db.session.execute(
            sa.select(Household)
            .where(Household.town_id == town.id, Household.status == HouseholdStatus.registered)
            .order_by(Household.number)
            .limit(3)
        )
        .scalars()
        .all()
    )
    change = proposals.propose_change(
        officer,
        households[0],
        {"address": households[0].address + "（新址）", "evidence_note": "搬迁证明"},
        households[0].row_version,
    )
    exit_request = proposals.propose_exit(
        officer,
        households[1],
        {"exit_reason": "moved_away", "exit_date": "2026-09-30", "evidence_note": "户口迁出证明"},
        households[1].row_version,
    )
    if confirmer is not None:
        for request in (made[0], made[1], exit_request):
            decisions.confirm(confirmer, request, request.row_version)
        decisions.return_request(
            confirmer, made[2], "缺少独生子女死亡证明，请补充后重新提交。", made[2].row_version
        )
    _ = change  # stays pending


def load_demo(tenant: Tenant, policy_data: dict) -> list[tuple[str, str, str]]:
    """Idempotent: a district that has areas already is left alone. Returns its logins."""
    slug = tenant.slug
    logins = [
        (tenant.name, town_username(slug), Role.town_officer.value),
        (tenant.name, village_username(slug), Role.village_contact.value),
    ]
    if db.session.execute(sa.select(Area.id).limit(1)).first() is not None:
        return logins
    rng = random.Random(f"register-demo-{slug}")  # noqa: S311 - demo data, not secrets
    ids = IdMaker(AREA_CODES.get(slug, "410205"), rng)
    towns = _areas()
    officer = _user(town_username(slug), f"{towns[0][0].name}经办人", Role.town_officer, tenant)
    contact = _user(
        village_username(slug), f"{towns[0][1][0].name}联系人", Role.village_contact, tenant
    )
    households, persons = _households(tenant, towns, rng, ids)
    conn = db.session.connection()
    conn.execute(sa.insert(Household.__table__), households)
    conn.execute(sa.insert(Person.__table__), persons)
    db.session.add(OfficerTown(user_id=officer.id, town_id=towns[0][0].id))
    first_village = towns[0][1][0].id
    db.session.add(ContactVillage(user_id=contact.id, village_id=first_village))
    for h in [h for h in households if h["village_id"] == first_village][:12]:
        db.session.add(HouseholdContact(user_id=contact.id, household_id=h["id"]))
    db.session.flush()
    confirmer = None
    dept_id = db.session.execute(sa.select(eligibility_department())).scalar()
    if dept_id is not None:
        confirmer = db.session.execute(
            sa.select(User)
            .where(User.department_id == dept_id, User.role == Role.dept_officer)
            .order_by(User.username)
            .limit(1)
        ).scalar()
    _requests(tenant, towns[0][0], officer, confirmer, rng, ids)
    trail.record(
        db.session,
        "register_demo_loaded",
        entity_type="Household",
        summary=f"demo register: {len(households)} households, {len(persons)} persons",
        data={"households": len(households), "persons": len(persons)},
    )
    return logins
