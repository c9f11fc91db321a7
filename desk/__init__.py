"""desk package."""
