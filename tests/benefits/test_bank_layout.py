"""The bank file layout per district: a non-default layout (other order, other Chinese
headings, optional columns left out) round-trips — export, the bank marks a copy, import,
the failed line carried to the next cycle — and the lead's form refuses bad input, keeping
it. Without a setting the file keeps the documented generic layout."""

from __future__ import annotations

import datetime as dt
import io

from tests.benefits.dbhelpers import (
    add_couple,
    bank_copy,
    in_new_district,
    run_cycle,
    with_accounts,
)

D = dt.date
LAYOUT = [
    ("amount", "金额（元）"),
    ("holder", "户名"),
    ("account", "收款账号"),
    ("line_id", "流水号"),
    ("reason", "备注"),
    ("result", "处理结果"),
]


def _head(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    return [c.value for c in load_workbook(io.BytesIO(data)).active[1]]


def test_a_district_layout_round_trips_and_failed_lines_carry_over(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import bank, bank_layout, operations, queries
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM

    with in_new_district(fresh_app, "kf-layout"):
        h = add_couple(D(1960, 1, 1), D(1959, 1, 1))
        with_accounts(h, "62229999{:04d}1234")
        assert bank_layout.layout() == bank_layout.DEFAULT_LAYOUT  # no setting yet
        form = {f"pos_{k}": str(i + 1) for i, (k, _h) in enumerate(LAYOUT)}
        form |= {f"head_{k}": h for k, h in LAYOUT}
        bank_layout.set_layout(SYSTEM, bank_layout.parse(form), "0")
        db.session.commit()
        assert bank_layout.layout() == LAYOUT
        # the exported file has exactly the district's columns, in its order
        jan = operations.create_cycle(SYSTEM, D(2024, 1, 1))
        for step in (operations.compute_cycle, operations.review_cycle):
            step(SYSTEM, jan, jan.row_version)
        operations.approve_cycle(SYSTEM, jan, jan.row_version)
        data = bank.bank_file(SYSTEM, jan, jan.row_version)
        assert _head(data) == [h for _k, h in LAYOUT]
        copy = bank_copy(data, {2: "账户冻结"}, result="处理结果", reason="备注")
        got = bank.import_results(SYSTEM, jan, bank.read_results(copy), jan.row_version)
        assert got == {"paid": 1, "failed": 1, "pending": 0}
        # the next cycle, in the same layout, pays the failed line again
        feb = operations.create_cycle(SYSTEM, D(2024, 2, 1))
        assert run_cycle(feb, result="处理结果", reason="备注")["failed"] == 0
        carried = [x for x in queries.all_lines(feb) if x.cause == "carried"]
        assert [(x.period, x.amount) for x in carried] == [(D(2024, 1, 1), 1430)]
        db.session.commit()


def test_the_lead_sets_a_layout_and_the_form_keeps_bad_input(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from tests.audit.coverage import row_version

    url = "/t/kaifeng/benefits/bank-layout"
    lead = login_as("kaifeng-lead", fresh_app)
    page = lead.get(url).get_data(as_text=True)
    assert 'value="明细编号"' in page and 'value="失败原因"' in page  # the generic layout
    assert login_as("kaifeng-finance", fresh_app).get(url).status_code == 404
    form = {f"pos_{k}": str(i + 1) for i, (k, _h) in enumerate(LAYOUT)}
    form |= {f"head_{k}": h for k, h in LAYOUT}
    bad = {**form, "head_holder": "收款账号", "row_version": row_version(page)}
    r = lead.post(url, bad, csrf_from=url)
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "与另一列的表头相同" in text and 'value="户名"' not in text  # the input kept
    assert text.count('value="收款账号"') == 2
    left_out = {**form, "pos_line_id": "", "row_version": row_version(page)}
    r = lead.post(url, left_out, csrf_from=url)
    assert r.status_code == 400 and "核对银行结果需要此列" in r.get_data(as_text=True)
    r = lead.post(url, {**form, "row_version": row_version(page)}, csrf_from=url)
    assert r.status_code == 302
    page = lead.get(url).get_data(as_text=True)
    assert (
        'value="流水号"' in page
        and 'name="pos_household" id="pos_household" inputmode="numeric" size="3" maxlength="2" value=""'
        in page
    )
    # a second save from the old page is a conflict
    r = lead.post(url, {**form, "row_version": "0"}, csrf_from=url)
    assert r.status_code == 409
