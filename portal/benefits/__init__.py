"""Benefits (应享待遇与发放): entitlements from the policy, payment cycles, claims."""
