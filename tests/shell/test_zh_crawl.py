"""Every page every demo role can reach, read in Chinese, shows no internal text.

A district's staff read the portal in Chinese: a half-year code ("2026H2"), a repository
path ("shared/…"), a raw code of the policy vocabulary (category, cadence, clause type,
enum value, department key), a uuid fragment or an English word is text they cannot read
or should not see. The crawl follows every same-site link from each role's home page,
visiting each URL shape once (one uuid page per route, one query-parameter combination per
path), and reads the visible text plus the attributes a user sees (title, placeholder,
aria-label, alt, the labels of options).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

# The roles of one district (开封, which has the most departments), the lead of a district
# whose policy is a draft with inferred values (姜堰), and the operator.
# Officers: one per kind of department whose pages differ (the eligibility department
# confirms register changes; the others report on duties) plus the back office for the lead.
USERS = (
    "kaifeng-lead",
    "jiangyan-lead",  # a draft policy with `inferred:` notes
    "kaifeng-auditor",
    "kaifeng-civil-affairs",
    "kaifeng-health",
    "kaifeng-finance",
    "kaifeng-county-government",
    "kaifeng-town1",
    "kaifeng-village1",
    "operator",
)

# Pages of the newer domains each role must reach (the crawl follows links from the home
# page; a domain whose pages it never reached would pass unread).
MUST_REACH = {
    "kaifeng-lead": (
        "/t/kaifeng/duties/<id>",
        "/t/kaifeng/meetings/<id>",
        "/t/kaifeng/register/households/<id>",
        "/t/kaifeng/care/",
        "/t/kaifeng/benefits/cycles/<id>",
        "/t/kaifeng/messages/",
    ),
    "kaifeng-health": (
        "/t/kaifeng/register/requests",
        "/t/kaifeng/benefits/cycles/<id>",
        "/t/kaifeng/benefits/claims",
        "/t/kaifeng/care/households/<id>",
    ),
    "kaifeng-finance": ("/t/kaifeng/benefits/cycles/<id>",),
    "kaifeng-town1": (
        "/t/kaifeng/register/households/<id>",
        "/t/kaifeng/care/contacts",
        "/t/kaifeng/care/roster",
    ),
    "kaifeng-village1": ("/t/kaifeng/care/mine", "/t/kaifeng/care/households/<id>"),
    "kaifeng-auditor": ("/t/kaifeng/audit/", "/t/kaifeng/audit/logins"),
    "operator": ("/platform/audit/", "/platform/online"),
}

# Words that may stay in Latin letters in a Chinese page, each with its reason.
ALLOWED = {
    # file formats and products named by their own names
    "Excel",
    "Word",
    "CSV",
    "csv",
    "jsonl",  # the audit export's JSON Lines file, named in its events ("64 行（jsonl）")
    "XLSX",
    "xlsx",
    "docx",
    "YAML",
    "PDF",
    "JPG",
    "PNG",
    "zip",
    "JSONL",
    "MB",  # file size unit
    "SHA",  # SHA-256, the name of the checksum
    "UTF",  # UTF-8, the name of the text encoding
    "yaml",
    "Markdown",
    "API",
    "ECharts",
    "Chromium",
    "Bearer",  # the HTTP scheme name in the token example, a literal to type
    "curl",  # the command in the token example
    "ID",  # 用户ID / ID 的通用写法
    "IP",  # IP 地址
    "URL",
    "HTTP",
    "JSON",
    "json",
    "UTC",  # never shown; listed so a time check elsewhere owns that rule
    "English",  # the language switcher names the language in its own script
    "Asia",
    "Shanghai",  # the zone name on the account page
}
PERIOD_CODE = re.compile(r"\b20\d\dH[12]\b")
# Dates are shown as 2026年12月6日 through portal.kernel.timefmt, never as ISO text.
ISO_DATE = re.compile(r"(?<!\d)20\d\d-[01]\d-[0-3]\d(?!\d)")
# … and months as 2026年10月 (`|month`), never 2026-10.
ISO_MONTH = re.compile(r"(?<![\d-])20\d\d-[01]\d(?![\d-])")
# A hex run of 6+ characters with both a digit and a letter: a uuid or a fragment of one.
HEX = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{6,}(?![0-9A-Za-z])")
# Latin words; letters joined to digits (D000001, 4102…851X) are record numbers, not words.
WORD = re.compile(r"(?<![0-9A-Za-z_])[A-Za-z][A-Za-z_]*(?:[-.][A-Za-z_]+)*(?![0-9A-Za-z_])")
# Exceptions: files and machine endpoints; and the operator's policy-file format guide
# (/platform/policy-format), which renders docs/policy-format.md — a technical reference
# whose subject is the YAML keys and codes operators type (`unit: yuan_per_household` …)
# and which exists in English only for now (a Chinese edition is an open item, issue 14).
SKIP = re.compile(
    r"/logout|/static/|/export|\.xlsx|\.docx|\.csv|\.yaml|/ajax/|/healthz|"
    r"/api/|/download|/evidence/|lang=|/locale|/platform/policy-format"
)
UUIDISH = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}|/\d+(?=/|$)")


class _Text(HTMLParser):
    """Visible text and user-visible attributes of a page.

    Text inside <code>, <kbd> or <samp> is literal machine text the user copies or
    compares (an HTTP header to send, a checksum, a browser's own identification): it is
    checked for period codes, repository paths and vocabulary codes, not for English
    words or hex runs. Each part is (text, literal).
    """

    LITERAL = ("code", "kbd", "samp")
    SCRIPT_DATA = ("filter-groups-data", "active-filters-data")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, bool]] = []
        self.links: list[str] = []
        self._skip = 0
        self._literal = 0
        self._data_tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag in self.LITERAL:
            self._literal += 1
        if a.get("id") in self.SCRIPT_DATA:  # JSON for Flask-Admin's filter script
            self._skip += 1
            self._data_tag = tag
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        for name in ("title", "placeholder", "aria-label", "alt"):
            if a.get(name):
                self.parts.append((a[name] or "", self._literal > 0))
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append((a["value"] or "", False))

    def handle_endtag(self, tag: str) -> None:
        if (tag in ("script", "style", "template") or tag == self._data_tag) and self._skip:
            self._skip -= 1
            self._data_tag = None
        if tag in self.LITERAL and self._literal:
            self._literal -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append((data.strip(), self._literal > 0))


def _shape(url: str) -> tuple[str, tuple[str, ...]]:
    """One visit per route and query-parameter combination (not per record or value)."""
    parts = urlsplit(url)
    keys = tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return UUIDISH.sub("/<id>", parts.path), keys


def _crawl(b, starts: list[str], limit: int = 400) -> Iterator[tuple[str, _Text]]:  # type: ignore[no-untyped-def]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    queue = list(starts)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        shape = _shape(url)
        if shape in seen:
            continue
        seen.add(shape)
        r = b.get(url, headers={"Accept-Language": "zh-CN"})
        if r.status_code in (301, 302):
            location = r.headers["Location"]
            if location.startswith("/") and _shape(location) not in seen:
                queue.append(location)
            continue
        assert r.status_code < 500, f"{url}: {r.status_code}"
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        page = _Text()
        page.feed(r.get_data(as_text=True))
        yield url, page
        for href in page.links:
            href = href.split("#")[0]
            local = href.startswith("/") and not href.startswith("//")
            if local and not SKIP.search(href) and _shape(href) not in seen:
                queue.append(href)
    assert not queue, f"crawl stopped at {limit} pages with {len(queue)} links left"


def _vocabulary(app) -> set[str]:  # type: ignore[no-untyped-def]
    """Raw codes of the policy vocabulary and the portal's enums (as users must not see them)."""
    import enum

    import sqlalchemy as sa

    from portal.extensions import db
    from portal.tenancy import scope

    codes: set[str] = set()
    from portal import models as _models  # noqa: F401 - registers every model

    for mapper in db.Model.registry.mappers:
        for column in mapper.columns:
            enum_class = getattr(column.type, "enum_class", None)
            if enum_class is not None and issubclass(enum_class, enum.Enum):
                codes |= {str(m.value) for m in enum_class}
    from portal.policy import schema

    for table in (
        schema.CATEGORIES,
        schema.UNITS,
        schema.FREQUENCIES,
        schema.FESTIVALS,
        schema.FAMILY_TYPES,
        schema.RESIDENCES,
        schema.MAX_QUANTITY_UNITS,
        schema.CADENCES,
        schema.STATUSES,
        schema.CLAUSES,
        schema.SPLIT_APPLIES_TO,
        schema.DEPARTMENT_KIND_LABELS,
    ):
        codes |= set(table)
    with app.app_context(), scope.cross_tenant("test: vocabulary"):
        from portal.tenancy.models import Department

        codes |= set(db.session.execute(sa.select(Department.key)).scalars())
    return {c for c in codes if re.fullmatch(r"[a-z][a-z_\-]+", c) and c not in ALLOWED}


def _names(app) -> re.Pattern[str]:  # type: ignore[no-untyped-def]
    """Proper names in Latin letters: login names (of accounts, and as typed at failed
    sign-ins, which the trail quotes), the names people give their API tokens, and
    districts' web names (slugs)."""
    import sqlalchemy as sa

    from portal.auth.models import ApiToken, LoginAttempt, User
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context(), scope.cross_tenant("test: names"):
        names = set(db.session.execute(sa.select(User.username)).scalars())
        names |= set(db.session.execute(sa.select(Tenant.slug)).scalars())
        names |= set(db.session.execute(sa.select(LoginAttempt.username).distinct()).scalars())
        names |= set(db.session.execute(sa.select(ApiToken.name).distinct()).scalars())
    names.discard("")
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w-])")


def _problems(text: str, literal: bool, codes: set[str], names: re.Pattern[str]) -> list[str]:
    found: list[str] = []
    if PERIOD_CODE.search(text):
        found.append(f"period code {PERIOD_CODE.search(text).group(0)}")  # type: ignore[union-attr]
    if "shared/" in text:
        found.append("repository path shared/")
    text = names.sub(" ", text)
    if not literal:
        found += [f"ISO date {m.group(0)} in …{text[:80]}…" for m in ISO_DATE.finditer(text)]
        found += [f"ISO date {m.group(0)} in …{text[:80]}…" for m in ISO_MONTH.finditer(text)]
        for match in HEX.finditer(text):
            found.append(f"uuid fragment {match.group(0)}")
    for match in WORD.finditer(text):
        word = match.group(0)
        if word in ALLOWED or (literal and word not in codes):
            continue
        kind = "raw code" if word in codes else "English"
        found.append(f"{kind} {word!r} in …{text[max(0, match.start() - 20) : match.end() + 20]}…")
    return found


@pytest.mark.parametrize("user", USERS)
def test_zh_pages_show_no_internal_text(app, login_as, user: str) -> None:  # type: ignore[no-untyped-def]
    codes, names = _vocabulary(app), _names(app)
    b = login_as(user)
    problems: list[str] = []
    pages = 0
    starts = ["/", "/t/kaifeng/admin/"] if user == "kaifeng-lead" else ["/"]
    reached: set[str] = set()
    for url, page in _crawl(b, starts):
        pages += 1
        reached.add(_shape(url)[0])
        for text, literal in page.parts:
            problems += [f"{url}: {p}" for p in _problems(text, literal, codes, names)]
    assert pages >= 5, f"{user} reached only {pages} pages"
    missed = [p for p in MUST_REACH.get(user, ()) if p not in reached]
    assert not missed, f"{user} never reached {missed} ({sorted(reached)})"
    unique = sorted(set(problems))
    import os

    if os.environ.get("CRAWL_DUMP"):
        with open(os.environ["CRAWL_DUMP"], "a") as f:
            f.write("\n".join(f"{user} {p}" for p in unique) + "\n")
    assert not unique, f"{len(unique)} problems for {user}:\n" + "\n".join(unique[:200])


def test_the_check_finds_each_kind_of_problem(app) -> None:  # type: ignore[no-untyped-def]
    """The crawl's check is not vacuous: each kind of internal text is reported."""
    codes, names = _vocabulary(app), _names(app)
    assert {"semiannual", "yuan_per_household", "civil_affairs", "bereaved"} <= codes
    found = _problems(
        "2026H2 来源 shared/seeds/a.txt 每 semiannual 01a24991 Clause 2026-12-06 2026-10",
        False,
        codes,
        names,
    )
    kinds = {p.split(" ")[0] for p in found}
    assert kinds == {"period", "repository", "raw", "uuid", "English", "ISO"}, found
    assert _problems("支付周期 2026-10", False, codes, names)  # a month as ISO text
    assert not _problems("支付周期 2026年10月", False, codes, names)
    assert not _problems("开封市卫生健康委员会经办人 kaifeng-lead 导出 Excel", False, codes, names)
    # literal text (a header to type) may be English, never a vocabulary code
    assert not _problems("Authorization: Bearer", True, codes, names)
    assert _problems("semiannual", True, codes, names)
