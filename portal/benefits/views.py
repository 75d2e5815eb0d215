"""Benefit pages under /t/<slug>/benefits: payment cycles, their lines with reasons, the
steps (compute, review, approve) with confirmation, the bank file and its results, the
funding export, claims. Thin: rules in `operations`/`rules`, reads in `queries`; a cycle
or line out of scope answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import listing
from portal.benefits import bank, bank_layout, exports, operations, queries, reasons
from portal.benefits import claims as claim_ops
from portal.benefits import rules as benefit_rules
from portal.benefits.models import Claim, CycleStatus, PaymentCycle, PaymentLine, mask_account
from portal.benefits.rules import BenefitsError
from portal.kernel import labels, timefmt, uow
from portal.kernel.clock import today
from portal.kernel.downloads import XLSX
from portal.kernel.grants import requires
from portal.kernel.rules import RuleError
from portal.ui import HomePanel, NavItem, register_home_panel, register_nav
from portal.webhelpers import need

bp = Blueprint("benefits", __name__, url_prefix="/t/<slug>/benefits", template_folder="templates")
MAX_UPLOAD = 5 * 1024 * 1024

register_nav(
    NavItem(
        _l("Benefits"), "benefits.index", "benefits.read", order=35, when=benefit_rules.can_read
    )
)


def _lead_panel() -> dict[str, Any]:
    return {"figures": queries.figures()}


register_home_panel(
    HomePanel("benefits/_lead_panel.html", "district.read_all", _lead_panel, order=25)
)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "benefit_reasons": reasons.sentence,
        "benefit_kind_label": lambda v: str(reasons.KIND_LABELS.get(_code(v), v)),
        "benefit_status_label": lambda v: str(reasons.STATUS_LABELS.get(_code(v), v)),
        "cycle_status_label": lambda v: str(reasons.CYCLE_LABELS.get(_code(v), v)),
        "payee_label": lambda v: str(reasons.PAYEE_LABELS.get(_code(v), v)),
        "part_label": lambda v: str(queries.PART_LABELS.get(v, v)),
        "money": reasons.money,
        "benefit_rules": benefit_rules,
    }


def _code(v: Any) -> str:
    return labels.code(v) if v is not None else ""


def _attempt(action: Any) -> uow.Outcome:
    outcome = uow.attempt(action)
    if outcome.error is not None:
        e: RuleError = outcome.error
        flash(f"{e.field}: {e.message}" if e.field else str(e.message), "error")
    return outcome


def _cycle_or_404(cycle_id: str, predicate: Any = benefit_rules.can_read) -> PaymentCycle:
    """The cycle for a user who passes `predicate`; otherwise, or out of scope: 404."""
    need(predicate)
    cycle = queries.get_cycle(cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _int(name: str, default: int, hi: int) -> int:
    try:
        return max(1, min(hi, int(request.args.get(name, default))))
    except ValueError:
        return default


# The cycles as the list's Excel export shows them (Chinese headers, labels).
CYCLE_COLUMNS = [
    listing.Column("month", _l("Month"), lambda c: timefmt.format_month(c.period)),
    listing.Column("status", _l("Status"), lambda c: reasons.CYCLE_LABELS.get(_code(c.status), "")),
    listing.Column("lines", _l("Lines"), lambda c: c.line_count),
    listing.Column("total", _l("Total (yuan)"), lambda c: c.total),
    listing.Column("reviewed_by", _l("Reviewed by"), lambda c: c.reviewed_by_name),
    listing.Column("approved_by", _l("Approved by"), lambda c: c.approved_by_name),
]


@bp.get("/")
@requires("benefits.read", status=404)
def index() -> Any:
    need(benefit_rules.can_read)
    if request.args.get("export") == "xlsx":
        lst = listing.Listing.from_request(
            "benefits.index", CYCLE_COLUMNS, title=_("Payment cycles")
        )
        return lst.export(queries.cycle_select())
    cycles = queries.cycles()
    latest = max((c.period for c in cycles), default=None)
    suggested = (
        (latest.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        if latest
        else today().replace(day=1)
    )
    return render_template(
        "benefits/index.html",
        cycles=cycles,
        figures=queries.figures(),
        suggested=suggested,
    )


@bp.post("/cycles")
@requires("benefits.compute", status=404)
def create() -> Any:
    need(benefit_rules.can_compute)
    raw = (request.form.get("period") or "").strip()
    try:
        month = dt.date.fromisoformat(f"{raw[:7]}-01")
    except ValueError:
        flash(_("Enter the month as YYYY-MM."), "error")
        return redirect(url_for("benefits.index")), 400
    outcome = _attempt(lambda: operations.create_cycle(current_user, month))
    if not outcome.ok:
        return redirect(url_for("benefits.index"))
    shown = month.strftime("%Y-%m")
    flash(_("Payment cycle %(month)s created.", month=shown), "success")
    return redirect(url_for("benefits.cycle", cycle_id=outcome.value.id))


@dataclass(frozen=True)
class _Line:
    """A line with the names its export shows (household number and head, the person)."""

    line: Any
    household: tuple[str, str] | None
    person: str


def _load_lines(stmt: Any, limit: int | None, offset: int) -> list[_Line]:
    rows = listing.scalars(stmt, limit, offset)
    names = queries.household_names({r.household_id for r in rows})
    persons = queries.person_names({r.person_id for r in rows})
    return [_Line(r, names.get(r.household_id), persons.get(r.person_id, "")) for r in rows]


# The cycle's lines as the Excel export shows them: the page's columns, Chinese headers.
LINE_COLUMNS = [
    listing.Column("position", _l("No."), lambda r: r.line.position),
    listing.Column(
        "household",
        _l("Household"),
        lambda r: " ".join(filter(None, [*(r.household or ()), r.person])),
    ),
    listing.Column("payee", _l("Payee"), lambda r: reasons.PAYEE_LABELS.get(_code(r.line.payee))),
    listing.Column(
        "standard",
        _l("Benefit standard"),
        lambda r: f"{r.line.measure_number} {r.line.standard_name}",
    ),
    listing.Column("period", _l("Month"), lambda r: r.line.period),
    listing.Column("kind", _l("Kind"), lambda r: reasons.KIND_LABELS.get(_code(r.line.kind))),
    listing.Column("amount", _l("Amount (yuan)"), lambda r: r.line.amount),
    listing.Column(
        "status", _l("Status"), lambda r: reasons.STATUS_LABELS.get(_code(r.line.status))
    ),
    listing.Column("reasons", _l("Reasons"), lambda r: reasons.sentence(r.line.reasons)),
]


@bp.get("/cycles/<cycle_id>")
@requires("benefits.read", status=404)
def cycle(cycle_id: str) -> Any:
    c = _cycle_or_404(cycle_id)
    sort = request.args.get("sort", "position")
    desc = request.args.get("desc") == "1"
    page = _int("page", 1, 100_000)
    kind = request.args.get("kind", "")
    status = request.args.get("status", "")
    q = (request.args.get("q") or "")[:60]
    if request.args.get("export") == "xlsx":
        # exactly the filtered lines, in the cycle's order (audited by the list kit)
        lst = listing.Listing.from_request(
            "benefits.cycle",
            LINE_COLUMNS,
            keep={"kind": kind, "status": status, "q": q},
            url_values={"cycle_id": c.id},
            title=_("Lines"),
        )
        stmt = queries.line_select(c, kind=kind, status=status, q=q)
        return lst.export(stmt.order_by(PaymentLine.position), _load_lines)
    rows, total = queries.lines(c, kind=kind, status=status, q=q, sort=sort, desc=desc, page=page)
    names = queries.household_names({r.household_id for r in rows})
    persons = queries.person_names({r.person_id for r in rows})
    return render_template(
        "benefits/cycle.html",
        cycle=c,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // queries.PAGE)),
        names=names,
        persons=persons,
        funding=sorted(queries.funding_totals(c).items()),
        filters={"kind": kind, "status": status, "q": q, "sort": sort, "desc": "1" if desc else ""},
        statuses=CycleStatus,
    )


STEPS = {
    "compute": (operations.compute_cycle, _l("Lines computed.")),
    "review": (operations.review_cycle, _l("Cycle reviewed.")),
    "approve": (operations.approve_cycle, _l("Cycle approved.")),
}


@bp.post("/cycles/<cycle_id>/step")
@requires("benefits.read", status=404)
def step(cycle_id: str) -> Any:
    """Compute, review or approve — each needs the confirmation box ticked."""
    c = _cycle_or_404(cycle_id)
    action = request.form.get("action", "")
    if action not in STEPS:
        abort(400)
    fn, done = STEPS[action]

    def act() -> Any:
        if request.form.get("confirm") != "yes":
            raise BenefitsError(_l("Tick the box to confirm this step."), "confirm")
        return fn(current_user, c, request.form.get("row_version"))

    outcome = _attempt(act)
    if outcome.ok:
        flash(str(done), "success")
        return redirect(url_for("benefits.cycle", cycle_id=c.id))
    return redirect(url_for("benefits.cycle", cycle_id=c.id)), outcome.status


@bp.post("/cycles/<cycle_id>/bank-file")
@requires("benefits.pay", status=404)
def bank_file(cycle_id: str) -> Any:
    """The bank disbursement file (full account numbers: the bank needs them); once."""
    c = _cycle_or_404(cycle_id, benefit_rules.can_pay)
    outcome = _attempt(lambda: bank.bank_file(current_user, c, request.form.get("row_version")))
    if not outcome.ok:
        return redirect(url_for("benefits.cycle", cycle_id=c.id)), outcome.status
    return send_file(
        io.BytesIO(outcome.value),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"bank-{c.period:%Y-%m}.xlsx",
    )


@bp.post("/cycles/<cycle_id>/results")
@requires("benefits.pay", status=404)
def results(cycle_id: str) -> Any:
    c = _cycle_or_404(cycle_id, benefit_rules.can_pay)
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD + 1) if upload else b""
    if not data or len(data) > MAX_UPLOAD:
        flash(_("Choose the bank's results file (.xlsx, at most 5 MB)."), "error")
        return redirect(url_for("benefits.cycle", cycle_id=c.id)), 400

    outcome = _attempt(
        lambda: bank.import_results(
            current_user, c, bank.read_results(data), request.form.get("row_version")
        )
    )
    if not outcome.ok:
        return redirect(url_for("benefits.cycle", cycle_id=c.id)), outcome.status
    n = outcome.value
    flash(_("%(paid)d paid, %(failed)d failed, %(pending)d still pending.", **n), "success")
    return redirect(url_for("benefits.cycle", cycle_id=c.id))


@bp.get("/cycles/<cycle_id>/funding.xlsx")
@requires("benefits.export", status=404)
def funding(cycle_id: str) -> Any:
    c = _cycle_or_404(cycle_id, benefit_rules.can_export)
    data = exports.funding_file(current_user, c)
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"funding-{c.period:%Y-%m}.xlsx",
    )


@bp.route("/bank-layout", methods=["GET", "POST"])
@requires("district.configure", status=404)
def bank_file_layout() -> Any:
    """The district lead sets the bank file's columns, order and headings; the form keeps
    the input when it is refused."""
    need(benefit_rules.can_read)
    status = 200
    if request.method == "POST":

        def act() -> Any:
            columns = bank_layout.parse(request.form)
            return bank_layout.set_layout(current_user, columns, request.form.get("row_version"))

        outcome = _attempt(act)
        if outcome.ok:
            flash(_("Bank file layout saved."), "success")
            return redirect(url_for("benefits.bank_file_layout"))
        status = outcome.status
        form = request.form
    else:
        positions = {k: i + 1 for i, (k, _h) in enumerate(bank_layout.layout())}
        headings = dict(bank_layout.layout())
        form = {
            **{f"pos_{k}": positions.get(k, "") for k in bank_layout.FIELDS},
            **{f"head_{k}": headings.get(k, d) for k, d in bank_layout.FIELDS.items()},
        }
    row = bank_layout.current()
    return render_template(
        "benefits/bank_layout.html",
        form=form,
        fields=bank_layout.FIELDS,
        labels=bank_layout.FIELD_LABELS,
        required=bank_layout.REQUIRED,
        row_version=row.row_version if row is not None else 0,
        default=bank_layout.DEFAULT_LAYOUT,
    ), status


# The claims list's columns: its sortable headers and its Excel export (Chinese headers).
CLAIM_COLUMNS = [
    listing.Column(
        "standard", _l("Benefit standard"), lambda c: c.standard_name, Claim.standard_name
    ),
    listing.Column("start", _l("From"), lambda c: timefmt.format_date(c.start), Claim.start),
    listing.Column("end", _l("To"), lambda c: timefmt.format_date(c.end), Claim.end),
    listing.Column("asked", _l("Claimed"), lambda c: c.asked, Claim.asked),
    listing.Column("quantity", _l("Accepted"), lambda c: c.quantity, Claim.quantity),
    listing.Column("amount", _l("Amount (yuan)"), lambda c: c.amount, Claim.amount),
    listing.Column("reasons", _l("Reasons"), lambda c: reasons.sentence(c.reason)),
    listing.Column(
        "entered_at",
        _l("Entered at"),
        lambda c: timefmt.format_datetime(c.entered_at, g.tenant),
        Claim.entered_at,
    ),
]


@bp.route("/claims", methods=["GET", "POST"])
@requires("benefits.read", status=404)
def claims() -> Any:
    """Per-event claims: the list, and (for those who may) the entry form."""
    need(benefit_rules.can_read)
    status = 200
    if request.method == "POST":
        need(benefit_rules.can_claim)
        form = request.form

        def act() -> Any:
            try:
                start = dt.date.fromisoformat(form.get("start", ""))
                end = dt.date.fromisoformat(form.get("end") or form.get("start", ""))
            except ValueError:
                raise BenefitsError(_l("Enter the dates as YYYY-MM-DD."), "start") from None
            household = queries.household_by_number(form.get("household_number", ""))
            if household is None:
                raise BenefitsError(_l("No household with this number."), "household_number")
            person = queries.member(household.id, form.get("relationship", ""))
            return claim_ops.enter_claim(
                current_user,
                household_id=household.id,
                person_id=person.id if person is not None else None,
                standard_key=form.get("standard_key", ""),
                start=start,
                end=end,
                evidence_note=form.get("evidence_note", ""),
            )

        outcome = _attempt(act)
        if outcome.ok:
            for claim in outcome.value:
                if claim.status == "accepted":
                    flash(
                        _(
                            "Claim accepted: %(n)d, %(amount)s yuan.",
                            n=claim.quantity,
                            amount=reasons.money(claim.amount),
                        ),
                        "success",
                    )
                else:
                    flash(_("Claim refused: %(why)s", why=reasons.sentence(claim.reason)), "error")
            return redirect(url_for("benefits.claims"))
        status = outcome.status
    lst = listing.Listing.from_request("benefits.claims", CLAIM_COLUMNS, title=_("Claims"))
    if request.method == "GET" and lst.exporting:
        return lst.export(queries.claim_select(), tiebreak=(Claim.id,))
    claims, _total = lst.fetch(queries.claim_select(), tiebreak=(Claim.id,))
    standards = claim_ops.claimable_standards() if benefit_rules.can_claim(current_user) else []
    return render_template(
        "benefits/claims.html",
        claims=claims,
        listing=lst,
        standards=standards,
        form=request.form,
    ), status


__all__ = ["mask_account"]
