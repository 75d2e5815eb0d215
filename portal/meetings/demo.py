"""Demo joint meeting for each seed district (idempotent; runs after the duties demo).

Only as each document sets its meeting up (`tests/meetings/test_demo_facts.py` checks):
a district whose document has no joint-meeting clause (嘉定) has no meeting; one whose
meeting is called as needed (张店: 区人口与计划生育领导小组根据工作需要组织召开) has one
meeting called as needed, not a half-yearly one; the others (开封, 姜堰) one past regular
meeting for the previous half-year, held two weeks after the period ended. The chair
is the document's convener or nobody — never an invented title. Every member department
invited, most present (one by delegate, one absent), reports submitted, minutes
finalised, three decisions whose action items are in mixed states (done, open,
overdue). An ad hoc meeting of three departments only where the document provides for
one (开封: 也可根据工作需要，临时召开会议). Everything goes through the operations.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.kernel.clock import today as clock_today
from portal.kernel.periods import Period
from portal.meetings import agenda, arrangement, decisions, minutes, queries, reports
from portal.meetings.models import Decision, Meeting
from portal.tenancy.models import Tenant

MINUTES = """{date}，{opening}在{place}召开{title}。会议听取了{period}各成员单位计划生育特殊家庭扶助关怀工作情况汇报，通报了职责落实和签报审核情况，研究了下一阶段重点工作。

会议指出，各成员单位认真履行职责，{achievements}得到落实，特殊家庭获得感进一步增强。同时，部分政策宣传还不到位，个别部门签报材料不够完整。

会议要求，各成员单位要进一步提高政治站位，对照实施意见逐项抓好落实，按时报送工作进展，确保各项扶助关怀措施落到实处。
"""

# Per district: the measures the minutes name (each from that district's own document,
# in its own terms), who receives the ledgers, and the ad hoc meeting where the document
# provides for one (its chair: the convener the document lets hold it).
DISTRICT_FACTS: dict[str, dict[str, str]] = {
    "kaifeng": {
        # 1. 特别扶助金; 5. 开通“绿色通道”; 8. “五定两包”责任制
        "achievements": "特别扶助金提标发放、就医“绿色通道”、“五定两包”责任制等措施",
        "ad_hoc_chair": "市卫生健康委主任",  # 18. 也可委托召集人召开 … 也可根据工作需要，临时召开会议
    },
    "jiangyan": {
        # 三.(一).1 特别扶助金制度; 三.(二).5 就医“绿色通道”; 三.(五).1 “双岗联系人制度”
        "achievements": "特别扶助金制度、就医“绿色通道”、“双岗联系人制度”等措施",
    },
    "zhangdian": {
        # 三.(三) 特别扶助金; 三.(五) “就医绿色通道”、家庭医生签约; 三.(一) 帮扶联系人制度
        "achievements": "特别扶助金发放、“就医绿色通道”、家庭医生签约、帮扶联系人制度等措施",
    },
}

DECISIONS = [
    (
        "各成员单位于下半年结束前完成本部门职责台账的补充完善，做到底数清、情况明。",
        "补充完善本部门职责台账并报{office}备案",
        "done",
    ),
    (
        "民政、医保部门联合开展特殊家庭医疗和养老服务需求摸底，形成专题报告提交下次会议。",
        "开展医疗和养老服务需求摸底并形成专题报告",
        "open",
    ),
    (
        "加强扶助关怀政策宣传，在辖区主要媒体和社区宣传栏开设专栏。",
        "制定政策宣传方案并在主要媒体开设专栏",
        "overdue",
    ),
]


def _meeting_day(today: dt.date) -> tuple[Period, dt.date]:
    period = Period.of(today).previous
    return period, min(period.end + dt.timedelta(days=15), today - dt.timedelta(days=1))


def _close_items(meeting: Meeting, decision: Decision, officers: dict, note: str) -> None:
    """Each department's officer closes its action item of the decision with `note`."""
    for item in queries.decision_states(meeting)[decision.number - 1].items:
        officer = officers.get(item.department_id)
        if officer is not None:
            decisions.update_action_item(
                officer, item, note, close=True, expected_version=item.row_version
            )


def _minutes_version(meeting: Meeting) -> int:
    return queries.minutes_of(meeting).row_version


def _host(arr: object) -> object:
    """The department whose rooms host the meeting: the meeting's office, else the
    district's health department (the convener's or the document's lead unit)."""
    if getattr(arr, "office_department", None) is not None:
        return arr.office_department  # type: ignore[attr-defined]
    depts = queries.departments()
    return next((d for d in depts if d.kind_code == "health"), depts[0] if depts else None)


def load_demo(tenant: Tenant, policy_data: dict) -> None:
    if db.session.execute(sa.select(Meeting.id).limit(1)).first() is not None:
        return  # already seeded
    arr = queries.arrangement()
    if arr is None or not policy_data.get("meeting"):
        return  # the document sets up no joint meeting (嘉定): the demo holds none
    facts = DISTRICT_FACTS.get(tenant.slug, {})
    users = db.session.execute(sa.select(User).where(User.active.is_(True))).scalars().all()
    lead = next((u for u in users if u.username == f"{tenant.slug}-lead"), None)
    officers = {u.department_id: u for u in users if u.role == Role.dept_officer}
    if lead is None:
        return
    today = clock_today()
    period, day = _meeting_day(today)
    host = _host(arr)
    as_needed = arr.cadence == "ad_hoc"  # 张店: called as needed, no half-yearly meeting
    meeting = arrangement.create_meeting(
        lead,
        arrangement.MeetingInput(
            kind="ad_hoc" if as_needed else "regular",
            period=period.code,
            title=f"{arr.name}（{day.year}年{day.month}月）" if as_needed else "",
            meeting_date=day,
            start_time="09:30",
            place=f"{host.name}会议室" if host is not None else "",
            chair=arr.chief_convener or "",  # the document's chief convener, or nobody
        ),
    )
    agenda.circulate_agenda(lead, meeting)
    invitations = queries.invitations(meeting)
    marks: dict[str, tuple[str, str]] = {}
    for i, inv in enumerate(invitations):
        if i % 7 == 3:
            marks[str(inv.department_id)] = ("delegate", "王建国（副局长）")
        elif i % 9 == 5:
            marks[str(inv.department_id)] = ("absent", "")
        else:
            marks[str(inv.department_id)] = ("present", "")
    arrangement.record_attendance(lead, meeting, marks)

    for i, inv in enumerate(invitations):
        officer = officers.get(inv.department_id)
        if officer is None:
            continue
        report = reports.start_report(officer, meeting, inv.department_id)
        reports.save_as_drafted(officer, report, submit=i % 6 != 4)  # one in six left a draft

    minutes.save_minutes(
        lead,
        meeting,
        MINUTES.format(
            date=f"{day.year}年{day.month}月{day.day}日",
            opening=(
                f"{meeting.chair}主持" if meeting.chair else (arr.conveners or ["联席会议"])[0]
            ),
            place=meeting.place,
            title=meeting.title,
            period=period.label_in("zh"),
            achievements=facts.get("achievements", "各项扶助关怀措施"),
        ),
        _minutes_version(meeting),
    )
    dept_ids = [str(inv.department_id) for inv in invitations]
    by_kind = {inv.department.kind_code: str(inv.department_id) for inv in invitations}
    for k, (decision_text, action_text, state) in enumerate(DECISIONS):
        if k == 0:
            assigned = dept_ids[:3]
            due = day + dt.timedelta(days=60)
        elif k == 1:
            assigned = [
                by_kind[c] for c in ("civil_affairs", "medical_insurance") if c in by_kind
            ] or dept_ids[:1]
            due = max(today + dt.timedelta(days=45), day + dt.timedelta(days=30))
        else:
            assigned = [by_kind.get("publicity") or by_kind.get("health") or dept_ids[0]]
            due = min(day + dt.timedelta(days=75), today - dt.timedelta(days=1))
        office = arr.office_department.name if arr.office_department else host.name
        decision = decisions.add_decision(
            lead,
            meeting,
            decision_text,
            [decisions.ActionInput(action_text.format(office=office), assigned, due)],
        )
        if state == "done":
            _close_items(meeting, decision, officers, f"已完成台账补充完善，并报{office}备案。")
    minutes.circulate_minutes(lead, meeting, _minutes_version(meeting))
    minutes.finalise_minutes(lead, meeting, _minutes_version(meeting))
    db.session.flush()
    if facts.get("ad_hoc_chair"):
        _ad_hoc(lead, officers, tenant, day, today, facts["ad_hoc_chair"], host)


AD_HOC_KINDS = ("health", "finance", "medical_insurance")


def _ad_hoc(
    lead: User,
    officers: dict,
    tenant: Tenant,
    regular_day: dt.date,
    today: dt.date,
    chair: str,
    host: object,
):
    """A smaller ad hoc meeting (专题会议) of three departments, so that other departments
    (e.g. civil affairs) are not invited and must not see it."""
    depts = queries.departments()
    invited = [d for d in depts if d.kind_code in AD_HOC_KINDS][:3] or depts[:1]
    day = min(regular_day + dt.timedelta(days=45), today - dt.timedelta(days=1))
    meeting = arrangement.create_meeting(
        lead,
        arrangement.MeetingInput(
            kind="ad_hoc",
            title=f"{tenant.name}特殊家庭医疗保障专题会议",
            meeting_date=day,
            start_time="15:00",
            place=f"{host.name}小会议室",  # type: ignore[attr-defined]
            chair=chair,
            department_ids=[str(d.id) for d in invited],
        ),
    )
    agenda.circulate_agenda(lead, meeting)
    arrangement.record_attendance(
        lead, meeting, {str(d.id): ("present", "") for d in queries.departments() if d in invited}
    )
    minutes.save_minutes(
        lead,
        meeting,
        "会议专题研究了特殊家庭成员住院护理补贴保险和就医“绿色通道”落实中的问题。",
        _minutes_version(meeting),
    )
    decision = decisions.add_decision(
        lead,
        meeting,
        "医保、卫健部门共同梳理特殊家庭成员住院费用报销中的堵点问题，提出解决措施。",
        [
            decisions.ActionInput(
                "梳理住院报销堵点并提出解决措施", [str(invited[0].id)], day + dt.timedelta(days=30)
            )
        ],
    )
    _close_items(meeting, decision, officers, "已梳理堵点问题3个，解决措施已报会议召集人。")
    minutes.finalise_minutes(lead, meeting, _minutes_version(meeting))
    db.session.flush()
