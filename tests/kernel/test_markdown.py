"""The Markdown renderer keeps rendered texts: the same text gives the same sanitised
HTML without parsing again, a changed text is rendered afresh, long texts are not kept."""

from __future__ import annotations

from portal.kernel import markdown


def test_a_kept_text_is_the_same_sanitised_html_and_an_edit_is_rendered_afresh() -> None:
    markdown._cached.cache_clear()
    hostile = "**议题** <script>alert(1)</script> [x](javascript:alert(1))"
    first = markdown.render(hostile)
    assert "<strong>议题</strong>" in first and "<script" not in first
    assert "javascript:" not in first
    hits = markdown._cached.cache_info().hits
    assert markdown.render(hostile) is first  # kept: not parsed again
    assert markdown._cached.cache_info().hits == hits + 1
    edited = markdown.render(hostile.replace("议题", "纪要"))
    assert "<strong>纪要</strong>" in edited and edited != first
    # a document (tables, anchors) and a plain text of the same source are kept apart
    table = "| a |\n|---|\n| 1 |"
    assert "<table>" in markdown.render(table, document=True)
    assert "<table>" not in markdown.render(table)


def test_long_texts_are_rendered_every_time_and_not_kept() -> None:
    markdown._cached.cache_clear()
    long_text = "段落。\n\n" * (markdown.CACHE_MAX_CHARS // 4)
    assert len(long_text) > markdown.CACHE_MAX_CHARS
    html = markdown.render(long_text)
    assert html.count("<p>") == markdown.CACHE_MAX_CHARS // 4
    assert markdown._cached.cache_info().currsize == 0
    assert markdown.render(None) == ""  # type: ignore[arg-type]  # an empty field
