"""The trail as people read it: labels, names and sentences composed at display time.

Nothing here is stored: an event keeps its codes and structured data, and each reader
sees them in their own language — the action and record type by their registered labels,
the actor by their name, the record by its title (with a link to its page where it has
one), the department by its name, and the changes as "字段：旧值 → 新值".
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import vocabulary
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.kernel import memo, periods, timefmt
from portal.tenancy import scope

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMPTY, YES, NO = _l("(empty)"), _l("yes"), _l("no")
ANOTHER, SYSTEM, ADDRESS = _l("(another record)"), _l("System"), _l("Web address")
REASON, NOTE, ANONYMOUS = _l("Reason"), _l("Note"), _l("Not signed in")
_ = vocabulary.text  # labels translated once per locale

#: Fields that are bookkeeping of a change, never news to a reader.
QUIET_FIELDS = frozenset({"row_version", "updated_at", "id", "tenant_id", "request_key"})
#: Id-valued fields and the record type whose names they refer to.
REFERENCES = {
    "meeting_id": "Meeting",
    "decision_id": "Decision",
    "measure_id": "Measure",
    "duty_id": "Duty",
    "entry_id": "ProgressEntry",
    "benefit_id": "BenefitStandard",
    "version_id": "PolicyVersion",
    "document_id": "PolicyDocument",
}
#: A value in the list's one-line summary is cut to this many characters.
SHORT = 40


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str
    has_before: bool = True
    has_after: bool = True

    @property
    def text(self) -> str:
        if not self.has_before:
            return f"{self.label}：{self.after}"
        return f"{self.label}：{self.before} → {self.after}"


@dataclass
class Shown:
    """One event ready for a page, a panel or an export row."""

    event: AuditEvent
    when: str
    actor: str
    role: str
    action: str
    module: str
    record_type: str
    record: str
    record_url: str | None
    history_url: str | None
    department: str
    summary: str
    changes: list[Change] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return self.event.seq


def data_of(event: AuditEvent) -> dict[str, Any]:
    try:
        data = json.loads(event.changes or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _is_row_change(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"before", "after"}


class Names:
    """The names a page of events refers to, each kind looked up once for the page."""

    def __init__(
        self,
        events: Iterable[AuditEvent],
        chain_is_district: bool,
        departments: dict[Any, str] | None = None,
        users: dict[str, str] | None = None,
        records: bool = True,
    ) -> None:
        events = list(events)
        self.users: dict[str, str] = {}
        self.departments: dict[str, str] = {}
        self.records: dict[tuple[str, str], str] = {}
        user_ids: set[str] = set()
        by_type: dict[str, set[str]] = {}
        for e in events:
            if e.actor_id:
                user_ids.add(str(e.actor_id))
            if e.entity_type and e.entity_id:
                by_type.setdefault(e.entity_type, set()).add(e.entity_id)
            for key, value in data_of(e).items():
                if not _is_row_change(value):
                    continue
                if key.endswith("_by_id") or key in ("author_id", "user_id", "actor_id"):
                    user_ids.update(str(v) for v in value.values() if v)
                elif key in REFERENCES:
                    by_type.setdefault(REFERENCES[key], set()).update(
                        str(v) for v in value.values() if v
                    )
        user_ids.update(by_type.get("User", set()))
        if users is None:
            self._load_users(user_ids)
        else:
            self.users = users
        if not records:
            by_type = {}
        if departments is not None:
            self.departments = {str(k): v for k, v in departments.items()}
        elif chain_is_district:
            from portal.tenancy.models import Department

            self.departments = {
                str(i): n for i, n in db.session.execute(sa.select(Department.id, Department.name))
            }
        for type_name, ids in by_type.items():
            if type_name == "User":
                self.records.update({("User", i): self.users[i] for i in ids if i in self.users})
                continue
            if type_name == "Department":
                self.records.update(
                    {("Department", i): self.departments[i] for i in ids if i in self.departments}
                )
                continue
            registered = vocabulary.record_type(type_name)
            if registered is None or registered.names is None:
                continue
            # a name may hold a date in the reader's language, and what a reader may
            # see of a record depends on their scope (department, town): both in the key
            key = ("audit_records", type_name, vocabulary.locale(), scope.current())
            for entity_id, name in kept_names(key, ids, registered.names).items():
                self.records[(type_name, entity_id)] = name

    def _load_users(self, ids: set[str]) -> None:
        """People's names through the accounts domain's registration (audit is below it),
        kept per district (a district has few people and its pages name the same ones)."""
        people = vocabulary.record_type("User")
        if not ids or people is None or people.names is None:
            return
        self.users = kept_names(("audit_people",), ids, people.names)

    def reference(self, key: str, value: Any) -> str | None:
        """The name behind an id-valued field, or None when it is not a known reference."""
        text = str(value)
        if key in ("department_id", "office_department_id"):
            return self.departments.get(text)
        if key.endswith("_by_id") or key in ("author_id", "user_id", "actor_id"):
            return self.users.get(text)
        if key in REFERENCES:
            return self.records.get((REFERENCES[key], text))
        return None


#: Names kept under one key before they are started afresh: bounds a long-lived worker's
#: memory (a district's pages name a bounded set of records, its people far fewer).
KEPT_NAMES = 20_000


def kept_names(
    key: tuple[Any, ...], ids: Iterable[str], lookup: Callable[[list[str]], dict[str, str]]
) -> dict[str, str]:
    """{id: name} of `ids` by `lookup`, kept per district by `kernel.memo` under `key`: the
    pages of a trail name the same people and records again and again, so the look-up is
    asked only for the ids not yet kept; a write in the district (a rename) drops them."""
    kept: dict[str, str] = memo.remembered(key, dict, _district(), every_write=True)
    if len(kept) > KEPT_NAMES:
        kept.clear()
    missing = sorted(i for i in ids if i not in kept)  # never iterates the shared dict
    if missing:
        found = lookup(missing)
        kept.update({i: found.get(i, "") for i in missing})  # "": no such record now
    return {i: name for i in ids if (name := kept.get(i))}


def _value(record_type: str, key: str, value: Any, names: Names, limit: int | None) -> str:
    if value is None or value == "":
        return _(EMPTY)
    if isinstance(value, bool):
        return _(YES) if value else _(NO)
    if isinstance(value, str):
        if _UUID.match(value):
            return names.reference(key, value) or _(ANOTHER)
        if _ISO_TIME.match(value):
            return timefmt.format_datetime(value)
        if _ISO_DATE.match(value):
            return timefmt.format_date(value)
        if key == "period":
            try:
                return periods.label(value)
            except Exception:  # noqa: BLE001 - not a period code after all
                pass
        label = vocabulary.value_label(record_type, key, value)
        text = str(label)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        single = "department_id" if key.endswith("department_ids") else key.removesuffix("s")
        text = "、".join(_value(record_type, single, v, names, None) for v in value)
    elif isinstance(value, dict) and set(value) == {"before", "after"}:
        before = _value(record_type, key, value["before"], names, None)
        text = f"{before} → {_value(record_type, key, value['after'], names, None)}"
    elif isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        # structured data (what a confirmed request changed): each part by its label
        text = "；".join(
            f"{vocabulary.field_label(record_type, k)}：{_value(record_type, k, v, names, None)}"
            for k, v in value.items()
        )
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def changes(event: AuditEvent, names: Names, limit: int | None = None) -> list[Change]:
    """The event's field changes with field labels and readable values."""
    out = []
    for key, value in sorted(data_of(event).items()):
        if not _is_row_change(value) or key in QUIET_FIELDS:
            continue
        out.append(
            Change(
                field=key,
                label=vocabulary.field_label(event.entity_type, key),
                before=_value(event.entity_type, key, value.get("before"), names, limit),
                after=_value(event.entity_type, key, value.get("after"), names, limit),
                has_before="before" in value,
                has_after="after" in value,
            )
        )
    return out


def _details(event: AuditEvent, names: Names) -> list[tuple[str, str]]:
    """Explicit events' structured data (reason, counts …) as label: value."""
    out = []
    if event.entity_type == "url":
        out.append((_(ADDRESS), event.entity_id))
    for key, value in sorted(data_of(event).items()):
        if _is_row_change(value) and event.action in ("create", "update", "delete"):
            continue
        if isinstance(value, dict) and _is_row_change(value):
            before = _value(event.entity_type, key, value.get("before"), names, None)
            after = _value(event.entity_type, key, value.get("after"), names, None)
            out.append((vocabulary.field_label(event.entity_type, key), f"{before} → {after}"))
            continue
        if value in (None, "", [], {}):
            continue
        out.append(
            (
                vocabulary.field_label(event.entity_type, key),
                _value(event.entity_type, key, value, names, None),
            )
        )
    return out


def summary(event: AuditEvent, names: Names, record: str) -> str:
    """The one-line summary, composed now from the event's codes and data."""
    data = data_of(event)
    if event.action == "update":
        return "；".join(c.text for c in changes(event, names, SHORT))
    if event.action in ("create", "delete"):
        return ""
    parts = []
    registered = vocabulary.action(event.action)
    if registered is None:  # not in the vocabulary (the coverage test forbids it): as stored
        return event.summary
    template = registered.summary
    if callable(template):
        parts.append(template(data, event.entity_type))
    elif template is not None:
        values = {k: _value(event.entity_type, k, v, names, SHORT) for k, v in data.items()}
        values.setdefault("text", event.summary)
        values.setdefault("record", record)
        # an older event without this data gets no composed sentence
        with contextlib.suppress(KeyError, TypeError, ValueError):
            parts.append(_(template) % values)
    status = data.get("status")
    if _is_row_change(status):
        before = _value(event.entity_type, "status", status.get("before"), names, SHORT)
        after = _value(event.entity_type, "status", status.get("after"), names, SHORT)
        parts.append(f"{vocabulary.field_label(event.entity_type, 'status')}：{before} → {after}")
    for key, label in (("reason", REASON), ("note", NOTE)):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and event.action != "login_failed":
            text = value.strip()
            text = text if len(text) <= 60 else text[:59] + "…"
            parts.append(f"{_(label)}：{text}")
    return "；".join(p for p in parts if p)


def record_name(event: AuditEvent, names: Names) -> str:
    if not event.entity_type:
        return ""
    if event.entity_type == "period":
        try:
            return periods.label(event.entity_id)
        except Exception:  # noqa: BLE001
            return event.entity_id
    if event.entity_type == "url":  # the address asked for is on the event's own page
        return ""
    found = names.records.get((event.entity_type, event.entity_id))
    if found:
        return found
    return ""


def actor_name(event: AuditEvent, names: Names) -> str:
    if event.actor_id and str(event.actor_id) in names.users:
        return names.users[str(event.actor_id)]
    if event.actor_role == "system" or event.actor_name.startswith("system"):
        return _(SYSTEM)
    if event.actor_role == "anonymous":
        return _(ANONYMOUS)
    return event.actor_name


def _tenant() -> Any:
    """The district of the page being read (None: the platform's chain, or no request)."""
    from flask import g, has_request_context

    return g.get("tenant") if has_request_context() else None


def _district() -> Any:
    tenant = _tenant()
    return tenant.id if tenant is not None else None


def actors_of(events: list[Any]) -> dict[str, str]:
    """The names of the people who did `events` (one query, however many events: the
    trail stores the sign-in name; the panel shows the person's name)."""
    people = vocabulary.record_type("User")
    if people is None or people.names is None:
        return {}
    ids = sorted({str(e.actor_id) for e in events if e.actor_id})
    # asked even when only the system acted: the page's statements do not depend on data
    return people.names(ids or [str(uuid.UUID(int=0))])


def role_label(role: str) -> str:
    if role in ("system", "anonymous"):
        return ""
    return str(vocabulary.value_label("User", "role", role))


def present(
    events: Iterable[AuditEvent],
    *,
    district: bool,
    history_url: Any = None,
    detail: bool = False,
    departments: dict[Any, str] | None = None,
    users: dict[str, str] | None = None,
    records: bool = True,
) -> list[Shown]:
    """Events as rows of a page (names looked up once for all of them). A panel that must
    cost the same whatever the events are passes `users` and `records=False`."""
    with vocabulary.reading():
        return _present(list(events), district, history_url, detail, departments, users, records)


def _present(
    events: list[AuditEvent],
    district: bool,
    history_url: Any,
    detail: bool,
    departments: dict[Any, str] | None,
    users: dict[str, str] | None,
    records: bool,
) -> list[Shown]:
    names = Names(events, district, departments, users, records)
    # the reader's district (its time zone) and language, once for the page's times
    tenant, english = _tenant(), vocabulary.locale().startswith("en")
    out = []
    for e in events:
        record = record_name(e, names)
        registered = vocabulary.record_type(e.entity_type) if e.entity_type else None
        url = None
        if registered and registered.link and e.action != "delete":
            url = registered.link(e.entity_id)
        module = vocabulary.action(e.action)
        out.append(
            Shown(
                event=e,
                when=timefmt.format_datetime(e.occurred_at, tenant, english),
                actor=actor_name(e, names),
                role=role_label(e.actor_role),
                action=vocabulary.action_label(e.action),
                module=vocabulary.module_label(module.module) if module else "",
                record_type=vocabulary.record_label(e.entity_type) if e.entity_type else "",
                record=record,
                record_url=url,
                history_url=(
                    history_url(e.entity_type, e.entity_id)
                    if history_url and e.entity_id and e.entity_type not in ("url", "period")
                    else None
                ),
                department=names.departments.get(str(e.department_id), "")
                if e.department_id
                else "",
                summary=summary(e, names, record),
                changes=changes(e, names) if detail else [],
                details=_details(e, names) if detail else [],
            )
        )
    return out


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
