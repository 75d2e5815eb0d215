"""The operator's view of the register: counts per district through `tenant_statistics`
(the platform never imports the register), and nothing personal."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import Browser
from tests.register.helpers import demo_plaintexts, tenant_id


def _direct_counts(app, slug: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register.models import ChangeRequest, Household, Person
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, slug)):
        households = db.session.execute(
            sa.select(sa.func.count()).where(Household.status == "registered")
        ).scalar_one()
        persons = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Person)
            .join(Household, Household.id == Person.household_id)
            .where(Household.status == "registered")
        ).scalar_one()
        pending = db.session.execute(
            sa.select(sa.func.count()).where(ChangeRequest.status == "pending")
        ).scalar_one()
        db.session.remove()
    return households, persons, pending


def test_console_shows_register_counts_and_nothing_personal(app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    assert b.login("operator").status_code == 302
    page = b.get("/platform/").get_data(as_text=True)
    ids, phones = demo_plaintexts(app)
    for slug in ("kaifeng", "jiading"):
        households, persons, pending = _direct_counts(app, slug)
        assert households > 0 and persons > households and pending > 0
        row = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', page, re.S).group(1)
        cell = re.search(r'class="register-counts">(.*?)</td>', row, re.S).group(1)
        assert f"{households} 户 · {persons} 人" in cell
        assert f"{pending} 条变更待确认" in cell
    assert not [v for v in ids | phones if v in page]
    assert "示例社区" not in page and "示例街道" not in page  # no places, no names


def test_platform_does_not_import_the_register() -> None:
    import ast
    from pathlib import Path

    for path in Path("portal/platform").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("portal.register"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("portal.register") for a in node.names), path
