"""digest delivery commands (filled in by its issue)."""
