"""Shared helpers of the duties tests: a district in scope, its users, departments and duties."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from portal.auth.models import User
from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel.periods import Period
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant


@contextlib.contextmanager
def district(app, slug: str) -> Iterator[Tenant]:  # type: ignore[no-untyped-def]
    with app.app_context():
        with scope.cross_tenant("test"):
            tenant = db.session.execute(sa.select(Tenant).filter_by(slug=slug)).scalar_one()
        with scope.tenant_scope(tenant.id):
            yield tenant
        db.session.rollback()


def user(username: str) -> User:
    return db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()


def department(key: str) -> Department:
    return db.session.execute(sa.select(Department).filter_by(key=key)).scalar_one()


def duty_in(status: DutyStatus, dept_key: str = "civil_affairs") -> Duty:
    return (
        db.session.execute(
            sa.select(Duty)
            .where(Duty.period == Period.current().code, Duty.status == status)
            .where(Duty.department_id == department(dept_key).id)
            .order_by(Duty.measure_number)
        )
        .unique()
        .scalars()
        .first()
    )


def triple_current_duties(app, slug: str = "kaifeng") -> None:  # type: ignore[no-untyped-def]
    """Two more copies of every duty of the current half-year (committed), so a test can
    show that a page's statement count does not grow with the data."""
    with district(app, slug):
        originals = (
            db.session.execute(sa.select(Duty).where(Duty.period == Period.current().code))
            .unique()
            .scalars()
            .all()
        )
        for copy in (1, 2):
            for d in originals:
                db.session.add(
                    Duty(
                        period=d.period,
                        department_id=d.department_id,
                        measure_id=d.measure_id,
                        measure_number=f"{d.measure_number}-{copy}",
                        role=d.role,
                        due_date=d.due_date,
                        status=d.status,
                    )
                )
        db.session.commit()
