"""The Excel import's pages: upload → map columns → preview → import the valid rows (or
download the rejected ones), and the progress the page polls while a step runs.

Routes on the register blueprint (`portal.register.views.bp`)."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.kernel.downloads import XLSX
from portal.kernel.grants import requires
from portal.register import import_stash, importing, operations
from portal.register import rules as register_rules
from portal.register.views import attempt, bp, need

# -- import ----------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("register.import", status=404)
def import_sheet() -> Any:
    """Upload → map columns → preview with errors → import the valid rows."""
    need(register_rules.can_import)
    if request.method == "GET":
        return render_template(
            "register/import.html", stage="upload", mapping=importing.saved_mapping()
        )
    town_id = operations.officer_town_id(current_user)
    stage = request.form.get("stage", "upload")
    if stage not in ("upload", "preview", "rejected", "import"):
        abort(400)
    outcome = attempt(lambda: _import_step(stage, town_id))
    if not outcome.ok:
        page = render_template(
            "register/import.html", stage="upload", mapping=importing.saved_mapping()
        )
        return page, outcome.status if outcome.status != 404 else 400
    return outcome.value


@bp.get("/import/<token>/progress")
@requires("register.import", status=404)
def import_progress(token: str) -> Any:
    """Rows checked / written so far for the uploader's own sheet (polled by the page)."""
    need(register_rules.can_import)
    found = import_stash.read_progress(token)
    if found is None:
        abort(404)
    return jsonify(found), 200, {"Cache-Control": "no-store"}


def _page(stage: str, token: str, mapping: dict[str, str], **context: Any) -> str:
    """The import page at one of its steps (the mapping form with the fields)."""
    return render_template(
        "register/import.html",
        stage=stage,
        token=token,
        mapping=mapping,
        fields=importing.FIELDS,
        **context,
    )


def _import_step(stage: str, town_id: Any) -> Any:
    if stage == "upload":
        token, headings = import_stash.stash_upload(request.files.get("file"))
        mapping = importing.guess_mapping(headings, importing.saved_mapping())
        return _page("map", token, mapping, headings=headings)
    token = request.form.get("token", "")
    mapping = {f: request.form.get(f"map_{f}", "") for f, _label in importing.FIELDS}
    # the preview checks every row; the later steps reuse its result (duplicates against
    # the register are checked again)
    if stage == "preview":
        result = importing.validate(token, mapping, town_id)
        importing.keep_checked(token, mapping, town_id, result)
    else:
        result = importing.checked(token, mapping, town_id)
    if stage == "preview":
        importing.remember_mapping(mapping)
        return _page("preview", token, mapping, result=result)
    if stage == "rejected":
        return send_file(
            io.BytesIO(importing.rejected_workbook(result)),
            mimetype=XLSX,
            as_attachment=True,
            download_name="rejected.xlsx",
        )
    batch = importing.import_valid(current_user, result, token)
    flash(
        _(
            "%(n)d rows became change requests (batch %(b)s); %(r)d rows were rejected.",
            n=len(result.valid),
            b=batch,
            r=len(result.errors_by_row),
        ),
        "success",
    )
    return redirect(url_for("register.requests_queue"))
