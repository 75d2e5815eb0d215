"""The duty page's blank forms are drawn once per language (`ui.kept_html`), the
shell's menu, user menu and top bar kept a few seconds per user (`ui.kept_user_html`):
what they show still follows the language, the user, the page and every write."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.duties import views
from portal.duties.models import DutyStatus
from portal.extensions import db
from portal.tenancy import scope
from portal.ui import _KEPT_HTML
from tests.conftest import statements
from tests.duties.test_views import _version, log_entry, officer_at_a_new_duty


def test_blank_forms_are_drawn_once_per_language_and_typed_input_every_time(
    fresh_app, login_as, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    built: list[str] = []
    real = views._blank_entry_form
    monkeypatch.setattr(views, "_blank_entry_form", lambda d: built.append(d) or real(d))
    _KEPT_HTML.clear()
    first = officer.get(url).get_data(as_text=True)
    second = officer.get(url).get_data(as_text=True)
    assert built == [day]  # the WTForms object was made for the first drawing only
    assert "工作日期" in first and f'value="{day}"' in second and 'name="narrative"' in second
    # the CSRF token outside the kept fields still works: a save goes through
    r = log_entry(
        officer,
        url,
        day,
        "入户走访",
        ("台账.pdf", b"%PDF-1.4 x"),
        row_version=_version(officer, url),
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    # a refused save shows what was typed and the message, not the kept blank fields
    r = log_entry(
        officer,
        url,
        day,
        "",
        ("台账.pdf", b"%PDF-1.4 x"),
        families_reached="七",
        row_version=_version(officer, url),
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and 'value="七"' in body and "has-error" in body
    assert 'value="七"' not in officer.get(url).get_data(as_text=True)  # blank again
    # English: its own drawing, in English
    assert officer.post("/account/locale", {"locale": "en"}, csrf_from=url).status_code == 302
    english = officer.get(url).get_data(as_text=True)
    assert "Date of the work" in english and "工作日期" not in english
    assert built == [day, day]
    assert {lang for (_key, lang) in _KEPT_HTML} >= {"zh_Hans_CN", "en"}


def test_the_kept_shell_follows_the_user_the_page_and_writes(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead", fresh_app)
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    lead_home = lead.get("/t/kaifeng/").get_data(as_text=True)
    officer_list = officer.get("/t/kaifeng/duties/").get_data(as_text=True)
    # per user: the lead's menu has the review queue, the officer's does not
    assert "/t/kaifeng/duties/review" in lead_home
    assert "/t/kaifeng/duties/review" not in officer_list
    # per page: the current item moves with the page
    duties = lead.get("/t/kaifeng/duties/").get_data(as_text=True)
    current = 'class="nav-link active" aria-current="page"'
    assert f'href="/t/kaifeng/duties/" {current}' in duties
    assert f'href="/t/kaifeng/duties/" {current}' not in lead.get("/t/kaifeng/meetings/").get_data(
        as_text=True
    )
    # a write in the district (the lead renamed) shows on the next page at once
    with fresh_app.app_context(), scope.cross_tenant("test"):
        person = db.session.execute(sa.select(User).filter_by(username="kaifeng-lead")).scalar_one()
        person.display_name = "新名字局长"
        db.session.commit()
    assert "新名字局长" in lead.get("/t/kaifeng/duties/").get_data(as_text=True)
    # a kept shell costs no statement of its own: the second view runs no more than the first
    with statements(fresh_app) as first:
        lead.get("/t/kaifeng/duties/")
    with statements(fresh_app) as again:
        lead.get("/t/kaifeng/duties/")
    assert len(again) <= len(first)


def test_a_duty_never_signed_off_reads_no_history(fresh_app, login_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The page shown again after a refused save (the ORM duty the write loaded) reads no
    history for a duty never signed off; the plain view reads the duty, its entries and
    history in one statement (tests/duties/test_shown_duty.py)."""
    duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    assert duty.status == DutyStatus.not_started
    data = {"work_date": day, "narrative": "", "families_reached": "1"}
    data |= {"row_version": _version(officer, url), "csrf_token": officer.csrf(url)}
    with statements(fresh_app) as seen:
        r = officer.client.post(f"{url}/entries", data=data)
    assert r.status_code == 400 and "has-error" in r.get_data(as_text=True)
    assert any("progress_entries" in s for s in seen), seen
    assert not any("duty_review_records" in s for s in seen), seen


def test_a_signed_off_duty_reads_entries_and_history_in_one_scoped_statement(
    fresh_app, login_as, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The duty, its entries, their files and the sign-off history come in one UNION ALL:
    every part narrowed by the scoping hook (district; an officer's department), rows in
    order."""
    duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    for narrative in ("第一次走访", "第二次走访"):
        file = ("台账.pdf", b"%PDF-1.4 x")
        r = log_entry(officer, url, day, narrative, file, row_version=_version(officer, url))
        assert r.status_code == 302
    r = officer.post(
        url + "/sign-off",
        {"assessment": "fully", "statement": "已全面落实", "row_version": _version(officer, url)},
        csrf_from=url,
    )
    assert r.status_code == 302
    lead = login_as("kaifeng-lead", fresh_app)
    r = lead.post(
        url + "/review",
        {"decision": "return", "reason": "请补充名单", "row_version": _version(lead, url)},
        csrf_from=url,
    )
    assert r.status_code == 302
    officer.get(url)
    with statements(fresh_app) as seen:
        page = officer.get(url).get_data(as_text=True)
    touching = [s for s in seen if "duty_review_records" in s or "progress_entries" in s]
    assert len(touching) == 1, touching
    (sql,) = touching
    assert "UNION ALL" in sql
    # the duty itself, its entries, its history: each part narrowed by the scoping hook
    parts = sql.split("UNION ALL")
    tables = ("duties", "progress_entries", "duty_review_records")
    for part, table in zip(parts, tables, strict=True):
        assert f"{table}.tenant_id =" in part and f"{table}.department_id =" in part, part
    # what the page shows: both entries, each with its file, then the history in order
    assert page.index("第一次走访") < page.index("第二次走访") < page.index('id="history"')
    assert page.count("/duties/evidence/") == 2
    history = page[page.index('id="history"') :]
    assert history.count("<tr>") == 3  # the header, the sign-off, the return
    assert "请补充名单" in history
    assert history.index("<td>已签报</td>") < history.index("<td>已退回</td>")
