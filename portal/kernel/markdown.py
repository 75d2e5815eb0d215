"""Markdown → sanitised HTML, the one place that renders Markdown (minutes, the format guide).

The output is cleaned with nh3: no scripts, no inline handlers, no styles, links only
to http(s)/mailto, so a minutes text or a document can never inject markup.
"""

from __future__ import annotations

TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "code",
    "pre",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
}


def render(text: str, *, document: bool = False) -> str:
    """HTML of `text`; `document=True` adds tables, fenced code and heading anchors."""
    import markdown
    import nh3

    extensions: list = ["sane_lists"]
    if document:
        extensions += ["tables", "fenced_code", "toc"]
    html = markdown.markdown(text or "", extensions=extensions, output_format="html")
    attributes: dict[str, set[str]] = {"a": {"href", "title"}}
    if document:  # heading anchors, so a table of contents can link to a section
        attributes.update({h: {"id"} for h in ("h1", "h2", "h3", "h4")})
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
    )
