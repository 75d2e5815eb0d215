"""The floor: bare Flask-Admin ModelViews listing the same rows from the same database,
with none of the portal (no tenancy hooks, no RLS, no audit, no sign-in, no i18n work
beyond Flask-Admin's own). A portal page can hardly be faster than this.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from sqlalchemy.orm import scoped_session, sessionmaker


class FilteredView(ModelView):
    can_create = can_edit = can_delete = False
    page_size = 25

    def __init__(self, model: Any, session: Any, endpoint: str, where: dict, **kw: Any) -> None:
        self.where = where
        for key, value in kw.items():
            setattr(self, key, value)
        super().__init__(model, session, endpoint=endpoint, url=f"/floor/{endpoint}")

    def _conditions(self) -> list:
        return [getattr(self.model, k) == v for k, v in self.where.items()]

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
                AuditEvent,
                session,
                "audit_filtered",
                {"tenant_id": tenant, "action": "update", "department_id": ctx["department_id"]},
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

    @app.teardown_appcontext
    def _remove(exc: object = None) -> None:
        session.remove()

    app.extensions["floor_engine"] = engine
    return app
