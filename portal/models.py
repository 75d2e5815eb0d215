"""Import every domain's models so the mapper registry (and Alembic) sees them all.

Each domain registers its tables through its `models` hook (`portal.domains`, in domain
order: tenancy, auth, audit, policy, duties …), so no model is named here."""

from portal import domains

for _module in domains.modules("models"):
    pass

# Each domain's signal receivers (`portal/<domain>/signals.py`) connect when imported.
for _module in domains.modules("signals"):
    pass
