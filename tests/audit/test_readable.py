"""The trail rendered for people (issue 13): labels, names, composed summaries, Chinese search,
the person filter, the 登录日志, one event per sign-in, and the recent-activity panel."""

from __future__ import annotations

import html
import json
import re
import uuid

import sqlalchemy as sa

from tests.audit.test_viewer import _events, _ids, _seqs
from tests.conftest import Browser

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b|\b(?:create|update|delete|login|logout|export)\b")


def _rows(page: str) -> dict[int, str]:
    """The visible text of each event row (tags and attributes removed)."""
    out = {}
    for seq, body in re.findall(r'<tr data-seq="(\d+)">(.*?)</tr>', page, re.S):
        out[int(seq)] = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return out


def test_rows_show_labels_and_names_never_codes_or_ids(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    pages = [
        "/t/kaifeng/audit/",
        "/t/kaifeng/audit/?entity_type=Duty",
        "/t/kaifeng/audit/?action=duty.sign_off",
        "/t/kaifeng/audit/?action=update&entity_type=Duty",
        "/t/kaifeng/audit/?entity_type=MeetingInvitation",
        "/t/kaifeng/audit/?module=meetings",
        "/t/kaifeng/audit/logins",
    ]
    for url in pages:
        page = b.get(url).get_data(as_text=True)
        rows = _rows(page)
        assert rows, url
        for seq, text in rows.items():
            assert not UUID.search(text), (url, seq, text)
            assert not CODE.search(text), (url, seq, text)
            assert "UTC" not in text and re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", text)
    # a duty's status change reads as 字段：旧值 → 新值 with the labels of the values
    page = b.get("/t/kaifeng/audit/?action=update&entity_type=Duty").get_data(as_text=True)
    text = " ".join(_rows(page).values())
    assert re.search(r"状态：(未开始|进行中|已提交|已通过|已退回|\S+) → \S+", text), text[:500]
    # the record by its name, linked to its page
    assert re.search(r'<a href="/t/kaifeng/duties/[0-9a-f-]{36}">[^<]*2026年', page)


def test_search_in_chinese_finds_labels_names_and_titles(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.policy.models import Measure
    from portal.tenancy import scope

    tid = _ids(app, "kaifeng")
    b = login_as("kaifeng-auditor")
    sign_offs = {e.seq for e in _events(app, tid, action="duty.sign_off")}
    found = set(_seqs(b.get("/t/kaifeng/audit/?q=签报").get_data(as_text=True)))
    assert found & sign_offs
    page = b.get("/t/kaifeng/audit/?q=签报&action=duty.sign_off").get_data(as_text=True)
    assert _seqs(page) and set(_seqs(page)) <= sign_offs
    # a record type's label
    duty_events = {e.seq for e in _events(app, tid, entity_type="Duty")}
    found = set(_seqs(b.get("/t/kaifeng/audit/?q=职责&entity_type=Duty").get_data(as_text=True)))
    assert found and found <= duty_events
    # a record's title: a measure's title finds the events of its duties
    with app.app_context(), scope.tenant_scope(tid):
        title = db.session.execute(sa.select(Measure.title).limit(1)).scalar_one()
    page = b.get(f"/t/kaifeng/audit/?q={title[:6]}&entity_type=Duty").get_data(as_text=True)
    assert _seqs(page)
    # a person by name (after a sign-in of theirs, which the trail holds under their id)
    login_as("kaifeng-civil-affairs").get("/t/kaifeng/")
    with app.app_context():
        from portal.auth.models import User

        officer = db.session.execute(
            sa.select(User).filter_by(username="kaifeng-civil-affairs")
        ).scalar_one()
        name, officer_id = officer.display_name, officer.id
    assert not re.search(r"[a-z]", name)  # a person's name, not a login
    mine = {e.seq for e in _events(app, tid, actor_id=officer_id)}
    page = b.get(f"/t/kaifeng/audit/?actor={name}").get_data(as_text=True)
    assert _seqs(page) and set(_seqs(page)) <= mine
    page = b.get(f"/t/kaifeng/audit/?q={name}").get_data(as_text=True)
    assert set(_seqs(page)) & mine
    # nothing matches nothing
    assert not _seqs(b.get("/t/kaifeng/audit/?q=不存在的东西").get_data(as_text=True))


def test_sign_in_log_and_one_event_per_sign_in(fresh_app) -> None:  # type: ignore[no-untyped-def]
    tid = _ids(fresh_app, "jiading")
    before = max(e.seq for e in _events(fresh_app, tid))
    b = Browser(fresh_app)
    b.login("jiading-lead")
    new = [e for e in _events(fresh_app, tid) if e.seq > before]
    assert [(e.action, e.entity_type) for e in new] == [("login", "User")]
    # a failure, then the sign-out: each one event in the 登录日志
    Browser(fresh_app).login("jiading-lead", "wrong-password")
    auditor = Browser(fresh_app)
    auditor.login("jiading-auditor")
    page = auditor.get("/t/jiading/audit/logins").get_data(as_text=True)
    assert "登录日志" in page
    rows = _rows(page)
    assert rows and all(re.search(r"登录|退出|锁定", t) for t in rows.values())
    texts = " ".join(rows.values())
    assert "登录失败" in texts and "尝试账号 jiading-lead" in texts
    logins = {
        e.seq
        for e in _events(fresh_app, tid)
        if e.action in ("login", "login_failed", "login_refused_locked", "lockout", "logout")
    }
    assert set(rows) <= logins
    assert not any(e.action == "update" and e.entity_type == "User" for e in new)


def test_event_detail_lists_changes_with_labels(app, login_as) -> None:  # type: ignore[no-untyped-def]
    tid = _ids(app, "kaifeng")
    event = next(
        e
        for e in reversed(_events(app, tid, action="update", entity_type="Duty"))
        if "status" in json.loads(e.changes)
    )
    page = login_as("kaifeng-lead").get(f"/t/kaifeng/audit/{event.seq}").get_data(as_text=True)
    assert '<th scope="row" title="status">状态</th>' in page
    assert "修改" in page and "职责" in page
    assert f"/t/kaifeng/audit/history/Duty/{event.entity_id}" in page
    history = login_as("kaifeng-lead").get(f"/t/kaifeng/audit/history/Duty/{event.entity_id}")
    text = history.get_data(as_text=True)
    assert history.status_code == 200 and "2026年" in text
    heading = re.sub(r"<[^>]+>", " ", text.split("<h1>")[1].split("</p>")[0])
    assert str(uuid.UUID(event.entity_id)) not in heading and "2026年" in heading


def test_recent_activity_panel_shows_the_newest_events(app, login_as) -> None:  # type: ignore[no-untyped-def]
    tid = _ids(app, "kaifeng")
    newest = max(e.seq for e in _events(app, tid))
    for user in ("kaifeng-lead", "kaifeng-auditor"):
        page = login_as(user).get("/t/kaifeng/").get_data(as_text=True)
        panel = page.split('id="audit-recent"')[1].split("</section>")[0]
        seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', panel)]
        assert len(seqs) == 5 and seqs == sorted(seqs, reverse=True), user
        assert seqs[0] >= newest - 1  # the sign-in of this very request may be newer
        assert "暂无" not in panel and not UUID.search(re.sub(r"<[^>]+>", " ", panel))
    officer = login_as("kaifeng-civil-affairs").get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="audit-recent"' not in officer
