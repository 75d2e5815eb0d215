"""The `care:` section of a district policy file (docs/policy-format.md, "care").

What the district's document says about care for each household: who its contact
persons are (帮扶联系人 / 双岗联系人 / 五定两包), which festivals call for a visit to
which households, how often family doctors contact signed members, and who gets a
check-up how often. The `care` domain reads it; the validator (`schema.validate_policy`)
calls `check_care` so a file with a bad care section is refused as a whole.

The tables below (and `codes.yaml`) are THE lists: docs/policy-format.md documents the
same codes.
"""

from __future__ import annotations

from typing import Any

from portal.policy.codes import CADENCES, FESTIVALS, code_table

# Who may serve as a household's contact person (联系人组成).
CONTACT_ROLES = code_table("CONTACT_ROLES")

# Festivals that set a visit's due date (the dates per year: `portal.care.festivals`).
# Named as the benefits' festivals are (one name per festival across the file format).
CARE_FESTIVALS: dict[str, tuple[str, str]] = {
    code: FESTIVALS[code] for code in ("spring_festival", "mid_autumn", "double_ninth")
}

# How often a doctor contact or a check-up is due (named as the meetings' cadences).
CARE_CADENCES: dict[str, tuple[str, str]] = {
    "quarterly": CADENCES["quarterly"],
    "yearly": CADENCES["yearly"],
    "once": ("一次", "once"),
}

CARE_KEYS = {"contacts", "festival_visits", "doctor_contact", "checkups", "note", "inferred"}
CONTACTS_KEYS = {"min", "max", "roles", "required_roles", "quote", "inferred"}
FESTIVAL_VISIT_KEYS = {
    "festival",
    "family_types",
    "member_min_age",
    "amount",
    "quote",
    "inferred",
}
DOCTOR_CONTACT_KEYS = {"cadence", "quote", "inferred"}
CHECKUP_KEYS = {
    "cadence",
    "member_min_age",
    "member_max_age",
    "holders_only",
    "quote",
    "inferred",
}


def check_care(c: Any, care: Any) -> None:
    """Collect every problem of a `care:` section on the schema's checker `c`."""
    from portal.policy.codes import FAMILY_TYPES, MAX_AMOUNT
    from portal.policy.schema import _check_inferred

    if not c.mapping(care, "care", CARE_KEYS, ()):
        return
    c.text(care, "note", "care")
    _check_inferred(c, care, "care", {"note"})

    contacts = care.get("contacts")
    if contacts is not None and c.mapping(contacts, "care.contacts", CONTACTS_KEYS, ("min",)):
        p = "care.contacts"
        lo = c.integer(contacts, "min", p, 1, 10)
        hi = c.integer(contacts, "max", p, 1, 10)
        if lo is not None and hi is not None and hi < lo:
            c.add(f"{p}.max", "不能小于 min", "must not be less than min")
        roles = _codes(c, contacts, "roles", p, CONTACT_ROLES, ("联系人类别", "contact role"))
        required = _codes(
            c, contacts, "required_roles", p, CONTACT_ROLES, ("联系人类别", "contact role")
        )
        for j, code in enumerate(required):
            if roles and code not in roles:
                c.add(
                    f"{p}.required_roles[{j}]",
                    "必须也列在 roles 中",
                    "must also be listed in roles",
                )
        if hi is not None and len(required) > hi:
            c.add(
                f"{p}.required_roles",
                "必需的类别多于每户联系人上限",
                "lists more required roles than the maximum per household",
            )
        c.text(contacts, "quote", p, required=True)
        _check_inferred(c, contacts, p, CONTACTS_KEYS - {"inferred", "quote"})

    seen: set[tuple[str, tuple[str, ...]]] = set()
    for j, v in enumerate(c.list_of(care, "festival_visits", "care")):
        p = f"care.festival_visits[{j}]"
        if not c.mapping(v, p, FESTIVAL_VISIT_KEYS, ("festival", "quote")):
            continue
        festival = c.code(v, "festival", p, CARE_FESTIVALS, ("节日", "festival"))
        types = _codes(c, v, "family_types", p, FAMILY_TYPES, ("家庭类别", "family type"))
        c.integer(v, "member_min_age", p, 0, 120)
        c.positive(v, "amount", p, MAX_AMOUNT)
        c.text(v, "quote", p, required=True)
        _check_inferred(c, v, p, FESTIVAL_VISIT_KEYS - {"inferred", "quote"})
        if festival is not None:
            key = (festival, tuple(sorted(types)))
            if key in seen:
                c.add(p, "同一节日和家庭类别重复", "the same festival and family types twice")
            seen.add(key)

    doctor = care.get("doctor_contact")
    if doctor is not None and c.mapping(
        doctor, "care.doctor_contact", DOCTOR_CONTACT_KEYS, ("cadence", "quote")
    ):
        p = "care.doctor_contact"
        c.code(doctor, "cadence", p, CARE_CADENCES, ("周期", "cadence"))
        c.text(doctor, "quote", p, required=True)
        _check_inferred(c, doctor, p, DOCTOR_CONTACT_KEYS - {"inferred", "quote"})

    for j, ck in enumerate(c.list_of(care, "checkups", "care")):
        p = f"care.checkups[{j}]"
        if not c.mapping(ck, p, CHECKUP_KEYS, ("cadence", "quote")):
            continue
        c.code(ck, "cadence", p, CARE_CADENCES, ("周期", "cadence"))
        lo = c.integer(ck, "member_min_age", p, 0, 120)
        hi = c.integer(ck, "member_max_age", p, 0, 120)
        if lo is not None and hi is not None and hi < lo:
            c.add(
                f"{p}.member_max_age",
                "不能小于 member_min_age",
                "must not be less than member_min_age",
            )
        c.boolean(ck, "holders_only", p)
        c.text(ck, "quote", p, required=True)
        _check_inferred(c, ck, p, CHECKUP_KEYS - {"inferred", "quote"})


def _codes(c: Any, obj: dict, key: str, path: str, table: dict, what: tuple[str, str]) -> list[str]:
    out = []
    for j, value in enumerate(c.list_of(obj, key, path)):
        if not isinstance(value, str) or value not in table:
            c.unknown_code(f"{path}.{key}[{j}]", value, table, what)
        elif value in out:
            c.add(f"{path}.{key}[{j}]", "重复", "listed twice")
        else:
            out.append(value)
    return out


def care_json_schema(obj: Any, enum: Any, inferred: dict, family_types: dict) -> dict[str, Any]:
    """The `care` part of the JSON Schema (built with the schema module's helpers)."""
    text = {"type": "string"}
    quote = {"type": "string", "minLength": 1}
    age = {"type": "integer", "minimum": 0, "maximum": 120}
    count = {"type": "integer", "minimum": 1, "maximum": 10}
    return obj(
        {
            "contacts": obj(
                {
                    "min": count,
                    "max": count,
                    "roles": {"type": "array", "items": enum(CONTACT_ROLES)},
                    "required_roles": {"type": "array", "items": enum(CONTACT_ROLES)},
                    "quote": quote,
                    "inferred": inferred,
                },
                ["min", "quote"],
            ),
            "festival_visits": {
                "type": "array",
                "items": obj(
                    {
                        "festival": enum(CARE_FESTIVALS),
                        "family_types": {"type": "array", "items": enum(family_types)},
                        "member_min_age": age,
                        "amount": {"type": "number", "exclusiveMinimum": 0},
                        "quote": quote,
                        "inferred": inferred,
                    },
                    ["festival", "quote"],
                ),
            },
            "doctor_contact": obj(
                {"cadence": enum(CARE_CADENCES), "quote": quote, "inferred": inferred},
                ["cadence", "quote"],
            ),
            "checkups": {
                "type": "array",
                "items": obj(
                    {
                        "cadence": enum(CARE_CADENCES),
                        "member_min_age": age,
                        "member_max_age": age,
                        "holders_only": {"type": "boolean"},
                        "quote": quote,
                        "inferred": inferred,
                    },
                    ["cadence", "quote"],
                ),
            },
            "note": text,
            "inferred": inferred,
        },
        [],
    )
