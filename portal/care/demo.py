"""Demo care records for each seed district, following its own policy's `care:` section:
contact persons in the composition the document asks for (张店 3–5 per household from
its six kinds of helper, 嘉定 one town and one village contact, 开封 a town leader, a
health cadre and a village cadre …), family-doctor contracts (some declined), check-ups,
and a year of visits in mixed states (festival visits mostly made, some overdue; 嘉定's
quarterly doctor contacts mostly made). A few households are short of contacts and a
few assignments were handed over, so every figure and flag has something to show.

Names are synthetic (Faker zh_CN), phone numbers random and encrypted on insert. Rows
are written with one multi-row INSERT per table (the demo runs for every test DB).
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from portal.audit import trail
from portal.auth.models import User
from portal.care import rules, status
from portal.care.models import Assignment, Checkup, Contact, DoctorContract, Visit, VisitKind
from portal.db import new_id, utcnow
from portal.extensions import db
from portal.policy.care_format import CONTACT_ROLES
from portal.register import pii
from portal.register.models import Area, AreaKind, Household, HouseholdContact, Person, Relationship
from portal.tenancy.models import Tenant

TOWN_ROLES = {"town_leader", "town_cadre", "health_cadre"}
UNITS = {
    "town_leader": ("街道办事处", "副主任"),
    "town_cadre": ("街道计生办", "计生专干"),
    "health_cadre": ("社区卫生服务中心", "卫生计生干部"),
    "village_cadre": ("居委会", "计生主任"),
    "family_doctor": ("社区卫生服务中心", "家庭医生"),
    "grid_worker": ("网格工作站", "专职网格员"),
    "association_member": ("计生协会", "会员"),
    "social_worker": ("社工站", "社工"),
    "volunteer": ("志愿者服务队", "志愿者"),
}
FINDINGS = [
    "身体状况平稳，生活能自理。",
    "反映近期血压偏高，已提醒按时服药。",
    "情绪低落，已安排心理慰藉。",
    "家中居住环境整洁，无安全隐患。",
    "希望了解住院护理补贴政策，已解答。",
]
# a few home visits ask for follow-up (every FOLLOW_UP_EVERY-th, no random draw, so the
# rest of the demo stays as it was): the joint meeting can take them up as action items
FOLLOW_UPS = ["房屋老旧漏雨，需协调危房改造。", "老人行动不便，需申请居家养老上门服务。"]
FOLLOW_UP_EVERY = 23


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "158", "186"]) + f"{rng.randrange(10**8):08d}"


def load_demo(tenant: Tenant, policy_data: dict) -> list[tuple[str, str, str]]:
    """Idempotent: a district with contact persons already is left alone."""
    if db.session.execute(sa.select(Contact.id).limit(1)).first() is not None:
        return []
    from faker import Faker

    policy = rules.CarePolicy.from_section(policy_data.get("care"))
    rng = random.Random(f"care-demo-{tenant.slug}")  # noqa: S311 - demo data
    fake = Faker("zh_CN")
    fake.seed_instance(f"care-demo-{tenant.slug}")
    today = rules.today()
    roles = list(policy.roles or policy.required_roles or ("town_cadre", "village_cadre"))
    lo = max(policy.contacts_min, 1) if policy.contacts_min else 2
    hi = policy.contacts_max or lo
    areas = db.session.execute(
        sa.select(Area.id, Area.kind, Area.parent_id).order_by(Area.sort_order, Area.name)
    ).all()
    villages = {a.id: a.parent_id for a in areas if a.kind == AreaKind.village}
    towns = [a.id for a in areas if a.kind == AreaKind.town]
    tid = tenant.id
    now = utcnow()

    contacts: list[dict] = []
    pool: dict[tuple, list[dict]] = {}

    def contact(role: str, town_id, user_id=None, name: str | None = None) -> dict:
        unit, position = UNITS[role]
        phone = _phone(rng)
        row = {
            "tenant_id": tid, "id": new_id(), "name": name or fake.name(), "unit": unit,
            "position": position, "role": role, "phone": phone,
            "phone_index": pii.blind_index(phone, "phone"), "town_id": town_id,
            "user_id": user_id, "active": True, "created_at": now, "row_version": 1,
        }  # fmt: skip
        contacts.append(row)
        return row

    for town in towns:
        for role in roles:
            if role in TOWN_ROLES:
                pool[(role, town)] = [contact(role, town) for _ in range(3)]
    for village, town in villages.items():
        for role in roles:
            if role not in TOWN_ROLES:
                pool[(role, village)] = [contact(role, town) for _ in range(2)]

    # the demo village contact account is one of its village's village cadres
    linked = db.session.execute(
        sa.select(HouseholdContact.user_id, HouseholdContact.household_id)
        .join(Household, Household.id == HouseholdContact.household_id)
        .order_by(Household.number)
    ).all()
    account_households = {h for _u, h in linked}
    account_row = None
    if linked:
        user = db.session.get(User, linked[0][0])
        first_h = db.session.execute(
            sa.select(Household.village_id, Household.town_id).where(Household.id == linked[0][1])
        ).one()
        role = "village_cadre" if "village_cadre" in roles else roles[-1]
        account_row = contact(role, first_h.town_id, user.id, user.display_name)

    households = db.session.execute(
        sa.select(Household.id, Household.town_id, Household.village_id, Household.category)
        .where(Household.status == "registered")
        .order_by(Household.number)
    ).all()
    assignments: list[dict] = []
    for i, h in enumerate(households):
        want = rng.randint(lo, hi)
        if i % 17 == 5:  # a few households short of the composition
            want = max(lo - 1, 0)
        chosen: list[dict] = []
        if account_row is not None and h.id in account_households:
            chosen.append(account_row)
        order = list(policy.required_roles) + [r for r in roles if r not in policy.required_roles]
        for role in order:
            if len(chosen) >= want:
                break
            if any(c["role"] == role for c in chosen) and role in policy.required_roles:
                continue
            key = (role, h.town_id if role in TOWN_ROLES else h.village_id)
            options = [c for c in pool.get(key, []) if c not in chosen]
            if options:
                chosen.append(rng.choice(options))
        if i % 17 == 5 and policy.required_roles and len(chosen) >= lo:
            chosen = chosen[:-1]
        for c in chosen:
            start = today - dt.timedelta(days=rng.randint(200, 900))
            if i % 23 == 3:  # handed over: the earlier contact's assignment ended
                prior = [
                    p
                    for p in pool.get(
                        (c["role"], h.town_id if c["role"] in TOWN_ROLES else h.village_id), []
                    )
                    if p is not c
                ]
                if prior:
                    assignments.append({
                        "tenant_id": tid, "id": new_id(), "contact_id": prior[0]["id"],
                        "household_id": h.id, "started_on": start - dt.timedelta(days=400),
                        "ended_on": start, "end_reason": "工作调动，联系人调整", "created_at": now,
                    })  # fmt: skip
            assignments.append({
                "tenant_id": tid, "id": new_id(), "contact_id": c["id"], "household_id": h.id,
                "started_on": start, "ended_on": None, "end_reason": "", "created_at": now,
            })  # fmt: skip

    persons = db.session.execute(
        sa.select(Person.id, Person.household_id, Person.birth_date, Person.relationship_)
        .join(
            Household,
            sa.and_(Household.tenant_id == Person.tenant_id, Household.id == Person.household_id),
        )
        .where(Person.alive.is_(True), Household.status == "registered")
        # not by id alone: ids made in the same millisecond (uuid7) sort at random, and the
        # seeded draws below would then fall to other people on each build
        .order_by(Household.number, Person.relationship_, Person.birth_date, Person.id)
    ).all()
    contracts, checkups = [], []
    signed_households: set = set()
    for p in persons:
        roll = rng.random()
        if roll < 0.86:
            signed = today - dt.timedelta(days=rng.randint(120, 1000))
            contracts.append({
                "tenant_id": tid, "id": new_id(), "household_id": p.household_id,
                "person_id": p.id, "doctor": fake.name(), "institution": "社区卫生服务中心",
                "signed_on": signed, "renewed_on": signed + dt.timedelta(days=365) if roll < 0.4 else None,
                "declined": False, "declined_reason": "", "created_at": now, "row_version": 1,
            })  # fmt: skip
            signed_households.add(p.household_id)
        elif roll < 0.91:
            contracts.append({
                "tenant_id": tid, "id": new_id(), "household_id": p.household_id,
                "person_id": p.id, "doctor": "", "institution": "", "signed_on": None,
                "renewed_on": None, "declined": True, "declined_reason": "本人暂不愿签约",
                "created_at": now, "row_version": 1,
            })  # fmt: skip
        age = rules.age(p.birth_date, today)
        for rule in policy.checkups:
            if rule.holders_only and p.relationship_ not in (
                Relationship.principal,
                Relationship.spouse,
            ):
                continue
            if rule.member_min_age is not None and age < rule.member_min_age:
                continue
            if rule.member_max_age is not None and age > rule.member_max_age:
                continue
            if rng.random() < 0.72:
                day = dt.date(today.year, 1, 1) + dt.timedelta(
                    days=rng.randint(0, today.timetuple().tm_yday - 1)
                )
                checkups.append({
                    "tenant_id": tid, "id": new_id(), "household_id": p.household_id,
                    "person_id": p.id, "done_on": day, "institution": "社区卫生服务中心",
                    "note": "", "created_at": now,
                })  # fmt: skip
            break

    oldest: dict = {}
    for p in persons:
        if p.relationship_ in (Relationship.principal, Relationship.spouse):
            oldest[p.household_id] = min(oldest.get(p.household_id, p.birth_date), p.birth_date)
    visits: list[dict] = []

    def visit(
        h, day: dt.date, kind: VisitKind, festival: str = "", who: dict | None = None
    ) -> None:
        visits.append({
            "tenant_id": tid, "id": new_id(), "household_id": h.id, "visited_on": day,
            "kind": kind.value, "festival": festival, "festival_year": day.year if festival else None,
            "contact_id": who["id"] if who else None, "visitor_name": who["name"] if who else "",
            "companions": "", "findings": rng.choice(FINDINGS), "follow_up": False,
            "follow_up_note": "", "recorded_by_id": None, "created_at": now,
        })  # fmt: skip

    by_household: dict = {}
    for a in assignments:
        if a["ended_on"] is None:
            by_household.setdefault(a["household_id"], []).append(a["contact_id"])
    by_id = {c["id"]: c for c in contacts}
    q_start, _ = rules.quarter_of(today)
    # one household of the demo village contact account keeps this year's festival visits
    # outstanding, so that account always has a visit to record (the phone journey)
    left_open = next((h.id for h in households if h.id in account_households), None)
    for i, h in enumerate(households):
        mine = [by_id[c] for c in by_household.get(h.id, [])]
        who = mine[0] if mine else None
        born = oldest.get(h.id)
        for rule, day in policy.festivals_in(today.year):
            if day > today:
                continue
            age = rules.age(born, day) if born else None
            made = rng.random() < 0.85 and h.id != left_open
            if rule.applies(h.category, age) and made:
                visit(
                    h,
                    day - dt.timedelta(days=rng.randint(0, 12)),
                    VisitKind.festival,
                    rule.festival,
                    who,
                )
        for _ in range(rng.randint(1, 4)):  # home visits and calls over the past year
            day = today - dt.timedelta(days=rng.randint(0, 364))
            visit(
                h, day, rng.choice([VisitKind.home, VisitKind.phone, VisitKind.emotional]), "", who
            )
        if i % 9 == 0:  # more households touched early this quarter
            visit(
                h,
                q_start + dt.timedelta(days=rng.randint(0, max((today - q_start).days, 0))),
                VisitKind.phone,
                "",
                who,
            )
        if policy.doctor_cadence == "quarterly" and h.id in signed_households:
            for back in range(4):
                start, end = rules.quarter_of(q_start - dt.timedelta(days=1 + 92 * back))
                if rng.random() < 0.82:
                    visit(
                        h,
                        start + dt.timedelta(days=rng.randint(0, (end - start).days)),
                        VisitKind.doctor,
                    )

    conn = db.session.connection()
    for table, rows in (
        (Contact.__table__, contacts),
        (Assignment.__table__, assignments),
        (DoctorContract.__table__, contracts),
        (Checkup.__table__, checkups),
        (Visit.__table__, _with_follow_ups(visits)),
    ):
        if rows:
            conn.execute(sa.insert(table), rows)
    status.refresh(tid)  # the figures' status rows, as the operations keep them
    status.rebuild(tid)  # and today's village figures
    trail.record(
        db.session,
        "care_demo_loaded",
        entity_type="Visit",
        summary=f"demo care: {len(contacts)} contacts, {len(visits)} visits",
        data={"contacts": len(contacts), "assignments": len(assignments), "visits": len(visits)},
    )
    return []


__all__ = ["CONTACT_ROLES", "load_demo"]


def _with_follow_ups(visits: list[dict]) -> list[dict]:
    """Mark every FOLLOW_UP_EVERY-th home visit as needing follow-up (deterministic)."""
    homes = [v for v in visits if v["kind"] == VisitKind.home.value]
    for i, v in enumerate(homes[FOLLOW_UP_EVERY - 1 :: FOLLOW_UP_EVERY]):
        v["follow_up"], v["follow_up_note"] = True, FOLLOW_UPS[i % len(FOLLOW_UPS)]
    return visits
