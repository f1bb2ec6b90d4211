"""The plumbing: which store ``TRACKER_DATABASE`` names (SQLite or PostgreSQL), SQL over it, locks, mail."""
