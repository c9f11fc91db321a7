"""Tests read the desk's texts with plain spaces: French typography (domain.french.typography) puts
no-break spaces before « ? ! : ; » and inside « », which has its own tests."""

from __future__ import annotations


def plain(text: str) -> str:
    """`text` with its no-break spaces as plain ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")
