"""Signals: how a lower layer announces something a higher one reacts to.

A domain never imports a domain above it. When policy changes, `policy` sends
`policy_changed` and `duties` (above it) regenerates the half-year's duties; the
platform asks every domain for its statistics through `tenant_statistics`, which each
domain answers for itself. Handlers run inside the sender's unit of work (same
transaction) and connect in their module's `signals.py` or `__init__`.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

policy_changed = _signals.signal(
    "policy-changed",
    doc="""A tenant's policy (a version or a measure) changed.

    sender: the tenant; kwargs: `version` (the PolicyVersion in force), `actor`.
    Receivers return a result object (duties: their GenerationResult) or None.
    """,
)

tenant_onboarded = _signals.signal(
    "tenant-onboarded",
    doc="""A new tenant's policy was loaded during onboarding.

    sender: the tenant; kwargs: `version`, `actor`.
    """,
)

tenant_statistics = _signals.signal(
    "tenant-statistics",
    doc="""The platform asks each domain for its counts of some tenants.

    sender: None; kwargs: `tenant_ids` (a list). Each receiver returns a mapping
    {tenant_id: {name: number}} of its own figures (counts only, never records).
    """,
)

tenant_export = _signals.signal(
    "tenant-export",
    doc="""A tenant's data is being archived; each domain returns its own rows.

    sender: the tenant. Each receiver returns {table name: list of dicts}.
    """,
)

list_exported = _signals.signal(
    "list-exported",
    doc="""A list page was exported to Excel (portal/listing.py).

    sender: the list's endpoint; kwargs: `rows` (how many), `filters` (the URL's filters).
    The audit layer records an "export" event in the same transaction.
    """,
)

platform_figures = _signals.signal(
    "platform-figures",
    doc="""The operator's dashboard asks for platform-wide figures (counts only).

    sender: None. Each receiver returns a mapping {name: number} (the workspace:
    `users_online`). Runs inside a cross-tenant scope.
    """,
)


duty_evidence = _signals.signal(
    "duty-evidence",
    doc="""A duty's page asks the domains above duties for live figures that evidence it.

    sender: the duty. Each receiver returns a list of {"label", "value", "detail",
    "as_of"} (counts only, never records) or None when it has nothing for this duty.
    """,
)


report_figures = _signals.signal(
    "report-figures",
    doc="""A department's report to a meeting is drafted and asks the domains above duties
    for the department's figures of the meeting's period.

    sender: the meeting; kwargs: `department_id`, `period` (kernel Period), `as_of` (date).
    Each receiver returns Markdown lines (a short section, counts and amounts only) or None.
    """,
)


pii_rekey = _signals.signal(
    "pii-rekey",
    doc="""`portal pii rotate-key` re-keys one district (inside its scope and transaction) and
    asks the domains above the register to re-encrypt their own personal values too.

    sender: None. Each receiver re-encrypts its values not under the current key, recomputes
    their blind indexes, and returns a short "<n> <what>" for the command's output, or None.
    """,
)


def responses(signal_results: list[tuple[object, object]]) -> list[object]:
    """The non-None answers of `signal.send(...)`, in receiver order."""
    return [value for _receiver, value in signal_results if value is not None]
