"""Audit coverage cases of the policy domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit.coverage import (
    Ctx,
    Exercise,
    Expect,
    Listed,
    first_id,
    mark,
    marked_post,
    signed_in,
)


def _measure_responsibility(ctx: Ctx) -> Any:
    from portal.policy.models import MeasureResponsibility, ResponsibilityRole

    return MeasureResponsibility(
        measure_id=ctx.first("Measure").id,
        department_id=ctx.make("Department").id,
        role=ResponsibilityRole.cooperating,
    )


def _policy_add_value(app: Any) -> list[Expect]:
    benefit_id, _row = first_id(app, "BenefitStandard", "zhangdian")
    b = signed_in(app, "zhangdian-lead")
    marked_post(
        app,
        b,
        f"/t/zhangdian/policy/benefits/{benefit_id}/values/new",
        {"amount": "1234.50", "effective_from": "2031-01-01", "source": "覆盖测试文件"},
    )
    return [Expect("create", "BenefitValue", "zhangdian")]


def _policy_edit_measure(app: Any) -> list[Expect]:
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    measure_id, _row = first_id(app, "Measure", "jiangyan")
    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="jiangyan")).scalar_one()
        with scope.tenant_scope(tid):
            measure = db.session.get(Ctx(db.session).model("Measure"), (tid, measure_id))
            lead = [str(r.department_id) for r in measure.responsibilities if r.role == "lead"]
            coop = [str(r.department_id) for r in measure.responsibilities if r.role != "lead"]
            form = {
                "title": measure.title + "（覆盖）",
                "text": measure.text,
                "category": measure.category,
                "row_version": str(measure.row_version),
            }
        db.session.remove()
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/policy/measures/{measure_id}/edit"
    token = b.csrf(path)
    mark(app)
    r = b.client.post(path, data={**form, "lead": lead, "cooperating": coop, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return [
        Expect(
            "update",
            "Measure",
            "jiangyan",
            entity_id=str(measure_id),
            changed={"title"},  # the version counter is set by the UPDATE itself
        )
    ]


#: State-changing routes and API endpoints of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "policy.add_value": Exercise(_policy_add_value),
    "policy.edit_measure": Exercise(_policy_edit_measure),
    # Adopting 姜堰's draft would change the shared demo (its duties); the test checks the
    # audited update on a fresh database.
    "policy.adopt": Listed(
        "update PolicyVersion (adopted_at, adopted_by) by the district lead",
        "tests/policy/test_rules.py::test_a_draft_creates_no_duties_until_the_lead_adopts_it",
    ),
    # Only 张店's expired policy takes this decision, and the demo has taken it already.
    "policy.after_expiry": Listed(
        "update PolicyVersion (after_expiry, after_expiry_decided_at, after_expiry_decided_by) "
        "by the district lead",
        "tests/policy/test_rules.py::"
        "test_an_expired_policy_creates_duties_only_by_the_leads_audited_decision",
    ),
}

#: Factories for models the generic clone cannot make.
MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "MeasureResponsibility": _measure_responsibility,
}
