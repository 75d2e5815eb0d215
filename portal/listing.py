"""One list helper for every list page: sort, page size, total, filters in the URL, Excel.

A view describes its columns once (`Column`: the Chinese header, how to read the cell,
and the SQL expression it sorts by) and builds its filtered statement as before; then

    listing = Listing.from_request("duties.index", COLUMNS, keep={"period": ..., "q": ...})
    if listing.exporting:
        return listing.export(stmt, load)        # every filtered row, Chinese headers
    rows, total = listing.fetch(stmt, load)      # one page and the total: two statements

or, for a page that renders `rows`, `total` and `listing` and nothing special around them,
`return listing.answer("duties/index.html", stmt, load, **context)`.

- Sort keys are whitelisted: only a column's own `key` is accepted from `?sort=`; any other
  value keeps the statement's default order (no SQL ever comes from the URL).
- Page size is one of `PAGE_SIZES`; junk falls back to the default; the page number is
  clamped by the kernel's `page_number`.
- The export is the same statement without LIMIT/OFFSET (capped at `EXPORT_LIMIT`), with
  the same `?q=`/filters, so it holds exactly the rows the list shows across its pages.
  Each export is recorded in the audit trail (kernel signal `list_exported`, which the
  audit layer answers with an "export" event).
- Templates use the macros in `templates/_list.html` (`sort_header`, `list_bar`,
  `list_pager`); `listing.url(...)` keeps every filter when one argument changes.

This module sits in the navigation kit's layer (below every domain): it never imports one.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, render_template, request, url_for

from portal.extensions import db
from portal.kernel import downloads
from portal.kernel.inputs import page_number
from portal.kernel.signals import list_exported

PAGE_SIZES: tuple[int, ...] = (10, 25, 50, 100)
EXPORT_LIMIT = 10_000
_CELL_MAX = 32_000  # Excel refuses longer cells

Loader = Callable[[sa.Select, int | None, int], list[Any]]


def search_arg(name: str = "q", limit: int = 80) -> str:
    """The search box's text from the query string: NUL bytes dropped, trimmed, bounded."""
    return request.args.get(name, "").replace("\x00", "").strip()[:limit]


@dataclass(frozen=True)
class Column:
    """One column of a list: its key in `?sort=`, its (translated) header, its cell."""

    key: str
    label: Any
    value: Callable[[Any], Any]
    sort: Any = None  # a SQL expression (or a tuple of them); None: not sortable
    export: bool = True


def scalars(stmt: sa.Select, limit: int | None, offset: int) -> list[Any]:
    """The default loader: the statement's first entity, one per row."""
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.session.execute(stmt).unique().scalars().all())


def count(stmt: sa.Select) -> int:
    """The number of rows of `stmt` (one statement, whatever its joins)."""
    return int(
        db.session.execute(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    )


@dataclass
class Listing:
    endpoint: str
    columns: list[Column]
    keep: dict[str, Any] = field(default_factory=dict)  # the filters, kept in every URL
    url_values: dict[str, Any] = field(default_factory=dict)  # path values (meeting id …)
    sort: str = ""
    desc: bool = False
    page: int = 1
    per_page: int = 25
    total: int = 0
    exporting: bool = False
    title: Any = ""  # the sheet's and the file's name
    default_size: int = 25

    @classmethod
    def from_request(
        cls,
        endpoint: str,
        columns: Iterable[Column],
        keep: Mapping[str, Any] | None = None,
        title: Any = "",
        url_values: Mapping[str, Any] | None = None,
        default_size: int | None = None,
    ) -> Listing:
        columns = list(columns)
        sortable = {c.key for c in columns if c.sort is not None}
        sort = request.args.get("sort", "")
        default_size = default_size or int(current_app.config.get("PAGE_SIZE", 25))
        try:
            per_page = int(request.args.get("per_page", "") or default_size)
        except ValueError:
            per_page = default_size
        if per_page not in PAGE_SIZES and per_page != default_size:
            per_page = default_size
        return cls(
            endpoint=endpoint,
            columns=columns,
            keep={k: v for k, v in (keep or {}).items() if v not in (None, "")},
            url_values=dict(url_values or {}),
            sort=sort if sort in sortable else "",
            desc=request.args.get("dir") == "desc",
            page=page_number(request.args.get("page"), maximum=10_000),
            per_page=per_page,
            exporting=request.args.get("export") == "xlsx",
            title=title,
            default_size=default_size,
        )

    # --- query -------------------------------------------------------------------------

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def ordered(self, stmt: sa.Select, tiebreak: Iterable[Any] = ()) -> sa.Select:
        """The statement in the chosen column's order (its own order when none is chosen)."""
        if not self.sort:
            return stmt
        column = next(c for c in self.columns if c.key == self.sort)
        exprs = column.sort if isinstance(column.sort, tuple) else (column.sort,)
        ordered = [e.desc() if self.desc else e.asc() for e in exprs]
        return stmt.order_by(None).order_by(*ordered, *tiebreak)

    def fetch(
        self,
        stmt: sa.Select,
        load: Loader = scalars,
        tiebreak: Iterable[Any] = (),
        total: int | None = None,
    ) -> tuple[list[Any], int]:
        """One page of rows and the total (a short first page is its own count; `total`:
        the caller knows it already, e.g. from counts the page shows anyway)."""
        offset = (self.page - 1) * self.per_page
        rows = load(self.ordered(stmt, tiebreak), self.per_page, offset)
        if (0 < len(rows) < self.per_page) or (offset == 0 and not rows):
            self.total = offset + len(rows)
        elif total is not None:
            self.total = total
        else:
            self.total = count(stmt)
        return rows, self.total

    def answer(
        self,
        template: str,
        stmt: sa.Select,
        load: Loader = scalars,
        tiebreak: Iterable[Any] = (),
        export: bool = True,
        **context: Any,
    ) -> Any:
        """A list page's response, the same for every list: the Excel export when it is asked
        for (and `export` allows it), else one page rendered with `rows`, `total` and
        `listing` beside the page's own `context`."""
        if export and self.exporting:
            return self.export(stmt, load, tiebreak)
        rows, total = self.fetch(stmt, load, tiebreak)
        return render_template(template, rows=rows, total=total, listing=self, **context)

    # --- export ------------------------------------------------------------------------

    def export(
        self,
        stmt: sa.Select,
        load: Loader = scalars,
        tiebreak: Iterable[Any] = (),
        filename: str | None = None,
    ) -> Response:
        """Every filtered row (capped) in an .xlsx with the columns' Chinese headers."""
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        rows = load(self.ordered(stmt, tiebreak).limit(EXPORT_LIMIT), None, 0)
        columns = [c for c in self.columns if c.export]
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_sheet_title(str(self.title or self.endpoint)))
        for i, c in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, len(str(c.label)) * 2 + 4)
        ws.append([str(c.label) for c in columns])
        for row in rows:
            ws.append([cell_value(c.value(row)) for c in columns])
        buffer = io.BytesIO()
        wb.save(buffer)
        list_exported.send(
            self.endpoint,
            rows=len(rows),
            filters={k: str(v) for k, v in self.keep.items()},
        )
        name = filename or f"{self.title or self.endpoint}-{_today_code()}.xlsx"
        return downloads.file_answer(buffer.getvalue(), name, downloads.XLSX, no_store=True)

    # --- URLs for the template -----------------------------------------------------------

    def url(self, **changes: Any) -> str:
        """This list's URL with its filters, sort and page size, and `changes` applied."""
        values: dict[str, Any] = dict(self.keep)
        if self.sort:
            values["sort"] = self.sort
            if self.desc:
                values["dir"] = "desc"
        if self.per_page != self.default_size:
            values["per_page"] = self.per_page
        if self.page > 1:
            values["page"] = self.page
        values.update(changes)
        values = {k: v for k, v in values.items() if v not in (None, "")}
        return url_for(self.endpoint, **self.url_values, **values)

    def sort_url(self, key: str) -> str:
        """Sorting by `key` (again: the other direction); back to the first page."""
        desc = "" if self.sort != key or self.desc else "desc"
        return self.url(sort=key, dir=desc, page=None)

    def export_url(self) -> str:
        return self.url(export="xlsx", page=None, per_page=None)

    def hidden_fields(self, *skip: str) -> list[tuple[str, str]]:
        """The sort and page size as hidden inputs, for a filter form to keep them."""
        fields = []
        if self.sort and "sort" not in skip:
            fields.append(("sort", self.sort))
            if self.desc:
                fields.append(("dir", "desc"))
        if "per_page" not in skip:
            fields.append(("per_page", str(self.per_page)))
        return fields

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def cell_value(value: Any) -> Any:
    """A cell Excel shows as people read it: text, numbers and dates kept; enums labelled
    by their caller; timezone-aware times made naive (Excel has no zones)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, enum.Enum):
        value = value.value
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):  # formula injection: shown as text, never run
        text = "'" + text
    return text[:_CELL_MAX]


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet"


def _today_code() -> str:
    from portal.kernel import clock

    return clock.today().isoformat()
