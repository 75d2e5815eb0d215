"""Issue 19: one Content-Disposition for every download (bidi, fallback, charset)."""

from __future__ import annotations

import re

from portal.kernel.downloads import clean_filename, content_disposition, text_mimetype
from tests.duties.test_views import (
    BASE,
    _version,
    evidence_links,
    log_entry,
    officer_at_a_new_duty,
)


def test_bidi_and_control_characters_are_stripped() -> None:
    assert clean_filename("x\u202eexe.pdf") == "xexe.pdf"
    assert clean_filename("a\u2066b\u2069c\u200e\u200f.txt") == "abc.txt"
    assert clean_filename("a\r\nb\x00.txt") == "a__b_.txt"
    assert clean_filename("../../etc/passwd") == "_.._etc_passwd"
    assert "\u202e" not in content_disposition("x\u202eexe.pdf")


def test_ascii_fallback_keeps_the_extension() -> None:
    header = content_disposition("会议纪要.docx")
    assert 'filename="download.docx"' in header
    assert "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.docx" in header
    assert content_disposition("audit-kaifeng.csv") == 'attachment; filename="audit-kaifeng.csv"'
    assert 'filename="ledger (2026).xlsx"' in content_disposition("ledger (2026).xlsx")


def test_charset_once() -> None:
    assert text_mimetype("text/csv; charset=utf-8; charset=utf-8") == "text/csv; charset=utf-8"
    assert text_mimetype("text/plain") == "text/plain; charset=utf-8"
    assert text_mimetype("application/pdf") == "application/pdf"


def test_evidence_with_a_bidi_name_downloads_safely(fresh_app, login_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    file = ("台账\u202etxt.pdf.txt", b"plain text evidence")
    r = log_entry(officer, url, day, "入户走访", file, row_version=_version(officer, url))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    link = evidence_links(officer.get(url).get_data(as_text=True))[0]
    download = officer.get(link)
    assert download.status_code == 200
    header = download.headers["Content-Disposition"]
    assert "\u202e" not in header and "%E2%80%AE" not in header
    assert 'filename="download.txt"' in header or header.count(".txt") >= 1
    assert download.headers["Content-Type"].count("charset") <= 1


def test_duty_export_has_an_ascii_fallback(login_as) -> None:  # type: ignore[no-untyped-def]
    r = login_as("kaifeng-lead").get(f"{BASE}/export.xlsx")
    assert r.status_code == 200
    assert re.search(
        r'attachment; filename="kaifeng-duties-[^"]+\.xlsx"', r.headers["Content-Disposition"]
    )
