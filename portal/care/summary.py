"""Coverage figures as the joint meeting and the duties show them: a line of figures
for the draft agenda ("联系人覆盖率 96.5%，3 户未落实"), a table per town for the prep
pack, and evidence for the duty of a measure. Chinese, since these go into the
district's own documents (the meeting material is written in Chinese).

Meetings (above care) call these directly; duties (below care) ask through the
`duty_evidence` signal, answered in `portal.care.signals`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.care import queries
from portal.care.figures import Coverage, Figures
from portal.kernel import memo, timefmt
from portal.tenancy import scope


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def agenda_line(cov: Coverage) -> str:
    """The figures in one paragraph (empty when the register has no household)."""
    f = cov.district
    if not f.households:
        return ""
    r = f.rates()
    parts = [
        f"联系人覆盖率 {_pct(r['contact'])}，{f.households - f.contact_ok} 户未落实",
        f"家庭医生签约率 {_pct(r['doctor'])}（{f.doctor_signed}/{f.persons} 人）",
    ]
    if f.festival_due:
        parts.append(f"节日走访完成率 {_pct(r['festival'])}（{f.festival_done}/{f.festival_due}）")
    if f.checkup_due:
        parts.append(f"体检完成率 {_pct(r['checkup'])}（{f.checkup_done}/{f.checkup_due} 人）")
    parts.append(f"逾期未访 {f.overdue} 项")
    parts.append(f"本季度未联系 {f.no_contact_quarter} 户")
    return f"截至{timefmt.format_date(cov.as_of, english=False)}：" + "；".join(parts) + "。"


TABLE_HEADER = [
    "街镇",
    "在册户数",
    "联系人覆盖率",
    "家庭医生签约率",
    "节日走访完成",
    "体检完成",
    "逾期未访",
    "本季度未联系",
]


def _row(name: str, f: Figures) -> list[str]:
    r = f.rates()
    return [
        name,
        str(f.households),
        _pct(r["contact"]),
        _pct(r["doctor"]),
        f"{f.festival_done}/{f.festival_due}",
        f"{f.checkup_done}/{f.checkup_due}",
        str(f.overdue),
        str(f.no_contact_quarter),
    ]


def table(cov: Coverage) -> list[list[str]]:
    """One row per town (by name) and the district's total last."""
    rows = [_row(cov.names.get(t, ""), f) for t, f in cov.towns.items()]
    rows.sort(key=lambda r: r[0])
    rows.append(_row("合计", cov.district))
    return rows


def report_lines(cov: Coverage, period: Any) -> list[str]:
    """The eligibility department's report section: the dashboard's district figures on
    the as-of date and what was recorded in the period (Markdown, counts only)."""
    f, r = cov.district, cov.district.rates()
    n = cov.period_counts
    day = timefmt.format_date(cov.as_of, english=False)
    lines = [
        f"## 特殊家庭关怀情况（截至{day}）",
        "",
        f"- 联系人覆盖率 {_pct(r['contact'])}：在册 {f.households} 户，"
        f"{f.contact_ok} 户已落实，{f.households - f.contact_ok} 户未落实；",
        f"- 家庭医生签约率 {_pct(r['doctor'])}：{f.doctor_signed}/{f.persons} 人；",
        f"- 节日走访完成 {f.festival_done}/{f.festival_due}（{_pct(r['festival'])}）；",
        f"- 体检完成 {f.checkup_done}/{f.checkup_due} 人（{_pct(r['checkup'])}）；",
        f"- 逾期未访 {f.overdue} 项，本季度未联系 {f.no_contact_quarter} 户。",
    ]
    if n:
        lines += [
            "",
            f"{period.label_in('zh')}以来走访联系 {n['visits']} 次（其中节日慰问 "
            f"{n['festival_visits']} 次），体检 {n['checkups']} 人次。",
        ]
    return lines


def coverage(as_of: dt.date | None = None) -> Coverage:
    """The figures as the dashboard shows them (`queries.coverage`), so the agenda and the
    prep pack carry the dashboard's numbers, kept up to a minute per reader's scope and
    day (`kernel.memo`). Not through `coverage_cached`: its key, the district's audit
    chain head, is a read of the trail, so the memo would drop the figures at every
    audited write — the prep pack's own recorded export, each progress entry — although
    they read only care and register tables. Read only: shared."""
    current = scope.current()
    key = ("care_coverage", current.user_id, current.role, current.department_id, as_of)
    return memo.remembered(key, lambda: queries.coverage(as_of), current.tenant_id)
