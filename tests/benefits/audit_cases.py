"""Audit coverage cases of the benefit ledger (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from tests.audit.coverage import Ctx, Exercise, Listed


def _cycle(ctx: Ctx) -> Any:
    from portal.benefits.models import PaymentCycle

    # a month no demo cycle uses (unique per district), in draft: it may change
    return PaymentCycle(period=dt.date(2090 + uuid.uuid4().int % 9, 1 + uuid.uuid4().int % 12, 1))


def _claim(ctx: Ctx) -> Any:
    from portal.benefits.models import Claim

    household = ctx.first("Household")
    return Claim(
        standard_key="6/住院护理补贴",
        standard_name="住院护理补贴",
        household_id=household.id,
        town_id=household.town_id,
        start=dt.date(2026, 3, 1),
        end=dt.date(2026, 3, 2),
        quantity=2,
        asked=2,
        amount=600,
        evidence_note="出院小结",
    )


def _account(ctx: Ctx) -> Any:
    from portal.benefits.models import PayeeAccount
    from portal.register import pii

    number = "62220000" + str(uuid.uuid4().int)[:8]
    return PayeeAccount(
        household_id=ctx.first("Household").id,
        person_id=None,
        holder="示例户名",
        bank="示例银行",
        account=number,
        account_index=pii.blind_index(number, "bank_account"),
    )


ROUTES: dict[str, Exercise | Listed] = {
    "benefits.create": Listed(
        "create PaymentCycle (district chain), actor the eligibility officer",
        test="tests/benefits/test_views.py::test_the_cycle_steps_through_the_pages",
    ),
    "benefits.step": Listed(
        "compute: update PaymentCycle + benefit_cycle_computed (lines, by kind, total, input "
        "and lines hashes; lines are written set-based, not row events); review: update + "
        "benefit_cycle_reviewed; approve: update + benefit_cycle_approved (four eyes)",
        test="tests/benefits/test_views.py::test_the_cycle_steps_through_the_pages",
    ),
    "benefits.bank_file": Listed(
        "update PaymentCycle (exported) + benefit_bank_file_exported with the row count and the "
        "lines without an account, actor the finance officer",
        test="tests/benefits/test_cycles.py::test_rise_loaded_after_closed_cycles_gives_arrears_and_the_bank_round_trip",
    ),
    "benefits.results": Listed(
        "benefit_results_imported with paid / failed / pending counts (+ update PaymentCycle "
        "closed when none is pending), actor the finance officer",
        test="tests/benefits/test_cycles.py::test_rise_loaded_after_closed_cycles_gives_arrears_and_the_bank_round_trip",
    ),
    "benefits.claims": Listed(
        "create Claim (accepted or refused, with the structured reason), actor the town officer",
        test="tests/benefits/test_views.py::test_a_town_officer_enters_a_claim_and_sees_the_refusal",
    ),
    "benefits.bank_file_layout": Listed(
        "create or update BankLayout (columns before and after), actor the district lead",
        test="tests/benefits/test_bank_layout.py::test_the_lead_sets_a_layout_and_the_form_keeps_bad_input",
    ),
}

DOWNLOADS: dict[str, Exercise | Listed] = {
    "benefits.funding": Listed(
        "benefit_funding_exported PaymentCycle with the period and lines hash",
        test="tests/benefits/test_views.py::test_the_cycle_steps_through_the_pages",
    ),
}


def _layout(ctx: Ctx) -> Any:
    from portal.benefits.models import BankLayout

    return BankLayout(columns=[["line_id", "明细编号"], ["amount", "金额"]])


MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "BankLayout": _layout,
    "PaymentCycle": _cycle,
    "Claim": _claim,
    "PayeeAccount": _account,
}

NOT_AUDITED: dict[str, str] = {
    "PaymentLine": "a cycle's lines are written set-based and recorded as one "
    "benefit_cycle_computed event with their count, total and hash; their bank results "
    "as one benefit_results_imported event with the counts",
}
