"""Benchmark: the joint meeting's draft agenda and prep pack for a large district.

    PYTHONPATH=. .venv/bin/python bench/meetings_bench.py                 # fresh SQLite file
    PYTHONPATH=. .venv/bin/python bench/meetings_bench.py --database-url postgresql+psycopg://…

Builds one district with 25 departments, 24 measures, a few hundred duties per
half-year (two half-years, every state, two progress entries each), a past meeting
with 30 decisions and 75 action items, and a new regular meeting with every
department's report submitted. Then times `draft_agenda` and `prep_pack_docx` (the
.docx with agenda, status matrix and 25 reports). Target: well under one second each
(≤ 300 ms). Prints median, worst and CPU time of --repeat runs; exits 1 when a
median is over the target (the worst run on a shared, loaded box is noise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import statistics
import sys
import time
import uuid
from pathlib import Path

from bench.dbsetup import fresh_sqlite

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.3
DEPARTMENTS = 25
MEASURES = 24
STATES = ("accepted", "submitted", "in_progress", "not_started", "returned")


def build(app) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]
    """The district and its data; returns (tenant id, new meeting id)."""
    from portal.auth.models import Role, User
    from portal.duties.generation import new_duty
    from portal.duties.models import Duty, DutyStatus, ProgressEntry
    from portal.extensions import db
    from portal.kernel.periods import Period
    from portal.meetings import arrangement, decisions, reports
    from portal.policy import models as policy
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant
    from portal.tenancy.services import ensure_department_kinds

    slug = f"bench-{uuid.uuid4().hex[:6]}"
    with scope.cross_tenant("bench: tenant"):
        ensure_department_kinds()
        tenant = Tenant(slug=slug, name="基准测试区", level="区", province="测试省")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    with scope.tenant_scope(tenant_id):
        depts = [
            Department(key=f"d{i:02d}", kind_code="other", name=f"基准区第{i + 1}局", sort_order=i)
            for i in range(DEPARTMENTS)
        ]
        db.session.add_all(depts)
        doc = policy.PolicyDocument(title="基准实施意见")
        db.session.add(doc)
        db.session.flush()
        version = policy.PolicyVersion(
            document_id=doc.id, title="基准实施意见", effective_from=dt.date(2025, 1, 1)
        )
        db.session.add(version)
        db.session.flush()
        measures = [
            policy.Measure(
                version_id=version.id,
                number=str(i + 1),
                position=i,
                category="economic_aid",
                title=f"扶助措施第{i + 1}项",
            )
            for i in range(MEASURES)
        ]
        db.session.add_all(measures)
        db.session.flush()
        pairs = []
        for m_index, m in enumerate(measures):
            for k in range(8):  # 8 departments per measure → 192 duties per period
                d = depts[(m_index * 3 + k) % DEPARTMENTS]
                role = (
                    policy.ResponsibilityRole.lead
                    if k == 0
                    else policy.ResponsibilityRole.cooperating
                )
                resp = policy.MeasureResponsibility(measure_id=m.id, department_id=d.id, role=role)
                db.session.add(resp)
                pairs.append((m, d, resp))
        db.session.add(
            policy.MeetingArrangement(
                name="基准区联席会议",
                chief_convener="分管副区长",
                member_department_ids=[str(d.id) for d in depts],
                office_department_id=depts[0].id,
            )
        )
        lead = User(
            username=f"{slug}-lead",
            display_name="联席办",
            role=Role.district_lead,
            tenant_id=tenant_id,
            password_hash="x",
        )
        db.session.add(lead)
        db.session.flush()
        officers = {}
        for d in depts:
            officer = User(
                username=f"{slug}-{d.key}",
                display_name=d.name,
                tenant_id=tenant_id,
                role=Role.dept_officer,
                department_id=d.id,
                password_hash="x",
            )
            db.session.add(officer)
            officers[d.id] = officer
        n = 0
        for period in (Period.parse("2026H1"), Period.parse("2026H2")):
            due = period.end
            for m, d, resp in pairs:
                state = (
                    DutyStatus(STATES[n % len(STATES)])
                    if period.code == "2026H2"
                    else (DutyStatus.accepted if n % 7 else DutyStatus.in_progress)
                )
                n += 1
                duty = new_duty(period, m, resp)
                duty.status = state
                duty.review_note = "请补充材料" if state == DutyStatus.returned else ""
                db.session.add(duty)
                db.session.flush()
                for w in range(2):
                    db.session.add(
                        ProgressEntry(
                            duty_id=duty.id,
                            department_id=d.id,
                            work_date=due - dt.timedelta(days=30 * (w + 1)),
                            narrative=f"{d.name}落实{m.title}，走访特殊家庭并发放扶助资金。",
                            families_reached=10 + w,
                            amount_paid=decimal.Decimal(1000 * (w + 1)),
                        )
                    )
        db.session.commit()

        past = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(
                kind="regular", period="2026H1", meeting_date="2026-07-15", place="会议室"
            ),
        )
        for k in range(30):
            decisions.add_decision(
                lead,
                past,
                f"议定事项第{k + 1}项：加强工作落实。",
                [
                    decisions.ActionInput(
                        f"督办事项{k + 1}",
                        [
                            str(depts[k % DEPARTMENTS].id),
                            str(depts[(k + 7) % DEPARTMENTS].id),
                            str(depts[(k + 13) % DEPARTMENTS].id),
                        ],
                        dt.date(2026, 9, 30) if k % 2 else dt.date(2027, 3, 31),
                    )
                ],
            )
        db.session.commit()
        meeting = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(
                kind="regular", period="2026H2", meeting_date="2027-01-15", place="会议室"
            ),
        )
        for d in depts:
            officer = officers[d.id]
            reports.save_as_drafted(officer, reports.start_report(officer, meeting, d.id), True)
        db.session.commit()
        duties = db.session.execute(db.select(db.func.count(Duty.id))).scalar_one()
        print(
            f"district: {DEPARTMENTS} departments, {duties} duties, "
            f"{2 * duties} progress entries, 90 action items, {DEPARTMENTS} reports"
        )
        return tenant_id, meeting.id


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and CPU seconds per run (the CPU time shows the cost on a loaded box)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an already migrated database (default: SQLite)")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = fresh_sqlite("bench-meetings-")
    from portal import create_app
    from portal.audit import trail
    from portal.extensions import db
    from portal.meetings import agenda as agenda_ops
    from portal.meetings import exports, queries
    from portal.tenancy import scope

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TODAY": "2026-11-25"})
    print(f"database: {url.split('@')[-1]}")
    with app.app_context(), trail.acting_as(trail.system_actor("bench meetings")):
        tenant_id, meeting_id = build(app)
        with scope.tenant_scope(tenant_id):
            meeting = queries.get_meeting(meeting_id)
            items = agenda_ops.draft_agenda(meeting)
            overdue = next((i.title for i in items if i.source == "overdue_duties"), "-")
            print(f"agenda: {len(items)} items; {overdue}")

            def agenda() -> None:
                db.session.expire_all()
                agenda_ops.draft_agenda(queries.get_meeting(meeting_id))

            def pack() -> None:
                db.session.expire_all()
                data = exports.prep_pack_docx(queries.get_meeting(meeting_id))
                assert data[:2] == b"PK"

            results = {
                "draft agenda": timed(agenda, args.repeat),
                "prep pack .docx": timed(pack, args.repeat),
            }
            size = len(exports.prep_pack_docx(meeting))
    worst_median = 0.0
    for name, (wall, cpu) in results.items():
        worst_median = max(worst_median, statistics.median(wall))
        print(
            f"{name:<16} median {statistics.median(wall) * 1000:7.1f} ms  "
            f"worst {max(wall) * 1000:7.1f} ms  CPU median {statistics.median(cpu) * 1000:7.1f} ms"
            f"  ({args.repeat} runs)"
        )
    print(f"prep pack size: {size // 1024} KiB")
    verdict = "OK" if worst_median <= TARGET_SECONDS else "TOO SLOW"
    print(f"target: median ≤ {TARGET_SECONDS * 1000:.0f} ms: {verdict}")
    return 0 if worst_median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
