"""A resident ID number never travels in a URL (URLs land in access logs, proxies and
browser history): the web search posts and keeps only the blind index; the API takes
the number in a POST body and refuses it in a query string."""

from __future__ import annotations

from typing import Any

from tests.register.helpers import bearer, demo_plaintexts


class UrlLog:
    """Every request line the app receives, as an access log would write it."""

    def __init__(self, app: Any) -> None:
        self.lines: list[str] = []
        self.inner = app.wsgi_app
        app.wsgi_app = self

    def __call__(self, environ: dict, start_response: Any) -> Any:
        query = environ.get("QUERY_STRING", "")
        self.lines.append(
            f'"{environ["REQUEST_METHOD"]} {environ.get("PATH_INFO", "")}{"?" + query if query else ""}"'
        )
        return self.inner(environ, start_response)


def test_searching_by_id_keeps_it_out_of_every_url(app, login_as) -> None:  # type: ignore[no-untyped-def]
    ids, _phones = demo_plaintexts(app)
    number = sorted(ids)[0]
    log = UrlLog(app)
    try:
        b = login_as("kaifeng-lead")
        r = b.post("/t/kaifeng/register/search", {"q": number}, csrf_from="/t/kaifeng/register/")
        assert r.status_code == 302 and number not in r.headers["Location"]
        listing = b.get(r.headers["Location"]).get_data(as_text=True)
        assert listing.count('data-household="') == 1  # found through the blind index
        assert number not in listing  # and not echoed back in the form

        headers = bearer(app, "kaifeng-lead")
        found = app.test_client().post(
            "/api/v1/households/search", json={"q": number}, headers=headers
        )
        assert found.status_code == 200 and found.get_json()["total"] == 1
        assert number not in found.get_data(as_text=True)
        # the same household as the web search found
        assert found.get_json()["items"][0]["id"] in listing
    finally:
        app.wsgi_app = log.inner
    assert log.lines and not [line for line in log.lines if number in line]


def test_an_id_in_a_query_string_is_refused(app, login_as) -> None:  # type: ignore[no-untyped-def]
    ids, _phones = demo_plaintexts(app)
    number = sorted(ids)[1]
    headers = bearer(app, "kaifeng-lead")
    api = app.test_client()
    r = api.get(f"/api/v1/households?q={number}", headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "id_in_url"
    assert "POST /api/v1/households/search" in r.get_json()["error"]["message"]
    assert number not in r.get_data(as_text=True)
    # spaced or dashed, or under another parameter: refused too
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert api.get(f"/api/v1/households?q={spaced}", headers=headers).status_code == 400
    assert api.get(f"/api/v1/households?town={number}", headers=headers).status_code == 400
    # names and ordinary filters still work by GET
    assert api.get("/api/v1/households?q=王", headers=headers).status_code == 200

    b = login_as("kaifeng-lead")
    for path in ("/t/kaifeng/register/", "/t/kaifeng/register/export.xlsx"):
        page = b.get(f"{path}?q={number}")
        assert page.status_code == 400 and number not in page.get_data(as_text=True)
    assert b.get("/t/kaifeng/register/?q=王").status_code == 200
    # a body that is not JSON: a clear 400, never a 5xx
    r = api.post("/api/v1/households/search", data="q=1", headers=headers)
    assert r.status_code == 400
