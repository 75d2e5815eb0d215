"""The district home: the lead's dashboard or the officer's progress, then the panels
that the domain modules register (see portal.ui).

Chart data goes to the page as a JSON block (`<script type="application/json">`, never
executed) that a static script hands to Apache ECharts, so the CSP stays `script-src 'self'`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.duties import queries as duties
from portal.duties.views import status_label
from portal.kernel.clock import today
from portal.kernel.grants import can, requires
from portal.kernel.periods import Period
from portal.kernel.rules import RuleError
from portal.ui import HomePanel, NavItem, home_panels, register_home_panel, register_nav
from portal.workspace import badges, queries  # noqa: F401 - badges register on import

bp = Blueprint("district", __name__, url_prefix="/t/<slug>", template_folder="templates")

register_nav(NavItem(_l("Home"), "district.home", "district.home", order=0))

# The dashboards replace these panels (their numbers are drawn and tabled here).
REPLACED = ("duties/_lead_panel.html", "duties/_officer_panel.html")

ACTION_LABELS = {"open": _l("Open, on time"), "overdue": _l("Overdue"), "done": _l("Done")}


def _period() -> Period:
    raw = request.args.get("period", "")
    if raw:
        try:
            return Period.parse(raw)
        except RuleError:
            pass
    return Period.current()


def chart_data(dash: queries.LeadDashboard) -> dict[str, Any]:
    """What the charts draw, with the URL each bar opens (the filtered list)."""
    code = dash.period.code
    depts = dash.departments
    # Bars link to the duty list: the page builds each URL from `list` and the bar's
    # filters (no url_for per bar).
    return {
        "list": url_for("duties.index"),
        "period": code,
        "departments": {
            "names": [d.name for d in depts],
            "ids": [str(d.department_id) for d in depts],
            "series": [
                {
                    "key": s,
                    "name": status_label(s),
                    "data": [d.counts.get(s, 0) for d in depts],
                }
                for s in queries.STATUSES
            ],
        },
        "trend": {
            "periods": [p.period.label for p in dash.trend],
            "completion": [p.completion for p in dash.trend],
            "signed_off": [p.signed_off_rate for p in dash.trend],
            "links": [
                url_for("duties.index", period=p.period.code, status="accepted") for p in dash.trend
            ],
            "names": [_("Acceptance rate"), _("Sign-off rate")],
        },
        "ranking": {
            "names": [d.name for d in dash.ranking],
            "ids": [str(d.department_id) for d in dash.ranking],
            "series": [
                {
                    "key": "overdue",
                    "name": _("Overdue"),
                    "data": [d.overdue for d in dash.ranking],
                },
                {
                    "key": "returned",
                    "name": status_label("returned"),
                    "data": [d.counts.get("returned", 0) for d in dash.ranking],
                },
            ],
        },
        "actions": {
            "items": [
                {
                    "key": k,
                    "name": str(ACTION_LABELS[k]),
                    "value": dash.actions[k],
                    "link": url_for(
                        "meetings.action_items",
                        status="done" if k == "done" else "open",
                        **({"overdue": 1} if k == "overdue" else {}),
                    ),
                }
                for k in ("open", "overdue", "done")
            ]
        },
    }


def officer_chart(dash: queries.OfficerDashboard) -> dict[str, Any]:
    code = dash.period.code
    return {
        "progress": {
            "items": [
                {
                    "key": s,
                    "name": status_label(s),
                    "value": dash.counts[s],
                    "link": url_for("duties.index", period=code, status=s),
                }
                for s in queries.STATUSES
            ]
        }
    }


@bp.get("/")
@requires("district.home", status=404)
def home() -> Any:
    period = _period()
    context: dict[str, Any] = {"period": period, "periods": Period.choices(Period.current())}
    if can(current_user, "district.read_all"):
        dash = queries.lead_dashboard(period)
        context.update(
            dash=dash,
            chart=chart_data(dash),
            overdue_rows=duties.rows(duties.duty_query(status="overdue"), limit=10),
            returned_rows=duties.rows(duties.duty_query(status="returned"), limit=10),
            action_labels=ACTION_LABELS,
        )
        template = "district/lead_home.html"
    elif not can(current_user, "duty.read"):
        # town officers and village contacts: no duty may be shown (nor linked) to them
        return render_template("district/area_home.html", panels=home_panels(exclude=REPLACED))
    else:
        dash_o = queries.officer_dashboard(period)
        context.update(dash=dash_o, chart=officer_chart(dash_o), dash_today=today())
        template = "district/officer_home.html"
    return render_template(template, panels=home_panels(exclude=REPLACED), **context)


def _overview_context() -> dict[str, Any]:
    """The district's department names, kept up to a minute (`portal.kernel.memo`)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.kernel import memo
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    def names() -> tuple[str, ...]:
        stmt = sa.select(Department.name).order_by(Department.sort_order, Department.name)
        return tuple(db.session.execute(stmt).scalars())

    current = scope.current()
    key = ("department_names", current.department_id)
    kept = memo.remembered(key, names, current.tenant_id)
    return {"departments": [{"name": name} for name in kept], "user": current_user}


register_home_panel(
    HomePanel("district/_overview_panel.html", "district.home", _overview_context, order=90)
)


def init_app(app: Any) -> None:
    from portal.workspace import online, sessions

    app.register_blueprint(online.bp)
    sessions.init_app(app)
