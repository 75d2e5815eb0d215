"""The agenda: drafted from live duty data, edited and then circulated by the lead.

What a joint meeting shares is its circulated agenda and prep pack, so the draft is
written as shared material: invited departments appear by name with their figures;
departments not invited (an ad hoc meeting) appear only as counts; the lead's review
comments on returned duties are never part of it. Agenda texts are written in Chinese:
they become the meeting's own documents.

Records that stand: a held meeting's agenda is never drafted again, and finalised
minutes lock the agenda until they are reopened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.benefits import summary as benefits_summary
from portal.care import summary as care_summary
from portal.db import utcnow
from portal.duties import queries as duty_queries
from portal.extensions import db
from portal.kernel import clock, timefmt
from portal.kernel.periods import Period
from portal.kernel.rules import NotFound
from portal.meetings import queries, rules
from portal.meetings.models import AgendaItem, Meeting, MeetingKind
from portal.meetings.rules import MeetingError

STATUS_ZH = {
    "not_started": "未开始",
    "in_progress": "进行中",
    "submitted": "已签报",
    "accepted": "已审核通过",
    "returned": "被退回",
}


@dataclass
class AgendaDraft:
    title: str
    detail: str
    source: str


def _others(n_departments: int, what: str) -> str:
    return f"- 其他单位（{n_departments}个）：{what}"


def care_as_of(reference: dt.date) -> dt.date:
    """Care figures are counted up to the meeting's reference date, never past today."""
    return min(reference, clock.today())


def draft_agenda(meeting: Meeting) -> list[AgendaDraft]:
    """The agenda drafted from live data, in the customary order of a joint meeting."""
    period = queries.meeting_period(meeting)
    label = period.label_in("zh")
    as_of = queries.reference_date(meeting)
    invited = {inv.department_id for inv in queries.invitations(meeting)}
    items: list[AgendaDraft] = []
    if meeting.kind == MeetingKind.regular:
        prev = queries.previous_regular(meeting)
        if prev is not None:
            items.append(
                AgendaDraft(
                    f"审议确认上次会议（{prev.number}）纪要",
                    f"{prev.title}，{timefmt.format_date(prev.meeting_date, english=False)}。",
                    "confirm_minutes",
                )
            )
    matrix = duty_queries.status_matrix(period, as_of)
    if matrix:
        lines = []
        outside = [row for row in matrix if row.department_id not in invited]
        for row in matrix:
            if row.department_id not in invited:
                continue
            c = row.counts
            lines.append(
                f"- {row.department}：职责 {row.total} 项，已审核通过 {c['accepted']}，"
                f"已签报 {c['submitted']}，进行中 {c['in_progress']}，未开始 {c['not_started']}，"
                f"被退回 {c['returned']}，逾期 {row.overdue}"
            )
        if outside:
            total = sum(r.total for r in outside)
            late = sum(r.overdue for r in outside)
            lines.append(_others(len(outside), f"职责 {total} 项，逾期 {late}"))
        detail = "\n".join(lines)
    else:
        detail = f"{label}尚未生成职责。"
    items.append(AgendaDraft(f"通报{label}各成员单位职责落实情况", detail, "period_status"))
    care_line = care_summary.agenda_line(care_summary.coverage(care_as_of(as_of)))
    if care_line:
        items.append(
            AgendaDraft("通报特殊家庭联系人、家庭医生签约和走访关怀情况", care_line, "care")
        )
    money_line = benefits_summary.agenda_line(period.start, care_as_of(min(period.end, as_of)))
    if money_line:
        items.append(AgendaDraft("通报特殊家庭扶助资金发放情况", money_line, "benefits"))

    def listed(lines: list[Any], line: Any) -> str:
        mine = [line(d) for d in lines if d.department_id in invited]
        rest = [d for d in lines if d.department_id not in invited]
        if rest:
            n_departments = len({d.department_id for d in rest})
            mine.append(_others(n_departments, f"{len(rest)} 项"))
        return "\n".join(mine)

    overdue = queries.overdue_duties(as_of, period)
    if overdue:
        items.append(
            AgendaDraft(
                f"研究逾期未签报职责（{len(overdue)}项）",
                listed(
                    overdue,
                    lambda d: (
                        f"- {d.department}：{d.measure_number} {d.measure_title}"
                        f"（{Period.parse(d.period).label_in('zh')}，"
                        f"应于{timefmt.format_date(d.due_date, english=False)}前签报，{STATUS_ZH.get(d.status, '')}）"
                    ),
                ),
                "overdue_duties",
            )
        )
    returned = queries.returned_duties(period)
    if returned:
        items.append(
            AgendaDraft(
                f"研究被退回职责（{len(returned)}项）",
                listed(
                    returned,
                    lambda d: (
                        f"- {d.department}：{d.measure_number} {d.measure_title}"
                        f"（{Period.parse(d.period).label_in('zh')}）"
                    ),
                ),
                "returned_duties",
            )
        )
    actions = queries.open_action_items(before=meeting)
    if actions:
        late = sum(1 for a in actions if a.is_overdue(as_of))
        items.append(
            AgendaDraft(
                f"督办上次会议议定事项落实情况（未办结{len(actions)}项，其中逾期{late}项）",
                listed(
                    actions,
                    lambda a: (
                        f"- {a.department.name}：{a.text}（{a.meeting.number}会议，"
                        f"限{timefmt.format_date(a.due_date, english=False)}前办结"
                        f"{'，已逾期' if a.is_overdue(as_of) else ''}）"
                    ),
                ),
                "action_items",
            )
        )
    items.append(AgendaDraft("各成员单位汇报工作情况", "各成员单位书面汇报见会议材料。", "reports"))
    items.append(AgendaDraft("研究部署下一阶段工作", "", "next_steps"))
    return items


def _check_editable(meeting: Meeting) -> None:
    rules.check_open(queries.minutes_of(meeting))


def redraft_agenda(user: Any, meeting: Meeting) -> list[AgendaItem]:
    """Replace the agenda with a fresh draft from live data (hand edits are lost: the UI
    asks for confirmation). Refused once the meeting is held."""
    rules.require(user, rules.MANAGE)
    _check_editable(meeting)
    if queries.agenda(meeting):
        rules.check_agenda_redraftable(meeting)
    for item in queries.agenda(meeting):
        db.session.delete(item)
    rules.flush()
    items = []
    for i, d in enumerate(draft_agenda(meeting)):
        item = AgendaItem(
            meeting_id=meeting.id, position=i + 1, title=d.title, detail=d.detail, source=d.source
        )
        db.session.add(item)
        items.append(item)
    rules.flush()
    return items


def circulate_agenda(user: Any, meeting: Meeting) -> Meeting:
    """Share the agenda with the invited departments (until then it is the lead's draft)."""
    rules.require(user, rules.MANAGE)
    if meeting.agenda_circulated_at is None:
        meeting.agenda_circulated_at = utcnow()
        rules.flush()
    return meeting


def _item(meeting: Meeting, item_id: Any) -> AgendaItem:
    for item in queries.agenda(meeting):
        if str(item.id) == str(item_id):
            return item
    raise NotFound(_l("This agenda item does not exist."))


def add_agenda_item(user: Any, meeting: Meeting, title: str, detail: str = "") -> AgendaItem:
    rules.require(user, rules.MANAGE)
    _check_editable(meeting)
    items = queries.agenda(meeting)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=(items[-1].position + 1) if items else 1,
        title=rules.text(title, "title", required=True),
        detail=rules.text(detail, "detail", limit=rules.MAX_TEXT),
    )
    db.session.add(item)
    rules.flush()
    return item


def update_agenda_item(user: Any, meeting: Meeting, item_id: Any, title: str, detail: str):
    rules.require(user, rules.MANAGE)
    _check_editable(meeting)
    item = _item(meeting, item_id)
    item.title = rules.text(title, "title", required=True)
    item.detail = rules.text(detail, "detail", limit=rules.MAX_TEXT)
    rules.flush()
    return item


def move_agenda_item(user: Any, meeting: Meeting, item_id: Any, direction: str) -> None:
    """Move one place up or down; positions are renumbered 1…n."""
    rules.require(user, rules.MANAGE)
    _check_editable(meeting)
    if direction not in ("up", "down"):
        raise MeetingError(_l("Move up or down."), field="direction")
    items = queries.agenda(meeting)
    index = next((i for i, it in enumerate(items) if str(it.id) == str(item_id)), None)
    if index is None:
        raise NotFound(_l("This agenda item does not exist."))
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    for i, it in enumerate(items):
        if it.position != i + 1:
            it.position = i + 1
    rules.flush()


def delete_agenda_item(user: Any, meeting: Meeting, item_id: Any) -> None:
    rules.require(user, rules.MANAGE)
    _check_editable(meeting)
    db.session.delete(_item(meeting, item_id))
    rules.flush()
    for i, it in enumerate(queries.agenda(meeting)):
        if it.position != i + 1:
            it.position = i + 1
    rules.flush()
