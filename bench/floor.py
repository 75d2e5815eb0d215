"""The floor: bare Flask-Admin ModelViews listing the same rows from the same database,
with none of the portal (no tenancy hooks, no RLS, no audit, no i18n work beyond
Flask-Admin's own). A portal page can hardly be faster than this.

For the load test's same-mix run the floor also signs in (the same argon2 parameters as
the portal, checked against the same users table, a signed cookie session) and writes
(a bare ORM insert of a progress entry, no audit, no rules): the portal's sign-ins and
writes against their bare equivalents, so throughput is compared like for like.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, redirect, request, session
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from sqlalchemy.orm import scoped_session, sessionmaker

#: The action codes whose labels hold 签报 (the audit floor of the viewer's Chinese search).
SIGN_OFF_ACTIONS = ("duty.accepted", "duty.invalidated", "duty.returned", "duty.sign_off")


class FilteredView(ModelView):
    can_create = can_edit = can_delete = False
    page_size = 25

    def __init__(self, model: Any, session: Any, endpoint: str, where: dict, **kw: Any) -> None:
        self.where = where
        for key, value in kw.items():
            setattr(self, key, value)
        super().__init__(model, session, endpoint=endpoint, url=f"/floor/{endpoint}")

    def _conditions(self) -> list:
        return [
            getattr(self.model, k).in_(v) if isinstance(v, tuple) else getattr(self.model, k) == v
            for k, v in self.where.items()
        ]

    def get_query(self):  # type: ignore[no-untyped-def]
        return super().get_query().filter(*self._conditions())

    def get_count_query(self):  # type: ignore[no-untyped-def]
        return super().get_count_query().filter(*self._conditions())


def floor_app(url: str, ctx: dict) -> Flask:
    """`url` must see every row (PostgreSQL: a role that bypasses RLS)."""
    from portal.audit.models import AuditEvent
    from portal.duties.models import Duty, ProgressEntry

    app = Flask("floor")
    app.config.update(SECRET_KEY="floor", TESTING=True)
    Babel(app)
    engine = sa.create_engine(url, pool_pre_ping=True)
    session = scoped_session(sessionmaker(bind=engine))
    admin = Admin(app, name="floor", url="/floor")
    tenant = ctx["tenant_id"]
    if "department_id" in ctx:  # bench/run.py: the duty lists
        admin.add_view(
            FilteredView(
                Duty,
                session,
                "officer_duties",
                {
                    "tenant_id": tenant,
                    "department_id": ctx["department_id"],
                    "period": ctx["period"],
                },
            )
        )
        admin.add_view(
            FilteredView(
                Duty,
                session,
                "period_duties",
                {"tenant_id": tenant, "period": ctx["period"]},
                page_size=100,
            )
        )
        admin.add_view(
            FilteredView(
                ProgressEntry,
                session,
                "duty_entries",
                {"tenant_id": tenant, "duty_id": ctx["duty_id"]},
            )
        )
        admin.add_view(
            FilteredView(
                Duty,
                session,
                "review_queue",
                {"tenant_id": tenant, "status": "submitted"},
                column_default_sort="submitted_at",
            )
        )
        admin.add_view(
            FilteredView(
                AuditEvent,
                session,
                "audit_filtered",
                {"tenant_id": tenant, "action": "update", "department_id": ctx["department_id"]},
                column_default_sort=("seq", True),
                page_size=50,
                column_exclude_list=["changes", "prev_hash", "hash", "user_agent"],
            )
        )
        admin.add_view(
            FilteredView(
                AuditEvent,
                session,
                "audit_search",
                # what the viewer's search 签报 shows: the events of the actions whose label
                # holds the word (portal.audit.vocabulary.search_codes), already known
                {"tenant_id": tenant, "action": SIGN_OFF_ACTIONS},
                column_default_sort=("seq", True),
                page_size=50,
                column_exclude_list=["changes", "prev_hash", "hash", "user_agent"],
            )
        )

    if "register_town_id" in ctx:  # bench/register_bench.py: the register's lists
        from portal.register.models import Household

        listing = {
            "column_default_sort": "number",
            "column_list": [
                "number",
                "head_name",
                "town_id",
                "village_id",
                "category",
                "level",
                "woman_birth_date",
                "registered_on",
                "status",
                "exit_reason",
            ],
        }
        admin.add_view(
            FilteredView(
                Household,
                session,
                "town_households",
                {"tenant_id": tenant, "town_id": ctx["register_town_id"]},
                **listing,
            )
        )
        admin.add_view(
            FilteredView(
                Household, session, "district_households", {"tenant_id": tenant}, **listing
            )
        )

    if "write_duty_id" in ctx:  # bench/loadtest.py --floor: the same-mix load floor
        _sign_in_and_write(app, session, ctx)

    @app.teardown_appcontext
    def _remove(exc: object = None) -> None:
        session.remove()

    app.extensions["floor_engine"] = engine
    return app


LOGIN_FORM = (
    '<form method="post"><input name="csrf_token" value="{token}">'
    '<input name="username"><input name="password" type="password"></form>'
)


def _sign_in_and_write(app: Flask, db_session: Any, ctx: dict) -> None:
    """Bare equivalents of the portal's sign-in and progress-entry write."""
    import datetime as dt
    import secrets

    from portal.auth.models import User
    from portal.auth.passwords import _hasher  # the portal's own argon2 parameters
    from portal.duties.models import ProgressEntry

    @app.get("/login")
    def login_form() -> str:
        session.setdefault("token", secrets.token_hex(16))
        return LOGIN_FORM.format(token=session["token"])

    @app.post("/login")
    def login() -> Any:
        row = db_session.execute(
            sa.select(User.id, User.password_hash).where(
                User.username == request.form.get("username", "")
            )
        ).first()
        try:
            ok = row is not None and _hasher.verify(row.password_hash, request.form["password"])
        except Exception:
            ok = False
        if not ok:
            abort(401)
        session["user"] = str(row.id)
        return redirect("/floor/period_duties/")

    @app.post("/floor/entries")
    def add_entry() -> Any:
        if "user" not in session:
            abort(401)
        db_session.add(
            ProgressEntry(
                tenant_id=ctx["tenant_id"],
                duty_id=ctx["write_duty_id"],
                department_id=ctx["write_department_id"],
                work_date=dt.date(2026, 11, 20),
                narrative=request.form.get("narrative", ""),
                families_reached=int(request.form.get("families_reached") or 0),
                amount_paid=0,
            )
        )
        db_session.commit()
        return redirect("/floor/duty_entries/", code=303)
