"""Property-based tests (Hypothesis) of the cycle's invariants.

- Four eyes: whatever sequence of officers tries whatever step, an approved cycle was
  never approved by the officer who computed or reviewed it, and the steps ran in order.
- A closed cycle never changes: any change to it or to one of its lines is refused at
  flush time, whoever writes.
"""

from __future__ import annotations

import contextlib
import decimal
import types
import uuid
from unittest import mock

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.benefits import operations
from portal.benefits.models import CycleStatus
from portal.kernel.rules import RuleError

USERS = [
    types.SimpleNamespace(
        id=uuid.UUID(int=i + 1),
        department_id=kind,
        display_name=f"u{i}",
        is_authenticated=True,
        role="dept_officer",
    )
    for i, kind in enumerate(["health", "health", "finance", "finance"])
] + [
    types.SimpleNamespace(
        id=uuid.UUID(int=9),
        department_id=None,
        display_name="lead",
        is_authenticated=True,
        role="district_lead",
    )
]
STEPS = {
    "review": operations.review_cycle,
    "approve": operations.approve_cycle,
}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(range(len(USERS))), st.sampled_from(sorted(STEPS))), max_size=8
    ),
    st.sampled_from(range(len(USERS))),
)
def test_four_eyes_always(attempts, computer) -> None:  # type: ignore[no-untyped-def]
    cycle = types.SimpleNamespace(
        status=CycleStatus.computed,
        computed_by_id=USERS[computer].id,
        reviewed_by_id=None,
        approved_by_id=None,
        row_version=1,
        period=None,
        lines_hash="",
        id=uuid.uuid4(),
    )
    kinds = {u.department_id: u.department_id for u in USERS if u.department_id}
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch(
                "portal.benefits.rules.department_kind", lambda user: kinds.get(user.department_id)
            )
        )
        stack.enter_context(
            mock.patch("portal.benefits.operations.step_event", lambda *a, **k: None)
        )
        stack.enter_context(mock.patch("portal.benefits.operations.utcnow", lambda: None))
        reviewed_by = None
        for who, step in attempts:
            user = USERS[who]
            try:
                STEPS[step](user, cycle, cycle.row_version)
            except RuleError:
                continue
            if step == "review":
                reviewed_by = user.id
                assert user.department_id == "health"
            else:
                assert user.department_id == "finance"
                assert user.id not in (reviewed_by, cycle.computed_by_id)
                assert reviewed_by is not None  # reviewed before approved
    if cycle.status == CycleStatus.approved:
        assert cycle.approved_by_id not in (cycle.reviewed_by_id, cycle.computed_by_id)


MUTATIONS = {
    "amount": lambda line: setattr(line, "amount", line.amount + decimal.Decimal("0.01")),
    "status": lambda line: setattr(line, "status", "paid" if line.status != "paid" else "failed"),
    "reasons": lambda line: setattr(line, "reasons", []),
    "delete": None,
}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    which=st.integers(0, 10_000),
    mutation=st.sampled_from(sorted(MUTATIONS)),
    on_cycle=st.booleans(),
)
def test_a_closed_cycle_never_changes(app, which, mutation, on_cycle) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import queries
    from portal.benefits.models import PaymentCycle
    from portal.extensions import db
    from portal.tenancy import scope
    from tests.register.helpers import tenant_id

    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        try:
            cycles = (
                db.session.execute(
                    sa.select(PaymentCycle)
                    .where(PaymentCycle.status == CycleStatus.closed)
                    .order_by(PaymentCycle.period)
                )
                .scalars()
                .all()
            )
            cycle = cycles[which % len(cycles)]
            if on_cycle:
                if mutation == "delete":
                    db.session.delete(cycle)
                else:
                    cycle.total = cycle.total + 1
            else:
                lines = queries.all_lines(cycle)
                line = lines[which % len(lines)]
                if mutation == "delete":
                    db.session.delete(line)
                else:
                    MUTATIONS[mutation](line)
            with pytest.raises(ValueError, match="never change"):
                db.session.flush()
        finally:
            db.session.rollback()
            db.session.remove()
