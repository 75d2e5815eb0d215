"""Issue 19: no input gives a server error. A walk over the whole URL map.

For every URL rule, as each demo role (lead, officer, auditor, operator), one request per
payload kind puts that payload into every query parameter, every form field and every
JSON member the portal uses (names taken from the templates and the API), with real
demo ids in the path (the access matrix's samples) and a valid CSRF token, and asserts
the answer is not a 5xx:

- nul:       a NUL byte (PostgreSQL refuses it in text)
- overflow:  99999999999999999999 (and -1) where numbers go: pages, cursors, amounts
- surrogate: a lone UTF-16 surrogate (JSON `\\ud800`; invalid UTF-8 in URLs and forms)
- nested:    100,000 nested `[` (JSON bodies; a long bracket run elsewhere)

Actions that would end the test's own sessions (sign-out) are skipped; everything else
runs against a database of its own.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import demo_app
from tests.test_access_matrix import OWN, USERS, Clients, Samples, all_routes, route_url

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("lead", "officer", "auditor", "operator")
KINDS = ("nul", "overflow", "surrogate", "nested")
HUGE = "99999999999999999999"
SKIP_ENDPOINTS = {"auth.logout", "static"}
QUERY_NAMES = (
    "q", "page", "per_page", "before", "after", "status", "period", "department",
    "department_id", "search", "sort", "desc", "id", "next", "kind", "action", "actor",
    "entity_type", "date_from", "date_to", "from", "to", "year", "flt0_0", "flt0_1",
    "page_size", "url", "state", "tenant", "role", "format",
)  # fmt: skip


def _template_field_names() -> list[str]:
    """Every form field name the portal's templates render (plus the query names)."""
    names: set[str] = set(QUERY_NAMES)
    for path in (ROOT / "portal").rglob("templates/**/*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w-]*)"', path.read_text(encoding="utf-8")))
    for path in (ROOT / "portal").rglob("forms.py"):
        names.update(re.findall(r"^\s+(\w+) = \w*Field\(", path.read_text(), re.M))
    names.discard("csrf_token")
    return sorted(names)


def _api_member_names() -> list[str]:
    """JSON members the API reads (`body["x"]`, `body.get("x")`, `data.get("x")`)."""
    names: set[str] = set()
    for path in (ROOT / "portal").rglob("api.py"):
        names.update(re.findall(r'(?:body|data|payload)(?:\.get\(|\[)"(\w+)"', path.read_text()))
    return sorted(names) or ["name"]


FIELDS = _template_field_names()
MEMBERS = _api_member_names()


def _text(kind: str) -> str:
    return {
        "nul": "a\x00b",
        "overflow": HUGE,
        "surrogate": "a\ud800b",
        "nested": "[" * 500,
    }[kind]


def _query(kind: str) -> str:
    value = {
        "nul": "a%00b",
        "overflow": HUGE,
        "surrogate": "a%ED%A0%80b",
        "nested": "%5B" * 500,
    }[kind]
    parts = [f"{name}={value}" for name in QUERY_NAMES]
    if kind == "overflow":
        parts.append("page=-1")
    return "&".join(parts)


def _form(kind: str, token: str) -> dict[str, Any]:
    value = _text(kind)
    if kind == "surrogate":
        value = "a\udcedb"  # surrogateescape of an invalid byte: encodes as raw \xed
    data: dict[str, Any] = {name: value for name in FIELDS}
    data["csrf_token"] = token
    return data


def _form_body(data: dict[str, Any]) -> bytes:
    from urllib.parse import quote_from_bytes

    pairs = []
    for key, value in data.items():
        raw = str(value).encode("utf-8", "surrogateescape")
        pairs.append(f"{key}={quote_from_bytes(raw)}")
    return "&".join(pairs).encode()


def _json(kind: str) -> str:
    if kind == "nested":
        return "[" * 100_000
    value = {
        "nul": '"a\\u0000b"',
        "overflow": HUGE + HUGE,
        "surrogate": '"a\\ud800b"',
    }[kind]
    members = ", ".join(f'"{name}": {value}' for name in MEMBERS)
    return "{" + members + ', "items": [' + value + "]}"


@pytest.fixture(scope="module")
def fuzz_app(databases):  # type: ignore[no-untyped-def]
    # Server errors are answered (and collected below), not raised into the test.
    with demo_app(databases, PROPAGATE_EXCEPTIONS=False) as application:
        yield application


def _write_method(methods: set[str]) -> str | None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        if method in methods:
            return method
    return None


def test_no_input_gives_a_server_error(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    samples = Samples(fuzz_app)
    clients = Clients(fuzz_app)
    routes = all_routes(fuzz_app)
    started = time.monotonic()
    failures: list[str] = []
    errors: list[str] = []

    def remember(sender: Any, exception: BaseException, **extra: Any) -> None:
        errors.append(f"{type(exception).__name__}: {str(exception)[:160]}")

    from flask import got_request_exception

    got_request_exception.connect(remember, fuzz_app)
    requests = 0
    admin_tables_seen: set[str] = set()
    spent: dict[str, float] = {}
    for rule in sorted(fuzz_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue
        route = routes.get(rule.endpoint)
        if route is None or route.fresh_client:
            continue
        view = rule.endpoint.partition(".")[0]
        if view.startswith("tadmin_") and view not in (
            "tadmin_users",
            "tadmin_departments",
            "tadmin_benefit_standards",
        ):
            admin_tables_seen.add(view)
            continue  # the generated read-only views share one class: a sample of them
        url = route_url(fuzz_app, rule.endpoint, route, OWN, samples)
        if url is None:
            continue
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        # one request per (rule, kind, role): the write when the rule takes one
        plan = [_write_method(methods) or "GET"]
        for role in ROLES:
            client = clients.get(role)
            for kind in KINDS:
                for method in plan:
                    separator = "&" if "?" in url else "?"
                    target = f"{url}{separator}{_query(kind)}" if method == "GET" else url
                    kw: dict[str, Any] = {}
                    if route.kind == "api":
                        kw["headers"] = {
                            **clients.bearer(role),
                            "Content-Type": "application/json",
                        }
                        if method != "GET":
                            kw["data"] = _json(kind)
                    elif method != "GET":
                        kw["data"] = _form_body(_form(kind, clients.csrf(role, client)))
                        kw["content_type"] = "application/x-www-form-urlencoded"
                    t0 = time.monotonic()
                    response = client.client.open(target, method=method, buffered=True, **kw)
                    response.close()
                    spent[rule.endpoint] = spent.get(rule.endpoint, 0.0) + time.monotonic() - t0
                    requests += 1
                    if response.status_code >= 500:
                        failures.append(
                            f"{method} {url} [{rule.endpoint}] {kind} as {role}: "
                            f"{response.status_code} {errors[-1] if errors else ''}"
                        )
                    errors.clear()
    got_request_exception.disconnect(remember, fuzz_app)
    elapsed = time.monotonic() - started
    print(f"bad-input walk: {requests} requests in {elapsed:.1f}s")
    for endpoint, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {seconds:6.2f}s {endpoint}")
    assert requests > 800
    assert not failures, f"{len(failures)} of {requests} requests gave 5xx:\n" + "\n".join(failures)
    _ = USERS, admin_tables_seen
