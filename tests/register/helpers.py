"""Look-ups the register tests share: demo plaintexts, sample households, tokens."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa


def tenant_id(app: Any, slug: str) -> uuid.UUID:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test"):
        found = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        db.session.remove()
    return found


def demo_plaintexts(app: Any, slug: str = "kaifeng") -> tuple[set[str], set[str]]:
    """Every resident ID and phone number of the district's demo persons, decrypted."""
    from portal.extensions import db
    from portal.register.models import Person
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, slug)):
        persons = db.session.execute(sa.select(Person)).scalars().all()
        ids = {p.id_number for p in persons}
        phones = {p.phone for p in persons if p.phone}
        db.session.remove()
    return ids, phones


def households_by_town(app: Any, slug: str = "kaifeng") -> dict[str, list[uuid.UUID]]:
    from portal.extensions import db
    from portal.register.models import Area, Household
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, slug)):
        rows = db.session.execute(
            sa.select(Household.id, Area.name)
            .join(Area, Area.id == Household.town_id)
            .order_by(Household.number)
        ).all()
        out: dict[str, list[uuid.UUID]] = {}
        for hid, town in rows:
            out.setdefault(town, []).append(hid)
        db.session.remove()
    return out


def contact_households(app: Any, username: str, slug: str = "kaifeng") -> set[uuid.UUID]:
    from portal.auth.models import User
    from portal.extensions import db
    from portal.register.models import HouseholdContact
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, slug)):
        user_id = db.session.execute(sa.select(User.id).filter_by(username=username)).scalar_one()
        found = set(
            db.session.execute(
                sa.select(HouseholdContact.household_id).filter_by(user_id=user_id)
            ).scalars()
        )
        db.session.remove()
    return found


def bearer(app: Any, username: str) -> dict[str, str]:
    from portal.auth import services
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        _token, secret = services.create_token(user, "register test", None)
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {secret}"}
