"""The per-message scorer, now the compiled classifier (kept under its former name)."""

from __future__ import annotations

from .compiled import CompiledClassifier as FastScorer

__all__ = ["FastScorer"]
