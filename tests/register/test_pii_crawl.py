"""Every page, export and API answer every demo role can reach shows no demo resident
ID or phone number in full — a crawl over the whole site, not only the register's pages
(care shows contacts' phones, benefits households, the audit trail every record).

The crawl follows every same-site GET link from each role's home page, downloads
included (Excel, Word, CSV: read as the text inside), visiting each URL shape once; the
reveal is a POST with a reason and is never reached this way."""

from __future__ import annotations

import re

import pytest

from tests.register.helpers import bearer, demo_plaintexts
from tests.register.test_masking import _text
from tests.shell.test_zh_crawl import USERS, _shape

SKIP = re.compile(r"/logout|/static/|lang=|/locale")
HREF = re.compile(r'href="([^"#]+)')
API_LISTS = ("/api/v1/households?per_page=100", "/api/v1/care/households?per_page=100")


def _crawl(b, limit: int = 500) -> dict[str, str]:  # type: ignore[no-untyped-def]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    bodies: dict[str, str] = {}
    queue = ["/"]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if _shape(url) in seen:
            continue
        seen.add(_shape(url))
        r = b.get(url)
        if r.status_code in (301, 302):
            location = r.headers["Location"]
            if location.startswith("/"):
                queue.append(location)
            continue
        body = _text(r)
        bodies[url] = body
        if r.content_type.startswith("text/html"):
            for href in HREF.findall(body):
                href = href.replace("&amp;", "&")
                local = href.startswith("/") and not href.startswith("//")
                if local and not SKIP.search(href) and _shape(href) not in seen:
                    queue.append(href)
    assert not queue, f"crawl stopped at {limit} pages with {len(queue)} links left"
    return bodies


def _api(app, user: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The register's and care's API lists and the first households' details."""
    client = app.test_client()
    headers = bearer(app, user)
    bodies: dict[str, str] = {}
    for path in API_LISTS:
        answer = client.get(path, headers=headers)
        bodies[path] = _text(answer)
        if answer.status_code != 200:
            continue
        base = path.split("?", 1)[0]
        for item in (answer.get_json() or {}).get("items", [])[:5]:
            detail = f"{base}/{item['id']}"
            bodies[detail] = _text(client.get(detail, headers=headers))
    return bodies


@pytest.mark.parametrize("user", [u for u in USERS if u != "jiangyan-lead"])
def test_no_page_export_or_api_answer_shows_a_full_demo_number(app, login_as, user: str) -> None:  # type: ignore[no-untyped-def]
    ids, phones = demo_plaintexts(app)
    assert len(ids) > 400 and len(phones) > 300
    secrets = ids | phones
    bodies = _crawl(login_as(user))
    if user != "operator":
        bodies.update(_api(app, user))
    assert len(bodies) > 5
    downloads = [
        u for u, body in bodies.items() if "xl/worksheets" in body or "word/document" in body
    ]
    if user == "kaifeng-lead":
        assert len(downloads) >= 5, sorted(bodies)  # the crawl reached the exports
    leaked = {url: [s for s in secrets if s in body] for url, body in bodies.items()}
    leaked = {url: found for url, found in leaked.items() if found}
    assert not leaked, {url: len(found) for url, found in leaked.items()}
