"""The audit-coverage harness shared by every domain's `tests/<domain>/audit_cases.py`.

HOW TO COVER YOUR MODEL OR ROUTE (the failure messages say the same):

* A new model needs nothing if the demo data has a row of it: the generic case clones a
  demo row (insert), changes one plain field (update) and deletes the clone (delete), and
  checks each event. If the demo has no row of it, or cloning cannot satisfy its
  constraints, add a factory to MODEL_FACTORIES in your domain's `audit_cases.py`
  (returns a new, unsaved instance). A model that must not be audited goes into that
  module's NOT_AUDITED with the reason.
* A new POST/PUT/PATCH/DELETE route or API endpoint goes into your domain's ROUTES,
  keyed by endpoint: `Exercise(fn)` — `fn(app)` makes the request(s) as a real user and
  returns the list of `Expect(...)` events it must leave (nothing more, nothing less) —
  or, when that needs too much set-up, `Listed("action EntityType (chain) …",
  test="tests/…::test_x")`: the event shape and the test of yours that checks it.
  Exports and downloads go into DOWNLOADS the same way.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import json
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, Browser

ACTOR = "system:audit-coverage"
SECRETS: list[str] = []  # tokens and temporary passwords the cases saw (must not reach the trail)
MARKS: dict[str, Any] = {}


def domain_tables(name: str) -> dict[str, Any]:
    """One table (ROUTES, DOWNLOADS, MODEL_FACTORIES, NOT_AUDITED) merged over every
    `tests/<domain>/audit_cases.py`; a key claimed twice is an error."""
    import tests

    merged: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(tests.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{info.name}.audit_cases")
        except ModuleNotFoundError as e:
            if e.name != f"tests.{info.name}.audit_cases":
                raise
            continue
        for key, value in getattr(module, name, {}).items():
            assert key not in merged, f"{name}[{key!r}] is claimed by two domains"
            merged[key] = value
    return merged


@dataclass
class Expect:
    """One event a route must leave. `chain` is a district slug or "platform"."""

    action: str
    entity_type: str
    chain: str
    actor: str | None = None  # username; None: the user who made the request
    entity_id: str | None = None
    changed: set[str] | None = None  # for row events: exactly these fields changed


@dataclass
class Exercise:
    run: Callable[[Any], list[Expect]]


@dataclass
class Listed:
    """Not exercised here: the expected event shape, and the test that checks it."""

    expected: str
    test: str = ""


def stored_file(filename: str, content_type: str, size: int, storage_key: str) -> dict[str, Any]:
    """The file columns (`portal.db.StoredFile`) of a factory's upload row: nothing is
    read back, so the hash is a placeholder."""
    return {
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "sha256": "0" * 64,
        "storage_key": storage_key,
    }


def signed_in(app: Any, username: str, password: str = DEMO_PASSWORD) -> Browser:
    b = Browser(app)
    assert b.login(username, password).status_code == 302
    return b


def department_id_of(app: Any, slug: str, key: str) -> uuid.UUID:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with app.app_context(), scope.cross_tenant("test"):
        return db.session.execute(
            sa.select(Department.id)
            .join(Tenant, Tenant.id == Department.tenant_id)
            .where(Tenant.slug == slug, Department.key == key)
        ).scalar_one()


def user_id_of(app: Any, username: str) -> uuid.UUID:
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        return db.session.execute(sa.select(User.id).filter_by(username=username)).scalar_one()


def bearer(app: Any, username: str) -> dict[str, str]:
    from portal.auth.models import User
    from portal.auth.services import create_token
    from portal.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        _row, secret = create_token(user, "coverage", None)
        db.session.commit()  # services never commit; the test is its own unit of work
        db.session.remove()
    SECRETS.append(secret)
    return {"Authorization": f"Bearer {secret}"}


def scalars(app: Any, slug: str, statement: Callable[[Callable[[str], Any]], Any]) -> list:
    """Run one statement in a district's scope, outside any request; `statement` gets a
    model-by-name look-up."""
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tid):
            out = list(db.session.execute(statement(Ctx(db.session).model)).scalars())
        db.session.remove()
    return out


def first_id(app: Any, model: str, slug: str, where: Any = None, skip: int = 0) -> Any:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tid):
            cls = Ctx(db.session).model(model)
            q = sa.select(cls).order_by(cls.id).offset(skip).limit(1)
            if where is not None:
                q = q.where(where(cls))
            row = db.session.execute(q).unique().scalar_one()
            out = (row.id, row)
            db.session.expunge_all()
        db.session.remove()
    return out


# The duty exercises run in 嘉定 (kaifeng is suspended by an earlier case of this module).
def officer_of(app: Any, slug: str, department_id: uuid.UUID) -> str:
    """The demo officer of a department (by id)."""
    from portal.demo import officer_username

    _id, dept = first_id(app, "Department", slug, lambda cls: cls.id == department_id)
    return officer_username(slug, dept.key)


def heads(app: Any) -> dict[uuid.UUID, int]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("audit coverage"):
        rows = db.session.execute(
            sa.select(AuditEvent.tenant_id, sa.func.max(AuditEvent.seq)).group_by(
                AuditEvent.tenant_id
            )
        ).all()
        db.session.remove()
    return dict(rows)


def mark(app: Any) -> None:
    """Events before this point (set-up requests) are not the route's."""
    MARKS["heads"] = heads(app)


def exported(app: Any, username: str, path: str, zipped: bool = False) -> Any:
    """Signs in, sets the mark and downloads `path` (an Office file when `zipped`): the
    events compared are the download's own."""
    b = signed_in(app, username)
    mark(app)
    r = b.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:800]
    assert not zipped or r.data[:2] == b"PK"
    return r


def download(username: str, path: str, *expected: Expect, zipped: bool = False) -> Exercise:
    """A download case that is only data: `username` downloads `path` (`exported`), and
    the trail must hold `expected`."""

    def run(app: Any) -> list[Expect]:
        exported(app, username, path, zipped=zipped)
        return list(expected)

    return Exercise(run)


def row_version(page: str, last: bool = False) -> str:
    """The version a form on `page` sends back (the page's last form's when `last`)."""
    found = re.findall(r'name="row_version"[^>]*value="(\d+)"', page)
    assert found, page[:800]
    return found[-1] if last else found[0]


def marked_post(
    app: Any,
    b: Browser,
    path: str,
    data: dict | None = None,
    csrf_from: str | None = None,
    ok: tuple[int, ...] = (302,),
) -> Any:
    """Sets the mark, then posts the form the route is exercised with and checks it went
    through: the events compared with the case's expectation are this request's only."""
    mark(app)
    r = b.post(path, data, csrf_from=csrf_from)
    assert r.status_code in ok, r.get_data(as_text=True)[:800]
    return r


def posted(
    username: str, path: str, data: dict, *expected: Expect, csrf_from: str | None = None
) -> Exercise:
    """A form case that is only data: `username` posts `data` to `path` (`marked_post`),
    and the trail must hold `expected`."""

    def run(app: Any) -> list[Expect]:
        marked_post(app, signed_in(app, username), path, data, csrf_from=csrf_from)
        return list(expected)

    return Exercise(run)


def new_events(app: Any, since: dict[uuid.UUID, int]) -> list[Any]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("audit coverage"):
        rows = []
        for tid, seq in heads(app).items():
            if seq > since.get(tid, 0):
                rows += (
                    db.session.execute(
                        sa.select(AuditEvent)
                        .where(AuditEvent.tenant_id == tid, AuditEvent.seq > since.get(tid, 0))
                        .order_by(AuditEvent.seq)
                    )
                    .scalars()
                    .all()
                )
        db.session.expunge_all()
        db.session.remove()
    return rows


def chain_slugs(app: Any) -> dict[uuid.UUID, str]:
    from portal.audit.models import PLATFORM_CHAIN
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        out = dict(db.session.execute(sa.select(Tenant.id, Tenant.slug)).all())
    out[PLATFORM_CHAIN] = "platform"
    return out


class Ctx:
    """Helpers for factories: existing demo rows, and other models' new rows."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def model(self, name: str) -> type:
        from portal.db import Base

        return next(m.class_ for m in Base.registry.mappers if m.class_.__name__ == name)

    def first(self, name: str) -> Any:
        cls = self.model(name)
        row = self.session.execute(sa.select(cls).limit(1)).unique().scalars().first()
        assert row is not None, f"no demo row of {name} to build on"
        return row

    def make(self, name: str) -> Any:
        """A new, flushed row of another model (for parents a factory needs)."""
        obj = (
            factories[name](self)
            if name in (factories := domain_tables("MODEL_FACTORIES"))
            else clone(self.first(name))
        )
        self.session.add(obj)
        self.session.flush()
        return obj


def _unique_sets(table: sa.Table) -> list[set[str]]:
    sets = [
        {c.name for c in con.columns}
        for con in table.constraints
        if isinstance(con, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
    ]
    sets += [{c.name for c in ix.columns} for ix in table.indexes if ix.unique]
    sets += [{c.name} for c in table.columns if c.unique]
    return sets


def _vary(column: sa.Column, value: Any) -> Any:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.String):
        room = (kind.length or 200) - 10  # 8 random hex digits: one in 16 collided twice a run
        return f"{str(value)[:room]}~{uuid.uuid4().hex[:8]}"
    if isinstance(kind, sa.Integer):
        return (value or 0) + 10_000 + uuid.uuid4().int % 1_000_000  # never twice the same
    if isinstance(kind, sa.Date):
        return None if value is None else value + dt.timedelta(days=3653)
    return None


def _variable(column: sa.Column) -> bool:
    if column.foreign_keys or column.name == "tenant_id":
        return False
    kind = column.type
    if isinstance(kind, sa.String) and not isinstance(kind, sa.Enum):
        return (kind.length or 200) >= 8
    return isinstance(kind, sa.Uuid | sa.Integer | sa.Date)


def clone(src: Any) -> Any:
    """A copy of a demo row that satisfies its primary key and unique constraints."""
    from portal.db import new_id

    cls = type(src)
    mapper = sa.inspect(cls)
    table = mapper.local_table
    version = mapper.version_id_col.key if mapper.version_id_col is not None else None
    values = {}
    for attr in mapper.column_attrs:
        if attr.key == version:
            continue
        values[attr.key] = copy.deepcopy(getattr(src, attr.key))
    for unique in _unique_sets(table):
        candidates = [table.c[n] for n in sorted(unique) if _variable(table.c[n])]
        assert candidates, (
            f"{cls.__name__}: cannot clone a demo row (unique {sorted(unique)} has no column "
            "to vary) — add a factory to MODEL_FACTORIES in tests/audit/test_coverage.py"
        )
        col = next((c for c in candidates if c.primary_key), candidates[0])
        key = mapper.get_property_by_column(col).key
        values[key] = new_id() if col.name == "id" else _vary(col, values[key])
    return cls(**values)


def plain_field(mapper: Any) -> Any:
    """A column the update step may change: plain text first, then a number, a flag, a date."""
    table = mapper.local_table
    in_unique = set().union(*_unique_sets(table))
    version = mapper.version_id_col.key if mapper.version_id_col is not None else None
    from portal.audit import trail

    for want in (sa.String, sa.Integer, sa.Boolean, sa.Date, sa.DateTime):
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if (
                isinstance(col.type, want)
                and not isinstance(col.type, sa.Enum | sa.JSON)
                and not col.primary_key
                and not col.foreign_keys
                and col.name not in in_unique
                and attr.key != version
                and not trail.is_secret(mapper.class_, attr.key)
                and not attr.key.endswith("_id")
            ):
                return attr
    return None


def changed_value(old: Any) -> Any:
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + 1
    if isinstance(old, dt.datetime):
        return old + dt.timedelta(seconds=1)
    if isinstance(old, dt.date):
        return old + dt.timedelta(days=1)
    if old is None:
        return None
    return f"{old}~upd"[:60]


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def chain_events(chain: uuid.UUID, after: int) -> list[Any]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with scope.cross_tenant("audit coverage"):
        return list(
            db.session.execute(
                sa.select(AuditEvent)
                .where(AuditEvent.tenant_id == chain, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )


def chain_head(chain: uuid.UUID) -> int:
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with scope.cross_tenant("audit coverage"):
        return (
            db.session.execute(
                sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.tenant_id == chain)
            ).scalar()
            or 0
        )


def model_names() -> list[str]:
    from portal import models  # noqa: F401 - every domain's models
    from portal.db import Base

    return sorted(m.class_.__name__ for m in Base.registry.mappers)
