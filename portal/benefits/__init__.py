"""Benefits (issue 18): entitlements computed from the policy, payment cycles with four eyes,
bank files, arrears and recovery, claims with caps."""

from portal.benefits import audit_actions  # noqa: F401  (registers its audit vocabulary)
