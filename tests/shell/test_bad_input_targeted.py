"""Issue 19: the six causes of server errors, each answered 400/404 with a translated message."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Browser

HUGE = "99999999999999999999"


def test_nul_in_login_without_signing_in(app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(app)
    token = b.csrf("/login")
    r = b.client.post("/login", data={"username": "a\x00b", "password": "x", "csrf_token": token})
    assert r.status_code == 400
    assert "空字符" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/t/kaifeng/duties/?q=%00",
        "/t/kaifeng/audit/?q=%00",
        "/t/kaifeng/audit/export.csv?q=%00",
        "/t/kaifeng/admin/users/?search=%00",
        "/t/kai%00feng/duties/",
        "/t/zhang%00dian/",
    ],
)
def test_nul_anywhere_in_a_url(login_as, path: str) -> None:  # type: ignore[no-untyped-def]
    r = login_as("kaifeng-lead").get(path)
    assert r.status_code == 400, path


def test_nul_as_operator_probing_a_district(login_as) -> None:  # type: ignore[no-untyped-def]
    assert login_as("operator").get("/t/%00/duties/").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        f"/t/kaifeng/meetings/?page={HUGE}",
        f"/t/kaifeng/meetings/action-items?page={HUGE}",
        f"/t/kaifeng/duties/?page={HUGE}",
        f"/t/kaifeng/audit/?before={HUGE}",
        f"/t/kaifeng/audit/?after={HUGE}",
        f"/t/kaifeng/audit/?before=-{HUGE}",
        f"/t/kaifeng/audit/{HUGE}",
        f"/t/kaifeng/admin/duties/?page={HUGE}",
        "/t/kaifeng/admin/duties/?page=-1",
        "/t/kaifeng/admin/users/?page=-5",
    ],
)
def test_overflowing_numbers(login_as, path: str) -> None:  # type: ignore[no-untyped-def]
    r = login_as("kaifeng-lead").get(path)
    assert r.status_code in (200, 302, 404), (path, r.status_code)


def test_api_lists_with_huge_pages(login_as) -> None:  # type: ignore[no-untyped-def]
    from tests.shell.test_sessions_redirects import _token

    b = login_as("kaifeng-lead")
    api = b.app.test_client()
    headers = {"Authorization": f"Bearer {_token(b)}"}
    for path in ("/api/v1/departments", "/api/v1/duties", "/api/v1/meetings"):
        r = api.get(f"{path}?page={HUGE}&per_page={HUGE}", headers=headers)
        assert r.status_code in (200, 404), (path, r.status_code)
        r = api.get(f"{path}?page=abc", headers=headers)
        assert r.status_code in (400, 404), (path, r.status_code)


@pytest.mark.parametrize(
    "body",
    [
        '{"narrative": "\\ud800"}',
        '{"\\udfff": 1}',
        "[" * 100_000,
        '{"a":' * 50_000,
        json.dumps({"narrative": "a\x00b"}),
    ],
    ids=["surrogate", "surrogate-key", "nested-array", "nested-object", "nul"],
)
def test_unstorable_json(login_as, body: str) -> None:  # type: ignore[no-untyped-def]
    from tests.shell.test_sessions_redirects import _token

    b = login_as("kaifeng-lead")
    api = b.app.test_client()
    headers = {"Authorization": f"Bearer {_token(b)}", "Content-Type": "application/json"}
    r = api.post("/api/v1/me", data=body, headers=headers)
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "bad_input" and error["message"]


def test_moderately_nested_json_still_works() -> None:
    from portal.kernel.inputs import BadJSON, checked_json

    assert checked_json("[" * 10 + "]" * 10) == [[[[[[[[[[]]]]]]]]]]
    with pytest.raises(BadJSON):
        checked_json("[" * 40 + "]" * 40)


def test_page_number_unit() -> None:
    from portal.kernel.inputs import bounded_int, page_number

    assert page_number(HUGE) == 100_000 and page_number("-3") == 1 and page_number("x") == 1
    assert page_number("7") == 7 and page_number(None, default=2) == 2
    assert bounded_int(HUGE) is None and bounded_int("-1") is None and bounded_int("42") == 42
