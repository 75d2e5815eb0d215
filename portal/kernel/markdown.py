"""Markdown → sanitised HTML, the one place that renders Markdown (minutes, the format guide).

The output is cleaned with nh3: no scripts, no inline handlers, no styles, links only
to http(s)/mailto, so a minutes text or a document can never inject markup.
"""

from __future__ import annotations

import functools

#: Rendered texts kept per process (least recently used first out). A page shows the same
#: few texts to every reader (the agenda's items, the minutes): parsing them again cost
#: about 0.3 ms each, a tenth of the meeting page. The output depends on the text alone.
CACHE_SIZE = 512
#: Longer texts are rendered every time (a document is rendered once, not kept).
CACHE_MAX_CHARS = 20_000

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
    text = text or ""
    if len(text) > CACHE_MAX_CHARS:
        return _render(text, document)
    return _cached(text, document)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached(text: str, document: bool) -> str:
    return _render(text, document)


def _render(text: str, document: bool) -> str:
    import markdown
    import nh3

    extensions: list = ["sane_lists"]
    if document:
        extensions += ["tables", "fenced_code", "toc"]
    html = markdown.markdown(text, extensions=extensions, output_format="html")
    attributes: dict[str, set[str]] = {"a": {"href", "title"}}
    if document:  # heading anchors, so a table of contents can link to a section
        attributes.update({h: {"id"} for h in ("h1", "h2", "h3", "h4")})
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
    )
