"""Joint meetings (联席会议)."""
