"""UAI codes (« unité administrative immatriculée »): 7 characters and a check letter."""

from __future__ import annotations

import re

# The 23 letters used for the check key: the alphabet without I, O and Q.
_KEY_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"^(\d{7})([A-Z])$")


def check_letter(first_seven: str) -> str:
    """The check letter for the 7 leading digits (Corsica's 2A/2B are coded 620/720)."""
    return _KEY_LETTERS[int(first_seven) % 23]


def normalise_uai(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def is_valid_uai(raw: str) -> bool:
    """True when `raw` is a well-formed UAI whose check letter matches."""
    match = _UAI.match(normalise_uai(raw))
    return bool(match) and check_letter(match.group(1)) == match.group(2)


def make_uai(first_seven: str) -> str:
    """A valid UAI from its 7 leading digits."""
    if not re.fullmatch(r"\d{7}", first_seven):
        raise ValueError(f"expected 7 digits, got {first_seven!r}")
    return first_seven + check_letter(first_seven)
