"""digest schedule commands (filled in by its issue)."""
