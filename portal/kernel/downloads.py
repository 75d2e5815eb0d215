"""One Content-Disposition for every download and export.

- Bidirectional controls (U+202A–202E, U+2066–2069, U+200E/F) are removed from the name:
  `x\u202eexe.pdf` would display as "xfdp.exe".
- Control characters, quotes, slashes and backslashes go too (header injection, paths).
- `filename*=UTF-8''…` (RFC 5987/6266) carries the real, possibly Chinese, name; the plain
  `filename="…"` fallback for old clients is ASCII and keeps the extension
  (`会议纪要.docx` → `download.docx`, not `().txt`).
- Text types carry `charset=utf-8` exactly once.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Response

#: The Excel workbook type every .xlsx download is sent as.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f"\\/:*?<>|;]')
_ASCII_KEEP = re.compile(r"[^A-Za-z0-9._()\- ]")


def clean_filename(name: str, default: str = "download") -> str:
    """The name a user may see: no bidi or control characters, no path parts."""
    cleaned = _BIDI.sub("", unicodedata.normalize("NFC", name or ""))
    cleaned = _UNSAFE.sub("_", cleaned).strip(" .")
    return cleaned[:180] or default


def ascii_fallback(name: str, default: str = "download") -> str:
    """An ASCII name for clients that read only `filename=`, keeping the extension."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = _ASCII_KEEP.sub("", ext)[:10]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = _ASCII_KEEP.sub("", ascii_stem).strip(" ._-")
    if not ascii_stem or ascii_stem.strip("()- ") == "":
        ascii_stem = default
    return f"{ascii_stem}.{ext}" if ext else ascii_stem


def content_disposition(name: str, inline: bool = False) -> str:
    """The header value for `name`: RFC 5987 UTF-8 name plus an ASCII fallback."""
    real = clean_filename(name)
    fallback = ascii_fallback(real)
    kind = "inline" if inline else "attachment"
    if real == fallback:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(real, safe='')}"


def text_mimetype(mimetype: str) -> str:
    """`text/csv` → `text/csv; charset=utf-8` (never twice)."""
    base = mimetype.split(";", 1)[0].strip()
    if base.startswith("text/") or base in ("application/json", "application/x-ndjson"):
        return f"{base}; charset=utf-8"
    return base


def attach(response: Any, name: str, inline: bool = False) -> Any:
    """Set the download name on a response (and its text charset once); returns it."""
    response.headers["Content-Disposition"] = content_disposition(name, inline=inline)
    content_type = response.headers.get("Content-Type")
    if content_type:
        response.headers["Content-Type"] = text_mimetype(content_type)
    return response


def file_answer(data: bytes | str, name: str, mimetype: str, *, no_store: bool = False) -> Response:
    """A whole file made in memory, sent as a download named `name`.

    `no_store` for what holds personal information (exports): neither the browser nor a
    proxy keeps a copy. The caller's unit of work still commits the export's audit event.
    """
    headers = {"Content-Disposition": content_disposition(name)}
    if no_store:
        headers["Cache-Control"] = "private, no-store"
    return Response(data, mimetype=mimetype, headers=headers)
