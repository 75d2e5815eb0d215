"""One safe-redirect check for every "go back to" target (sign-in, re-auth, language).

Browsers strip tab, CR and LF from URLs and read a backslash as a slash, so
`/\t/evil.example` and `/\\evil.example` become `//evil.example`: a different site. The
target is normalised the way a browser would before it is judged, and only a path on this
site (or an absolute URL naming this very host) passes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")


def safe_target(target: str | None, host: str | None = None) -> str | None:
    """The local path to redirect to, or None when `target` could lead off this site.

    `host` is the request's own host (`request.host`): an absolute URL naming it (the
    Referer of a page of this site) is reduced to its path; any other host is refused.
    """
    if not target:
        return None
    cleaned = _INVISIBLE.sub("", target).replace("\\", "/")
    if not cleaned:
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or host is None:
            return None
        if parts.netloc.lower() != host.lower():
            return None
        cleaned = parts.path or "/"
        if parts.query:
            cleaned += "?" + parts.query
        parts = urlsplit(cleaned)
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    if parts.scheme or parts.netloc:
        return None
    return cleaned
