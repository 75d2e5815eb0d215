"""The menu's counts are kept for a few seconds per user (speed) but never outlive a
write: the next page after any commit counts again."""

from __future__ import annotations

import re

import pytest

from portal.kernel import memo
from tests.conftest import statements

HOME = "/t/kaifeng/"


def _badge_statements(app, b) -> int:  # type: ignore[no-untyped-def]
    with statements(app) as seen:
        assert b.get(HOME).status_code == 200
    return sum("count(messages.id)" in s for s in seen)


def _unread(b) -> int:  # type: ignore[no-untyped-def]
    page = b.get(HOME).get_data(as_text=True)
    found = re.search(
        r'id="unread-messages"[^>]*>.*?(?:<span class="count">(\d+)</span>)?</a>', page, re.S
    )
    assert found
    return int(found.group(1) or 0)


def test_badges_are_counted_once_per_window_and_again_after_a_write(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.messages import operations
    from portal.messages.models import MessageKind
    from portal.tenancy import scope

    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert _badge_statements(fresh_app, officer) == 1
    assert _badge_statements(fresh_app, officer) == 0  # the same window: kept
    before = _unread(officer)

    with fresh_app.app_context():
        user = db.session.execute(
            db.select(User).where(User.username == "kaifeng-civil-affairs")
        ).scalar_one()
        with scope.tenant_scope(user.tenant_id):
            operations.notify([user.id], MessageKind.duty_overdue, subject="测试消息")
            db.session.commit()
    assert _badge_statements(fresh_app, officer) == 1  # a commit wrote: counted again
    assert _unread(officer) == before + 1


def test_badges_are_counted_again_after_the_window(
    fresh_app, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert _badge_statements(fresh_app, officer) == 1
    monkeypatch.setattr(memo, "SECONDS", 0.0)
    assert _badge_statements(fresh_app, officer) == 1


def test_a_write_drops_only_the_answers_of_the_district_it_wrote_to(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Kept answers live in their district's bucket: a commit that wrote to district A
    drops A's and the platform-wide ones that read what it wrote, leaves B's; a statement
    is taken to write the scope's district, and with no district in scope every
    district's answers go."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.messages.models import Message
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with fresh_app.app_context():
        memo.forget()
        with scope.cross_tenant("test: any message"):
            message = db.session.execute(sa.select(Message).limit(1)).scalar_one()
            a, message_id = message.tenant_id, message.id
            b = db.session.execute(sa.select(Tenant.id).where(Tenant.id != a).limit(1)).scalar_one()
        db.session.rollback()
        asked: list[str] = []

        def keep(name: str, tenant_id: object) -> None:
            def compute() -> str:
                asked.append(name)
                db.session.execute(sa.text("SELECT count(*) FROM messages")).scalar()
                return name

            memo.remembered(("test", name), compute, tenant_id)

        def ask_all() -> None:
            asked.clear()
            for name, tenant_id in (("a", a), ("b", b), ("platform", None)):
                keep(name, tenant_id)
            db.session.rollback()

        ask_all()
        assert asked == ["a", "b", "platform"]
        ask_all()
        assert asked == []  # all kept

        with scope.tenant_scope(a):
            message = db.session.get(Message, (a, message_id))
            message.subject = message.subject + "。"
            db.session.commit()
        ask_all()
        assert asked == ["a", "platform"]  # B's answer outlived A's write

        with scope.tenant_scope(b):
            db.session.execute(
                sa.update(Message)
                .where(Message.id == message_id)
                .values(detail="x")
                .execution_options(synchronize_session=False)  # (A's row: not B's to refresh)
            )
            db.session.commit()
        ask_all()
        assert asked == ["b", "platform"]  # a bulk statement goes to the scope's district

        db.session.execute(sa.text("UPDATE messages SET detail = detail WHERE 1 = 0"))
        db.session.commit()
        ask_all()
        assert asked == ["a", "b", "platform"]  # no district in scope: not known, all go

        ask_all()
        db.session.rollback()
        ask_all()
        assert asked == []  # a rollback drops nothing


def test_the_officers_department_is_named_without_a_statement_per_page(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """The user menu names the officer's department on every page; within the memo's
    window it is not read again."""
    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    with statements(fresh_app) as first:
        page = officer.get("/t/kaifeng/duties/").get_data(as_text=True)
    with statements(fresh_app) as second:
        again = officer.get("/t/kaifeng/duties/").get_data(as_text=True)
    name = re.search(r'class="menu-who">[^<]*· ([^<·]+)</p>', page)
    assert name and name.group(1).strip() == "开封市民政局"
    assert name.group(0) in again
    reads = [s for s in first if "FROM departments" in s and "departments.id =" in s]
    assert len(reads) == 1
    assert not [s for s in second if "FROM departments" in s and "departments.id =" in s]


def test_home_panels_are_kept_until_the_district_writes(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """The lead's home panels (meetings, policy, benefits, audit …) are rendered once per
    window; an event written to the district's trail alone (no other row: a download, a
    sign-in) shows in the recent-events panel at once."""
    from portal.audit import trail
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    memo.forget()
    lead = login_as("kaifeng-lead", fresh_app)
    with statements(fresh_app) as first:
        assert lead.get(HOME).status_code == 200
    with statements(fresh_app) as again:
        page = lead.get(HOME).get_data(as_text=True)
    assert len(again) <= len(first) - 8, (len(first), len(again))
    newest = max(map(int, re.findall(r"/t/kaifeng/audit/(\d+)", page)))

    with fresh_app.app_context():
        user = db.session.execute(
            db.select(User).where(User.username == "kaifeng-lead")
        ).scalar_one()
        with scope.tenant_scope(user.tenant_id), trail.as_system("test"):
            trail.record(
                db.session,
                "access_denied",
                tenant_id=user.tenant_id,
                entity_type="url",
                entity_id="/t/kaifeng/x",
                summary="测试面板事件",
            )
            db.session.commit()
    page = lead.get(HOME).get_data(as_text=True)
    assert max(map(int, re.findall(r"/t/kaifeng/audit/(\d+)", page))) > newest


def test_a_write_drops_only_the_answers_that_read_a_table_it_wrote(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """An answer is dropped by a write of a table its computation read (its statements,
    the kept answers it used, and the tables every answer reads: the user, the district,
    its departments); the district's other answers stay. A recorded read (an export:
    an audit event and nothing else) drops only the answers that read the trail."""
    import sqlalchemy as sa

    from portal.audit import trail
    from portal.extensions import db
    from portal.messages.models import Message
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with fresh_app.app_context():
        memo.forget()
        district = db.session.execute(
            sa.select(Tenant).where(Tenant.slug == "kaifeng")
        ).scalar_one()
        asked: list[str] = []

        def reading(name: str, sql: str | None = None, inner: str | None = None):  # type: ignore[no-untyped-def]
            def compute() -> str:
                asked.append(name)
                if sql:
                    db.session.execute(sa.text(sql)).all()
                if inner:
                    ask(inner)
                return name

            return compute

        answers = {
            "trail": reading("trail", "SELECT count(*) FROM audit_events"),
            "messages": reading("messages", "SELECT count(*) FROM messages"),
            "plain": reading("plain"),
            "outer": reading("outer", inner="messages"),  # built on a kept answer
            "filled": reading("filled"),
        }

        def ask(name: str) -> None:
            every_write = name == "filled"
            memo.remembered(("t", name), answers[name], district.id, every_write=every_write)

        def ask_all() -> list[str]:
            asked.clear()
            for name in answers:
                ask(name)
            db.session.rollback()
            return sorted(asked)

        assert ask_all() == ["filled", "messages", "outer", "plain", "trail"]
        assert ask_all() == []  # the outer answer used the kept "messages"
        with scope.tenant_scope(district.id):
            trail.record_on(district, "export", summary="test", data={"kind": "test"})
            db.session.commit()
        assert ask_all() == ["filled", "trail"]  # only the trail was written

        with scope.tenant_scope(district.id):
            message = db.session.execute(sa.select(Message).limit(1)).scalar_one()
            message.read_at = None if message.read_at else message.created_at
            db.session.commit()
        # a message marked read (bookkeeping: no audit event), and what was built on it
        assert ask_all() == ["filled", "messages", "outer"]

        with scope.tenant_scope(district.id):
            district = db.session.get(Tenant, district.id)
            district.name_en = (district.name_en or "") + " "
            db.session.commit()
        # the district: read by every answer
        assert ask_all() == ["filled", "messages", "outer", "plain", "trail"]


def test_a_sign_in_leaves_the_districts_kept_answers_but_other_user_changes_drop_them(
    fresh_app, login_as
) -> None:  # type: ignore[no-untyped-def]
    """A sign-in sets only the user's last sign-in time, which no kept answer shows: it
    must not make everyone else in the district compute their menus afresh (a morning
    rush of sign-ins did). Any other change of a user still counts as a write."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    memo.forget()
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert _badge_statements(fresh_app, officer) == 1
    assert _badge_statements(fresh_app, officer) == 0  # kept

    login_as("kaifeng-lead", fresh_app)  # the district's lead signs in
    assert _badge_statements(fresh_app, officer) == 0  # still kept

    with fresh_app.app_context():
        lead = db.session.execute(sa.select(User).filter_by(username="kaifeng-lead")).scalar_one()
        with scope.tenant_scope(lead.tenant_id):
            lead.display_name = lead.display_name + "（测试）"
            db.session.commit()
    assert _badge_statements(fresh_app, officer) == 1  # a shown column: counted again
