"""The daily reminders (`portal remind`): duties due within 7 days and overdue duties,
and reports a coming regular meeting lacks, reach the department's officers once each,
however often the job runs; a report returned for correction is always announced."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from portal.auth.models import User
from portal.duties.models import Duty
from portal.duties.rules import SIGNED
from portal.extensions import db
from portal.kernel.periods import Period
from portal.messages.models import Message, MessageKind
from tests.duties.helpers import department, district


def _messages(kind: MessageKind) -> list[tuple]:
    return list(
        db.session.execute(sa.select(Message.ref_id, Message.user_id).where(Message.kind == kind))
    )


def test_remind_tells_each_officer_once(fresh_app) -> None:  # type: ignore[no-untyped-def]
    end = Period.current().end
    fresh_app.config["TODAY"] = (end - dt.timedelta(days=3)).isoformat()
    runner = fresh_app.test_cli_runner()
    r = runner.invoke(args=["remind", "--tenant", "kaifeng"])
    assert r.exit_code == 0, r.output
    with district(fresh_app, "kaifeng"):
        civil = department("civil_affairs")
        open_duties = (
            db.session.execute(
                sa.select(Duty.id).where(
                    Duty.department_id == civil.id,
                    Duty.due_date == end,
                    Duty.status.not_in(SIGNED),
                )
            )
            .scalars()
            .all()
        )
        officers = (
            db.session.execute(
                sa.select(User.id).where(User.department_id == civil.id, User.active.is_(True))
            )
            .scalars()
            .all()
        )
        assert open_duties and officers
        soon = _messages(MessageKind.duty_due_soon)
        for duty_id in open_duties:
            for officer in officers:
                assert (duty_id, officer) in soon
        assert len(soon) == len(set(soon))
        from portal.audit.models import AuditEvent

        events = (
            db.session.execute(
                sa.select(AuditEvent.changes).where(AuditEvent.action == "message.reminders")
            )
            .scalars()
            .all()
        )
        assert events, "the job's messages are recorded in the trail"
    # the next run (same day or the next) sends nothing new
    r = runner.invoke(args=["remind", "--tenant", "kaifeng"])
    assert r.exit_code == 0, r.output
    with district(fresh_app, "kaifeng"):
        assert len(_messages(MessageKind.duty_due_soon)) == len(soon)
        assert _messages(MessageKind.duty_overdue) == [] or all(
            ref not in open_duties for ref, _u in _messages(MessageKind.duty_overdue)
        )
    # once past the due date, the same duties are overdue: told once more, once
    fresh_app.config["TODAY"] = (end + dt.timedelta(days=1)).isoformat()
    for _run in range(2):
        r = runner.invoke(args=["remind", "--tenant", "kaifeng"])
        assert r.exit_code == 0, r.output
    with district(fresh_app, "kaifeng"):
        overdue = _messages(MessageKind.duty_overdue)
        assert len(overdue) == len(set(overdue))
        for duty_id in open_duties:
            for officer in officers:
                assert (duty_id, officer) in overdue


def test_officer_sees_the_reminder_in_messages(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    end = Period.current().end
    fresh_app.config["TODAY"] = (end - dt.timedelta(days=2)).isoformat()
    r = fresh_app.test_cli_runner().invoke(args=["remind", "--tenant", "kaifeng"])
    assert r.exit_code == 0, r.output
    b = login_as("kaifeng-civil-affairs", fresh_app)
    page = b.get("/t/kaifeng/messages/?kind=duty_due_soon").get_data(as_text=True)
    assert 'data-kind="duty_due_soon"' in page
    assert "职责即将到期" in page
