"""Guichet: the one-stop IT desk for primary schools (composition root)."""

__version__ = "0.1.0"
