"""A small district of its own for benefit tests that write (cycles run in month order, so
they never share the demo districts' cycles): the 开封 policy, one town, households."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
import yaml

from tests.conftest import ROOT


def kaifeng_data(without_rise: bool = False) -> dict:
    data = yaml.safe_load((ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8"))
    if without_rise:  # as the file read before the 2023 document: 1180 only
        b = data["measures"][2]["benefits"][0]
        assert b["values"][1]["amount"] == 1430
        b["values"] = [{"amount": 1180, "effective_from": dt.date(2015, 1, 1), "source": "旧标准"}]
        b.pop("funding_split"), b.pop("funding_split_applies_to")
    return data


def new_district(slug: str, data: dict) -> Any:
    """A tenant with the policy loaded and one sample town and village; returns the tenant."""
    from portal.extensions import db
    from portal.policy.services import load_policy
    from portal.register.models import Area, AreaKind
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with scope.cross_tenant("benefits test tenant"):
        tenant = Tenant(slug=slug, name=slug, level="市", province="测试省")
        db.session.add(tenant)
        db.session.commit()
    with scope.tenant_scope(tenant.id):
        data = {**data, "tenant": {**data["tenant"], "slug": slug}}
        load_policy(tenant, data)
        town = Area(kind=AreaKind.town, name="示例街道一")
        db.session.add(town)
        db.session.flush()
        db.session.add(Area(kind=AreaKind.village, name="示例社区一", parent_id=town.id))
        db.session.commit()
    return tenant


@contextlib.contextmanager
def in_new_district(app: Any, slug: str, data: dict | None = None) -> Iterator[Any]:
    """`new_district` (the 开封 policy unless `data`) inside the app, and its scope for the
    block; yields the tenant."""
    from portal.tenancy import scope

    with app.app_context():
        tenant = new_district(slug, data if data is not None else kaifeng_data())
        with scope.tenant_scope(tenant.id):
            yield tenant


def add_couple(
    woman_born: dt.date,
    man_born: dt.date,
    category: str = "bereaved",
    registered_on: dt.date = dt.date(2010, 1, 1),
    number: str = "",
) -> Any:
    """A confirmed household with its couple (inside the tenant's scope; no commit)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.register import pii
    from portal.register.models import Area, AreaKind, Household, Person

    village = db.session.execute(sa.select(Area).filter_by(kind=AreaKind.village)).scalars().first()
    h = Household(
        number=number or f"T{uuid.uuid4().hex[:6]}",
        town_id=village.parent_id,
        village_id=village.id,
        category=category,
        woman_birth_date=woman_born,
        registered_on=registered_on,
        head_name="测试",
    )
    db.session.add(h)
    db.session.flush()
    for pos, (rel, born, gender) in enumerate(
        [("principal", woman_born, "female"), ("spouse", man_born, "male")]
    ):
        number_ = f"41010{pos}{born:%Y%m%d}{uuid.uuid4().int % 1000:03d}X"
        db.session.add(
            Person(
                household_id=h.id,
                position=pos,
                relationship_=rel,
                name=f"测试{pos}",
                id_number=number_,
                id_index=pii.blind_index(number_, "id_number"),
                birth_date=born,
                gender=gender,
            )
        )
    db.session.flush()
    return h


def run_cycle(
    cycle: Any, *, results: dict | None = None, result: str = "发放结果", reason: str = "失败原因"
) -> dict:
    """compute → review → approve → export → import (all paid unless `results` says; the
    bank writes into the columns headed `result` and `reason`)."""
    from portal.benefits import bank, operations
    from portal.kernel.grants import SYSTEM

    operations.compute_cycle(SYSTEM, cycle, cycle.row_version)
    operations.review_cycle(SYSTEM, cycle, cycle.row_version)
    operations.approve_cycle(SYSTEM, cycle, cycle.row_version)
    data = bank.bank_file(SYSTEM, cycle, cycle.row_version)
    rows = bank.read_results(bank_copy(data, results or {}, result, reason))
    return bank.import_results(SYSTEM, cycle, rows, cycle.row_version)


def bank_copy(
    data: bytes, results: dict, result: str = "发放结果", reason: str = "失败原因"
) -> bytes:
    """The bank's copy: every row 成功 unless `results[row number]` gives a failure reason."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    head = [c.value for c in ws[1]]
    col_result, col_reason = head.index(result) + 1, head.index(reason) + 1
    for i in range(2, ws.max_row + 1):
        failed = results.get(i - 1)
        ws.cell(i, col_result, "失败" if failed else "成功")
        if failed:
            ws.cell(i, col_reason, failed)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_accounts(household: Any, account: str) -> None:
    """A bank account for each member (`account` formatted with the member's position)."""
    from portal.benefits import bank
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.register.models import Person

    for p in db.session.execute(sa.select(Person).filter_by(household_id=household.id)).scalars():
        bank.set_account(
            SYSTEM,
            household_id=household.id,
            person_id=p.id,
            holder=p.name,
            bank="测试银行",
            account=account.format(p.position),
        )
