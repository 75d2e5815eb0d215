"""Care for each household: contact persons, family doctors, check-ups and visits (issue 17)."""
