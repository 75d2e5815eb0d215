"""How the back office shows a value: related records, enums, periods, times and JSON.

JSON columns hold the policy file's structured data (eligibility, funding split,
festivals, the reasons for inferred values, member departments). Flask-Admin would print
them as Python/JSON text (`{'family_types': ['bereaved'], …}`); here each becomes what a
person reads: known keys by their Chinese label, codes by their names (the policy
domain's labels), department ids and keys by the department's name, yes/no as words.
The detail page gets one line per entry; the CSV export the same text on one line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.admin.labels import COLUMN_LABELS, enum_label, related_label
from portal.extensions import db

#: Keys found inside JSON values, beyond the column names COLUMN_LABELS already knows.
JSON_KEY_LABELS: dict[str, Any] = {
    "code": _l("Code"),
    "departments": _l("Departments of this kind"),
    "lead": _l("Lead departments"),
    "lead_department": _l("Lead department"),
    "level": _l("Level of government"),
    "name_en": _l("English name"),
    "share": _l("Share of the funding"),
}


def key_label(key: Any) -> str:
    """A key inside a JSON value as a person reads it (an unknown key is shown as it is)."""
    label = JSON_KEY_LABELS.get(key, COLUMN_LABELS.get(key))
    return str(label) if label is not None else str(key)


# -- departments by id or key (JSON keeps them as text) --------------------------------------


def department_names() -> dict[str, str]:
    """id and key → name of the current district's departments (the scoped session), read
    once per request. The CSV export is streamed after the view returned, outside the
    tenant scope: its view reads this first (see `ScopedModelView.export`)."""
    from portal.tenancy.models import Department

    names: dict[str, str] | None = g.get("admin_department_names")
    if names is None:
        names = {}
        for d in db.session.execute(sa.select(Department)).scalars():
            names[str(d.id)] = d.name
            names[d.key] = d.name
        g.admin_department_names = names
    return names


def _department_names(values: Any) -> list[str]:
    known = department_names()
    return [known.get(str(v), str(v)) for v in values or []]


# -- policy codes -----------------------------------------------------------------------------


def _festivals(values: Any) -> list[str]:
    from portal.policy import labels

    return ["、".join(labels.label(labels.FESTIVAL, f) for f in values or [])]


def _eligibility(value: Any) -> list[str]:
    from portal.policy import labels

    return labels.eligibility_lines(value) if isinstance(value, dict) else lines(value)


def _funding_split(value: Any) -> list[str]:
    """[{level: 市, share: 1}, …] → "市 : 县（区） = 1 : 1"."""
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        return lines(value)
    if not value:
        return []
    levels = " : ".join(str(p.get("level", "")) for p in value)
    shares = " : ".join(scalar(p.get("share")) for p in value)
    return [f"{levels} = {shares}"]


def _department_kinds(value: Any) -> list[str]:
    """[{code, name, name_en, departments: [keys]}] → "name：department, department"."""
    if not isinstance(value, list):
        return lines(value)
    out = []
    for kind in value:
        if not isinstance(kind, dict):
            out.append(scalar(kind))
            continue
        name = str(kind.get("name") or kind.get("code") or "")
        names = "、".join(_department_names(kind.get("departments")))
        out.append(f"{name}：{names}" if names else name)
    return out


#: Columns whose JSON has a meaning of its own; any other JSON column is shown by `lines`.
BY_COLUMN = {
    "festivals": _festivals,
    "eligibility": _eligibility,
    "funding_split": _funding_split,
    "department_kinds": _department_kinds,
    "member_department_ids": lambda v: ["、".join(_department_names(v))] if v else [],
    "member_department_keys": lambda v: ["、".join(_department_names(v))] if v else [],
}


# -- any JSON value ------------------------------------------------------------------------------


def scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def lines(value: Any) -> list[str]:
    """Any JSON value as readable lines: a mapping one "label：value" per key, a list of
    plain values on one line with 、, a list of mappings one line each."""
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            inner = lines(item)
            out.append(f"{key_label(key)}：{'；'.join(inner) if inner else '—'}")
        return out
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return ["、".join(scalar(v) for v in value)] if value else []
        return ["；".join(lines(v)) for v in value]
    return [scalar(value)]


#: JSON columns the back office reads out on detail pages. The others (a policy version's
#: `care` section, a standard's `entitlement` rules) are structured for the engines and
#: stay off the back office's detail pages.
READABLE_JSON = frozenset({*BY_COLUMN, "inferred"})


def json_lines(name: str, value: Any) -> list[str]:
    return BY_COLUMN.get(name, lines)(value)


def json_detail(view: Any, context: Any, model: Any, name: str) -> Markup:
    """The detail page: one escaped line per entry."""
    return Markup("<br>").join(escape(line) for line in json_lines(name, getattr(model, name)))


def json_export(view: Any, context: Any, model: Any, name: str) -> str:
    """The CSV export: the same text on one line."""
    return "；".join(json_lines(name, getattr(model, name)))


# -- the other formatters --------------------------------------------------------------------------


def enum_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    return enum_label(getattr(model, name, None))


def local_time(value: dt.datetime | None) -> str:
    """Stored UTC, shown in the district's zone in the one format (portal.kernel.timefmt)."""
    from portal.kernel import timefmt

    return timefmt.format_datetime(value)


def period_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    from portal.kernel import periods

    return periods.label(getattr(model, name, None))


def related_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    value = getattr(model, name, None)
    if isinstance(value, list | tuple | set):
        return "、".join(filter(None, (related_label(v) for v in value)))
    return related_label(value) if value is not None else ""


def code_formatter(table: dict[str, tuple[str, str]]) -> Any:
    """A policy-vocabulary code shown by its name in the reader's language."""
    from portal.policy import labels as pl

    return lambda view, context, model, name: pl.label(table, getattr(model, name, None))


def review_action_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    """A duty review's action (submitted/accepted/returned) by the duty status's label."""
    from portal.duties.models import DutyStatus

    value = getattr(model, name, None)
    try:
        return enum_label(DutyStatus(value))
    except ValueError:
        return str(value or "")


def literal_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    """Machine text a person compares, not reads (a checksum): set apart as code."""
    from markupsafe import Markup, escape

    value = getattr(model, name, None)
    return Markup("<code>%s</code>") % escape(value) if value else ""


FILE_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "text/plain": _l("Text"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.ms-excel": "Excel",
}


def file_type_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    """A file's type as people name it (PDF, Word, Excel), not its MIME string."""
    value = getattr(model, name, None) or ""
    return str(FILE_TYPES.get(value, _("Other file")))


def local_date(value: dt.date | None) -> str:
    """A calendar date in the one format (2026年12月6日), not ISO."""
    from portal.kernel import timefmt

    return timefmt.format_date(value)


__all__ = [
    "code_formatter",
    "enum_formatter",
    "file_type_formatter",
    "literal_formatter",
    "local_date",
    "review_action_formatter",
    "json_detail",
    "json_export",
    "json_lines",
    "local_time",
    "period_formatter",
    "related_formatter",
]
