"""Department reports to a meeting: drafted from the department's duties, edited and
submitted by its officer, returned to draft by the lead.

A report is shared meeting material (the prep pack), so the lead's review comments on
returned duties are not copied into it. The draft is Markdown whose lists stay lists
(a blank line before each list, so renderers do not run the items into a paragraph).
"""

from __future__ import annotations

import decimal
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.duties.models import Assessment, Duty, DutyStatus, ProgressEntry
from portal.extensions import db
from portal.kernel import events, signals, timefmt
from portal.kernel.rules import NotFound
from portal.meetings import queries, rules
from portal.meetings.agenda import STATUS_ZH
from portal.meetings.models import DepartmentReport, Meeting, ReportStatus
from portal.meetings.rules import MeetingError


@dataclass
class ReportDraft:
    body: str
    families_reached: int
    amount_paid: decimal.Decimal
    not_delivered: str


def draft_report(meeting: Meeting, department_id: uuid.UUID) -> ReportDraft:
    """A report drafted from the department's duties of the meeting's period: progress
    entries (families reached, amounts paid), sign-offs, and what was not delivered and why."""
    period = queries.meeting_period(meeting)
    as_of = queries.reference_date(meeting)
    duties = sorted(
        db.session.execute(
            sa.select(Duty).where(Duty.period == period.code, Duty.department_id == department_id)
        )
        .unique()
        .scalars(),
        key=lambda d: rules.natural_key(d.measure_number),
    )
    entries: dict[uuid.UUID, list[ProgressEntry]] = defaultdict(list)
    if duties:
        for e in db.session.execute(
            sa.select(ProgressEntry)
            .where(ProgressEntry.duty_id.in_([d.id for d in duties]))
            .order_by(ProgressEntry.work_date)
        ).scalars():
            entries[e.duty_id].append(e)
    families = 0
    amount = decimal.Decimal("0")
    sections: list[str] = []
    missing = []
    for d in duties:
        es = entries.get(d.id, [])
        f = sum(e.families_reached for e in es)
        a = sum((e.amount_paid for e in es), decimal.Decimal("0"))
        families += f
        amount += a
        block = [
            f"### {d.measure_number} {d.measure.title}",
            "",
            f"状态：{STATUS_ZH.get(d.status.value, '')}；惠及家庭 {f} 户；发放金额 {a:.2f} 元。",
        ]
        if es[-3:]:
            block.append("")
            block.extend(
                f"- {timefmt.format_date(e.work_date, english=False)}：{e.narrative}"
                for e in es[-3:]
            )
        if d.sign_off_statement:
            block.extend(["", f"签报说明：{d.sign_off_statement}"])
        sections.append("\n".join(block))
        if d.assessment in (Assessment.partly, Assessment.not_delivered):
            reason = d.assessment_reason or "（未说明原因）"
            state = "部分落实" if d.assessment == Assessment.partly else "未落实"
            missing.append(f"- {d.measure_number} {d.measure.title}：{state}。{reason}")
        elif d.status not in queries.SIGNED and d.due_date < as_of:
            missing.append(f"- {d.measure_number} {d.measure.title}：逾期未签报。")
        elif d.status == DutyStatus.returned:
            missing.append(f"- {d.measure_number} {d.measure.title}：签报被退回，正在补充完善。")
    signed = sum(1 for d in duties if d.status in queries.SIGNED)
    head = [
        f"## {period.label_in('zh')}职责落实情况",
        "",
        f"本期共承担职责 {len(duties)} 项，已签报 {signed} 项，"
        f"累计惠及特殊家庭 {families} 户，发放资金 {amount:.2f} 元。",
    ]
    figures = [
        "\n".join(lines)
        for lines in signals.responses(
            signals.report_figures.send(
                meeting, department_id=department_id, period=period, as_of=as_of
            )
        )
    ]
    body = "\n\n".join(["\n".join(head), *(sections or ["本期无职责。"]), *figures])
    return ReportDraft(body, families, amount, "\n".join(missing))


def start_report(user: Any, meeting: Meeting, department_id: uuid.UUID) -> DepartmentReport:
    """The department's report, drafted from its duties when first saved (POST only:
    opening the page never writes)."""
    rules.require(user, rules.REPORT)
    if user.department_id != department_id or queries.invitation(meeting, department_id) is None:
        raise NotFound(_l("This report does not exist."))
    report = queries.get_report(meeting, department_id)
    if report is None:
        report = _drafted(meeting, department_id)
        db.session.add(report)
        rules.flush()
    return report


def _drafted(meeting: Meeting, department_id: uuid.UUID) -> DepartmentReport:
    """A new report holding the draft made from the department's duties."""
    d = draft_report(meeting, department_id)
    return DepartmentReport(
        meeting_id=meeting.id,
        department_id=department_id,
        status=ReportStatus.draft,
        body=d.body,
        families_reached=d.families_reached,
        amount_paid=d.amount_paid,
        not_delivered=d.not_delivered,
    )


def unsaved_draft(meeting: Meeting, department_id: uuid.UUID) -> DepartmentReport:
    """What the report page shows before the first save: the draft, not stored (version 0,
    "not stored yet", which the first save expects)."""
    report = _drafted(meeting, department_id)
    report.row_version = 0
    return report


def save_own_report(
    user: Any, meeting: Meeting, data: ReportInput, submit: bool, expected_version: Any
) -> DepartmentReport:
    """The report page's save: the first save stores the draft (the form carries version
    0, "not stored yet"); a second officer's version-0 form then meets a conflict."""
    rules.require(user, rules.REPORT)
    existing = queries.get_report(meeting, user.department_id)
    report = start_report(user, meeting, user.department_id)
    if existing is None and str(expected_version or "").strip() == "0":
        expected_version = report.row_version
    return save_report(user, report, data, submit, expected_version)


@dataclass
class ReportInput:
    body: str = ""
    families_reached: Any = 0
    amount_paid: Any = 0
    not_delivered: str = ""


def save_report(
    user: Any, report: DepartmentReport, data: ReportInput, submit: bool, expected_version: Any
) -> DepartmentReport:
    rules.require(user, rules.REPORT)
    rules.check_version(report, expected_version)
    rules.check_open(queries.minutes_of(report.meeting))
    if report.status == ReportStatus.submitted:
        raise MeetingError(_l("This report has been submitted and can no longer be changed."))
    body = rules.text(data.body, "body", required=submit, limit=rules.MAX_TEXT)
    try:
        families = int(str(data.families_reached).strip() or 0)
        if families < 0 or families > 10_000_000:
            raise ValueError
    except ValueError:
        raise MeetingError(
            _l("Enter a whole number of 0 or more."), field="families_reached"
        ) from None
    try:
        amount = decimal.Decimal(str(data.amount_paid).strip() or "0")
        if not amount.is_finite() or amount < 0 or amount >= 10**12:
            raise decimal.InvalidOperation
        amount = amount.quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise MeetingError(
            _l("Enter an amount of 0 or more, in yuan."), field="amount_paid"
        ) from None
    report.body = body
    report.families_reached = families
    report.amount_paid = amount
    report.not_delivered = rules.text(data.not_delivered, "not_delivered", limit=rules.MAX_TEXT)
    report.updated_at = utcnow()
    if submit:
        report.status = ReportStatus.submitted
        report.submitted_at = utcnow()
        report.submitted_by_id = user.id
    rules.flush()
    if submit:
        trail.record_on(
            report,
            "report_submitted",
            department_id=report.department_id,
        )
    return report


def save_as_drafted(user: Any, report: DepartmentReport, submit: bool) -> DepartmentReport:
    """Saves (or submits) the report as it stands: the demo and the benchmark, whose
    reports keep what `start_report` drafted from the department's duties."""
    data = ReportInput(
        body=report.body,
        families_reached=report.families_reached,
        amount_paid=report.amount_paid,
        not_delivered=report.not_delivered,
    )
    return save_report(user, report, data, submit=submit, expected_version=report.row_version)


def reopen_report(user: Any, report: DepartmentReport) -> DepartmentReport:
    """The lead sends a submitted report back to draft (e.g. a correction is needed)."""
    rules.require(user, rules.MANAGE)
    rules.check_open(queries.minutes_of(report.meeting))
    if report.status != ReportStatus.submitted:
        raise MeetingError(_l("Only a submitted report can be returned."))
    report.status = ReportStatus.draft
    rules.flush()
    events.report_requested.send(
        report.meeting, department_ids=[report.department_id], actor=user, once=False
    )
    return report
