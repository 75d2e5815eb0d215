"""The Markdown live preview: the saved view's renderer and sanitiser, writers only,
CSRF-protected, no inline script and nothing from a CDN on the pages that use it."""

from __future__ import annotations

import datetime as dt
import re

from portal.kernel import clock
from portal.meetings import queries
from tests.meetings.test_records import _new_meeting

URL = "/t/kaifeng/meetings/preview"
HOSTILE = (
    "## 工作情况\n\n- **已发放** 12 户\n- 第二项\n\n"
    '<script>alert(1)</script><img src=x onerror="alert(2)"> [链接](javascript:alert(3))'
)


def test_preview_renders_like_the_saved_view_and_strips_scripts(app, login_as) -> None:  # type: ignore[no-untyped-def]
    for user, page in (
        ("kaifeng-lead", "/t/kaifeng/meetings/"),
        ("kaifeng-civil-affairs", "/t/kaifeng/meetings/"),
    ):
        b = login_as(user)
        r = b.post(URL, {"text": HOSTILE}, csrf_from=page)
        assert r.status_code == 200 and r.mimetype == "text/html"
        assert r.headers["Cache-Control"] == "no-store"
        html = r.get_data(as_text=True)
        with app.test_request_context():
            assert html == queries.render_markdown(HOSTILE)  # one renderer, one sanitiser
        assert "<h2>工作情况</h2>" in html and "<li><strong>已发放</strong> 12 户</li>" in html
        assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_preview_needs_csrf_a_writer_and_a_bounded_text(login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead")
    assert lead.client.post(URL, data={"text": "x"}).status_code == 400  # no CSRF token
    r = lead.post(URL, {"text": "字" * 50_001}, csrf_from="/t/kaifeng/meetings/")
    assert r.status_code == 413
    auditor = login_as("kaifeng-auditor")
    assert auditor.post(URL, {"text": "x"}, csrf_from="/t/kaifeng/meetings/").status_code == 403


def test_markdown_fields_are_wired_without_inline_script(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead", fresh_app)
    url = _new_meeting(lead, (clock.today() + dt.timedelta(days=3)).isoformat())
    lead.post(url + "/agenda", {"op": "add", "title": "议题", "detail": "说明"}, csrf_from=url)
    page = lead.get(url).get_data(as_text=True)
    fields = re.findall(r"<textarea[^>]*data-markdown-preview=\"([^\"]+)\"", page)
    assert fields and set(fields) == {URL}
    # every script is a local file (CSP script-src 'self'; no CDN)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all(re.search(r'src="/static/', s) for s in scripts), scripts
    js = lead.get("/static/portal.js").get_data(as_text=True)
    assert "data-markdown-preview" in js and "http" not in js.split("data-markdown-preview", 1)[1]
