"""Benefit figures as the joint meeting, department reports and duties show them: a line
for the draft agenda, a table for the prep pack, a short section for the paying
department's report, evidence for the duty of a measure the engine computes. Chinese,
like `portal.care.summary`, since these go into the district's own documents.

Meetings (above benefits) call `agenda_line` and `table` directly; duties and department
reports (drafted in meetings, asked through kernel signals so that the meeting does not
need to know benefits) are answered in `portal.benefits.signals`. Counts and amounts only,
district-wide (a town officer's scope does not shrink a district's report).
"""

from __future__ import annotations

import datetime as dt

from portal.benefits import queries
from portal.benefits.queries import PeriodFigures
from portal.benefits.reasons import money
from portal.kernel import timefmt
from portal.register.operations import district_wide


def figures(
    first: dt.date, last: dt.date, measure_number: str | None = None
) -> list[PeriodFigures]:
    """The span's figures per standard and in total, district-wide (see `period_figures`)."""
    with district_wide():
        return queries.period_figures(first, last, measure_number)


def _yuan(value: object) -> str:
    return f"{money(value)} 元"


def _sentence(f: PeriodFigures) -> str:
    parts = [
        f"发放批次 {f.cycles} 个，应发 {_yuan(f.due)}",
        f"已发放 {f.households_paid} 户 {_yuan(f.paid)}",
        f"补发待发 {_yuan(f.arrears_pending)}",
        f"银行退回 {f.failed_lines} 笔 {_yuan(f.failed_amount)}（转下期补发）",
    ]
    if f.recoveries_pending:
        parts.append(f"追回待收 {_yuan(f.recoveries_pending)}")
    return "；".join(parts)


def agenda_line(first: dt.date, last: dt.date) -> str:
    """The span's payments in one paragraph (empty when no cycle paid cash in it)."""
    rows = figures(first, last)
    if not rows:
        return ""
    span = (
        f"{timefmt.format_date(first, english=False)}至{timefmt.format_date(last, english=False)}"
    )
    return f"{span}：{_sentence(rows[-1])}。"


TABLE_HEADER = [
    "扶助项目",
    "应发（元）",
    "已发放户数",
    "已发放（元）",
    "补发待发（元）",
    "银行退回（笔/元）",
    "追回待收（元）",
]


def table(first: dt.date, last: dt.date) -> list[list[str]]:
    """One row per standard and the total last (empty when nothing was paid in the span)."""
    return [
        [
            f.name or "合计",
            money(f.due),
            str(f.households_paid),
            money(f.paid),
            money(f.arrears_pending),
            f"{f.failed_lines}/{money(f.failed_amount)}",
            money(f.recoveries_pending),
        ]
        for f in figures(first, last)
    ]


def report_lines(first: dt.date, last: dt.date, label: str) -> list[str] | None:
    """The paying department's section of its report (Markdown lines), or None."""
    rows = figures(first, last)
    if not rows:
        return None
    out = ["### 特殊家庭扶助资金发放", "", f"{label}{_sentence(rows[-1])}。"]
    if len(rows) > 2:
        out.append("")
        out.extend(f"- {f.name}：已发放 {f.households_paid} 户 {_yuan(f.paid)}" for f in rows[:-1])
    return out
