"""Audit coverage cases of the messages domain and the workspace's online users
(collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit.coverage import (
    Ctx,
    Exercise,
    Expect,
    Listed,
    marked_post,
    posted,
    signed_in,
    user_id_of,
)


def _notice(ctx: Ctx) -> Any:
    from portal.messages.models import Notice

    return Notice(title="覆盖测试通知", body="coverage", posted_by_name="coverage")


def _withdraw_notice(app: Any) -> list[Expect]:
    from portal.extensions import db
    from portal.messages.models import Notice
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    b = signed_in(app, "zhangdian-lead")
    b.post(
        "/t/zhangdian/notices/",
        {"title": "覆盖测试：待撤回", "body": ""},
        csrf_from="/t/zhangdian/notices/",
    )
    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="zhangdian")).scalar_one()
        with scope.tenant_scope(tid):
            notice_id = db.session.execute(
                sa.select(Notice.id).filter_by(title="覆盖测试：待撤回")
            ).scalar_one()
        db.session.remove()
    marked_post(
        app, b, f"/t/zhangdian/notices/{notice_id}/withdraw", csrf_from="/t/zhangdian/notices/"
    )
    return [
        Expect("update", "Notice", "zhangdian", entity_id=str(notice_id), changed={"withdrawn_at"})
    ]


def _give_message(app: Any, username: str) -> None:
    """Set-up: one unread message for the user (as a returned duty would leave)."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.messages.models import Message, MessageKind
    from portal.tenancy import scope

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        with scope.tenant_scope(user.tenant_id):
            db.session.add(
                Message(user_id=user.id, kind=MessageKind.duty_returned, subject="覆盖测试")
            )
            db.session.commit()
        db.session.remove()


def _read_all(app: Any) -> list[Expect]:
    _give_message(app, "zhangdian-civil-affairs")
    b = signed_in(app, "zhangdian-civil-affairs")
    marked_post(app, b, "/t/zhangdian/messages/read-all", csrf_from="/t/zhangdian/messages/")
    return [Expect("message.read_all", "User", "zhangdian")]


def _read(app: Any) -> list[Expect]:
    _give_message(app, "zhangdian-health")
    b = signed_in(app, "zhangdian-health")
    page = b.get("/t/zhangdian/messages/?unread=1").get_data(as_text=True)
    found = re.search(r"/t/zhangdian/messages/([0-9a-f-]{36})/read", page)
    assert found, page[:2000]
    marked_post(app, b, found.group(0), csrf_from="/t/zhangdian/messages/")
    return [Expect("message.read", "Message", "zhangdian", entity_id=found.group(1))]


def _force_sign_out(app: Any) -> list[Expect]:
    signed_in(app, "zhangdian-finance")
    lead = signed_in(app, "zhangdian-lead")
    target = user_id_of(app, "zhangdian-finance")
    marked_post(
        app, lead, f"/t/zhangdian/online/{target}/sign-out", csrf_from="/t/zhangdian/online"
    )
    return [
        Expect("update", "User", "zhangdian", entity_id=str(target), changed={"session_version"}),
        Expect("session.force_sign_out", "User", "zhangdian", entity_id=str(target)),
    ]


def _platform_force_sign_out(app: Any) -> list[Expect]:
    signed_in(app, "jiangyan-lead")
    op = signed_in(app, "operator")
    target = user_id_of(app, "jiangyan-lead")
    marked_post(app, op, f"/platform/online/{target}/sign-out", csrf_from="/platform/online")
    return [
        Expect("update", "User", "jiangyan", entity_id=str(target), changed={"session_version"}),
        Expect("session.force_sign_out", "User", "jiangyan", entity_id=str(target)),
    ]


#: State-changing routes of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "messages.notices": posted(
        "zhangdian-lead",
        "/t/zhangdian/notices/",
        {"title": "覆盖测试：年中工作安排", "body": "请各部门按时签报。"},
        Expect("create", "Notice", "zhangdian"),
        csrf_from="/t/zhangdian/notices/",
    ),
    "messages.withdraw": Exercise(_withdraw_notice),
    "messages.read_all": Exercise(_read_all),
    "messages.read": Exercise(_read),
    "platform_notices.index": Listed(
        "create Notice (each district's chain) — one row per district in service",
        test="tests/messages/test_messages.py::test_operator_notice_reaches_every_district",
    ),
    "platform_notices.withdraw": Listed(
        "update Notice withdrawn_at (each district's chain)",
        test="tests/messages/test_messages.py::test_operator_notice_reaches_every_district",
    ),
    "workspace.sign_out": Exercise(_force_sign_out),
    "workspace.platform_sign_out": Exercise(_platform_force_sign_out),
}

#: Factories for models the generic clone cannot make.
MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "Notice": _notice,
}

#: Models deliberately not audited, with the reason.
NOT_AUDITED: dict[str, str] = {
    "Message": "a consequence of an audited event (duty.returned, the invitation's row); "
    "reading is recorded explicitly (message.read, message.read_all)",
    "UserSession": "session bookkeeping (a heartbeat a minute); sign-in, sign-out and force "
    "sign-out are explicit events",
    "NoticeRead": "a user's own read state of a notice (bookkeeping of opening a page, "
    "written once per user and notice); posting and withdrawing notices are audited",
}
