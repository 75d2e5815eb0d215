"""The audit vocabulary: every action code and record type the trail holds, with labels.

Each domain declares its own in `portal/<domain>/audit_actions.py`, which its package's
`__init__` imports, so audit never imports a higher layer:

    register_module("duties", _l("Duties"), order=40)
    register_actions("duties", {"duty.sign_off": _l("Duty signed off"), …})
    register_record_type("Duty", _l("Duty"), fields={…}, names=…, link=…)

The viewer's filters, its Chinese search (labels mapped back to codes), the rendered
summary and change text, the exports and the coverage test all read this one table.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The module row events (create/update/delete of any audited model) belong to.
RECORDS = "records"
#: The module of sign-ins, failures, lockouts and sign-outs (the 登录日志 view).
SIGN_IN = "sign_in"


@dataclass(frozen=True)
class Module:
    code: str
    label: Any
    order: int = 50


@dataclass(frozen=True)
class Action:
    """One action code: its module, its label, and how its summary is composed.

    `summary` is a (lazy) %-template filled at display time from the event's structured
    data plus `record` (the record's name) and `text` (the event's short stored text);
    an event without every key the template names shows no composed summary."""

    code: str
    module: str
    label: Any
    summary: Any = None


@dataclass(frozen=True)
class RecordType:
    """A model (by class name) as people call it, with its fields' and values' labels.

    `names(ids)` returns {entity_id: display name} for the ids that still exist;
    `find(text)` returns the entity ids whose name contains `text` (for search);
    `link(entity_id)` returns the record's own page, or None."""

    name: str
    label: Any
    fields: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    names: Callable[[list[str]], dict[str, str]] | None = None
    find: Callable[[str], list[str]] | None = None
    link: Callable[[str], str | None] | None = None


_modules: dict[str, Module] = {}
_actions: dict[str, Action] = {}
_records: dict[str, RecordType] = {}
_unaudited: dict[str, frozenset[str]] = {}
#: The filters' choices per (kind, module, locale): built once, not on every page.
_choices: dict[tuple[str, str, str], Any] = {}


def register_module(code: str, label: Any, order: int = 50) -> None:
    _modules[code] = Module(code, label, order)
    _choices.clear()


def register_actions(module: str, actions: Mapping[str, Any]) -> None:
    """`actions`: code → label, or code → (label, summary template)."""
    for code, value in actions.items():
        label, summary = value if isinstance(value, tuple) else (value, None)
        _actions[code] = Action(code, module, label, summary)
    _choices.clear()


def register_record_type(
    name: str,
    label: Any,
    *,
    fields: Mapping[str, Any] | None = None,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    names: Callable[[list[str]], dict[str, str]] | None = None,
    find: Callable[[str], list[str]] | None = None,
    link: Callable[[str], str | None] | None = None,
) -> None:
    _records[name] = RecordType(name, label, fields or {}, values or {}, names, find, link)
    _choices.clear()


def register_named(
    model: Any,
    label: Any,
    *columns: Any,
    find: Iterable[Any] = (),
    joins: Iterable[Any] = (),
    **kwargs: Any,
) -> None:
    """A record type named after its model, which the trail names by its `columns`' values
    (joined by a space; a column may sit in a `joins` table) and finds by the text of the
    `find` columns (none: not searchable). `kwargs`: fields, values, link."""
    find = tuple(find)

    def render(row: Any) -> str:
        return " ".join(str(v) for c in columns if (v := getattr(row, c.key)) is not None)

    register_record_type(
        model.__name__,
        label,
        names=names_from(model, render, *columns, joins=joins),
        find=find_in(model, *find) if find else None,
        **kwargs,
    )


def not_audited(model_name: str, *columns: str) -> None:
    """Columns whose changes are bookkeeping of an explicit event (the login's
    `last_login_at`): a change to only these makes no row event of its own."""
    _unaudited[model_name] = _unaudited.get(model_name, frozenset()) | frozenset(columns)


def unaudited_columns(model_name: str) -> frozenset[str]:
    load()
    return _unaudited.get(model_name, frozenset())


def load() -> None:
    """Nothing to do: each domain's package imports its `audit_actions` module, and every
    domain is imported when the app is made (kept so callers need not know)."""


# --- reading -----------------------------------------------------------------------------

_texts: dict[tuple[int, str], str] = {}


class Reading:
    """What a page of events is read with, fixed once for the page: the locale (Babel's
    lookup per label was a tenth of the trail's CPU) and the links built so far."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.links: dict[tuple[str, str], str | None] = {}


_reading: contextvars.ContextVar[Reading | None] = contextvars.ContextVar(
    "audit_reading", default=None
)


@contextlib.contextmanager
def reading() -> Iterator[Reading]:
    """Pin the reader's locale (and a link cache) while a page of events is composed."""
    current = _reading.get()
    if current is not None:
        yield current
        return
    token = _reading.set(Reading(_locale()))
    try:
        yield _reading.get()  # type: ignore[misc]
    finally:
        _reading.reset(token)


def _locale() -> str:
    """The request's locale, looked up once per request (Babel's lookup is not free)."""
    pinned = _reading.get()
    if pinned is not None:  # first: asked for every label of a page (even the imports cost)
        return pinned.locale
    from flask import g, has_request_context
    from flask_babel import get_locale

    if not has_request_context():
        return str(get_locale() or "")
    locale = g.get("_audit_locale")
    if locale is None:
        locale = g._audit_locale = str(get_locale() or "")
    return locale


def locale() -> str:
    """The reader's locale (pinned while a page is read)."""
    return _locale()


def text(label: Any) -> str:
    """A registered (lazy) label in the reader's language, translated once per locale."""
    if isinstance(label, str):
        return label
    key = (id(label), _locale())
    found = _texts.get(key)
    if found is None:
        found = _texts[key] = str(label)
    return found


def modules() -> list[Module]:
    load()
    return sorted(_modules.values(), key=lambda m: (m.order, m.code))


def actions() -> dict[str, Action]:
    load()
    return dict(_actions)


def record_types() -> dict[str, RecordType]:
    load()
    return dict(_records)


# One registered action or record type by its code or name, None when not registered
# (`load` has nothing to do: the registrations are made when the app is).
action: Callable[[str], Action | None] = _actions.get
record_type: Callable[[str], RecordType | None] = _records.get


def _label(table: Mapping[str, Action | Module | RecordType], key: str) -> str:
    """What a code or name is called in the current language (itself when unregistered)."""
    found = table.get(key)
    return text(found.label) if found else key


def action_label(code: str) -> str:
    return _label(_actions, code)


def module_label(code: str) -> str:
    return _label(_modules, code)


def record_label(name: str) -> str:
    return _label(_records, name)


def grouped_actions(only: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """[(module label, [(code, label), …]), …] for the action filter's <optgroup>s."""
    key = ("actions", only, _locale())
    found = _choices.get(key)
    if found is None:
        found = _choices[key] = _grouped_actions(only)
    return found


def record_type_choices() -> list[tuple[str, str]]:
    """[(record type, label), …] sorted by label, for the record type filter."""
    key = ("records", "", _locale())
    found = _choices.get(key)
    if found is None:
        pairs = ((name, text(r.label)) for name, r in _records.items() if name != "*")
        found = _choices[key] = sorted(pairs, key=lambda pair: pair[1])
    return found


def _grouped_actions(only: str) -> list[tuple[str, list[tuple[str, str]]]]:
    load()
    out = []
    for module in modules():
        if only and module.code != only:
            continue
        members = sorted(
            ((a.code, text(a.label)) for a in _actions.values() if a.module == module.code),
            key=lambda pair: pair[1],
        )
        if members:
            out.append((text(module.label), members))
    return out


def codes_of(module: str) -> list[str]:
    load()
    return sorted(code for code, a in _actions.items() if a.module == module)


def add_fields(name: str, fields: Mapping[str, Any]) -> None:
    """More field labels for a registered record type (columns added by a later change)."""
    found = _records[name]
    _records[name] = dataclasses.replace(found, fields={**found.fields, **fields})


def field_label(record: str, column: str) -> str:
    for name in (record, "*"):
        found = _records.get(name)
        if found and column in found.fields:
            return text(found.fields[column])
    return column


def value_label(record: str, column: str, value: Any) -> Any:
    for name in (record, "*"):
        found = _records.get(name)
        if found and column in found.values:
            labels = found.values[column]
            if isinstance(value, str) and value in labels:
                return text(labels[value])
    return value


_label_cache: dict[tuple[str, str], dict[str, str]] = {}


def _labels_in(kind: str, locale: str) -> dict[str, str]:
    """code → label of every action (kind "action") or record type ("record") in a locale."""
    key = (kind, locale)
    if key not in _label_cache:
        from flask_babel import force_locale

        load()
        source = _actions if kind == "action" else _records
        with force_locale(locale):
            _label_cache[key] = {
                code: str(item.label) for code, item in source.items() if code != "*"
            }
    return _label_cache[key]


def search_codes(text: str, kind: str) -> list[str]:
    """Action codes (kind "action") or record types ("record") whose label in Chinese or
    English, or whose code, contains `text`: Chinese search maps to codes, never to JSON."""
    needle = text.strip().casefold()
    if not needle:
        return []
    found: set[str] = set()
    for locale in ("zh_Hans_CN", "en"):
        for code, label in _labels_in(kind, locale).items():
            if needle in label.casefold() or needle in code.casefold():
                found.add(code)
    return sorted(found)


# --- helpers the domains' registrations use -----------------------------------------------


def uuids(ids: Iterable[str]) -> list[Any]:
    import uuid

    out = []
    for value in ids:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out


def names_from(
    model: Any, render: Callable[[Any], str], *columns: Any, joins: Iterable[Any] = ()
) -> Callable[[list[str]], dict[str, str]]:
    """A `names` resolver: one query for the ids' `columns` (a row per id, with `joins` as
    (target, on) pairs), each row rendered as a name. Columns only: no ORM objects."""
    import sqlalchemy as sa

    from portal.extensions import db

    joins = tuple(joins)

    def names(ids: list[str]) -> dict[str, str]:
        keys = uuids(ids)
        if not keys:
            return {}
        query = sa.select(model.id.label("rid"), *columns)
        for target, on in joins:
            query = query.join(target, on)
        query = query.where(model.id.in_(keys))
        return {str(row.rid): render(row) for row in db.session.execute(query)}

    return names


@dataclass(frozen=True)
class TermToCome:
    """A search term not known yet: `contains` answers with the bound parameter `pattern`
    (`like_pattern` of the term), so a statement built once serves every term of the same
    letter case (building and caching the search's statement per term cost more CPU than
    running it)."""

    cased: bool


def has_case(text: str) -> bool:
    """Whether the term has letters with case (Chinese has none)."""
    return text.lower() != text.upper()


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, text: str | TermToCome) -> Any:
    """`column` holds `text`, case-insensitively. A term without letter case (Chinese) is
    matched with LIKE: ILIKE folds every stored value first (on PostgreSQL, twice the
    time over long texts such as progress narratives)."""
    import sqlalchemy as sa

    if isinstance(text, TermToCome):
        pattern: Any = sa.bindparam("pattern", type_=sa.String())
        cased = text.cased
    else:
        pattern, cased = like_pattern(text), has_case(text)
    if cased:
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


def find_in(model: Any, *columns: Any, limit: int = 200) -> Callable[[str], list[str]]:
    """A `find` resolver: ids of rows whose columns contain the text (capped)."""
    import sqlalchemy as sa

    from portal.extensions import db

    def query(text: str | TermToCome) -> Any:
        return sa.select(model.id).where(sa.or_(*(contains(c, text) for c in columns))).limit(limit)

    def find(text: str) -> list[str]:
        return [str(i) for i in db.session.execute(query(text)).scalars()]

    # the same ids as a subquery: a search asks them inside its own statement
    find.query = query  # type: ignore[attr-defined]
    return find


_PLACEHOLDER = "ffffffff-ffff-ffff-ffff-ffffffffffff"


def link_to(endpoint: str, arg: str) -> Callable[[str], str | None]:
    """A `link` resolver: `url_for(endpoint, arg=entity_id)` (the tenant's slug is implied).
    While a page is read (`reading()`) the URL is built once and the id put in it."""

    def build(entity_id: str) -> str | None:
        from flask import url_for

        try:
            return url_for(endpoint, **{arg: entity_id})
        except Exception:  # noqa: BLE001 - no such page in this context (platform chain)
            return None

    def link(entity_id: str) -> str | None:
        if not uuids([entity_id]):
            return None
        template = url_template((endpoint, arg), lambda: build(_PLACEHOLDER))
        if template is None:
            return build(entity_id)
        return template.replace(_PLACEHOLDER, entity_id) if template else None

    return link


def url_template(key: tuple[str, str], build: Callable[[], str | None]) -> str | None:
    """A URL with placeholders, built once while a page is read ("" when it has none);
    None outside `reading()` (the caller builds the URL itself)."""
    pinned = _reading.get()
    if pinned is None:
        return None
    if key not in pinned.links:
        pinned.links[key] = build() or ""
    return pinned.links[key]
