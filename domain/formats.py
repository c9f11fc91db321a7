"""The desk's identifiers as text: ticket references, asset tags, UAI codes — one pattern each.

Every reader (the NLU, e-mail threading, the dialogue, the API schema) takes its pattern from
here, so a reference above 99999 or a new tag prefix is read the same way everywhere.
"""

from __future__ import annotations

import re

#: A ticket reference `YYYY-NNNNN`: the year, then a number zero-padded to five digits that
#: grows to seven (a territory opening more than 99 999 tickets a year still reads well).
#: Three or four digits are accepted on reading: teachers drop leading zeros.
REFERENCE_PATTERN = r"20\d{2}-\d{3,7}"
REFERENCE_WIDTH = 5

#: An asset tag as printed on the plan's labels: owner prefix, dash, six digits (SEM-004512).
ASSET_TAG_PATTERN = r"[A-Z]{3}-\d{6}"

#: A UAI code: seven digits and a check letter (see `domain.uai` for the check).
UAI_PATTERN = r"\d{7}[A-Z]"

REFERENCE_RE = re.compile(rf"\b({REFERENCE_PATTERN})\b")
ASSET_TAG_RE = re.compile(rf"\b({ASSET_TAG_PATTERN})\b")
UAI_RE = re.compile(rf"\b({UAI_PATTERN})\b")
#: A UAI as people type it: any case, sometimes a space before the letter (`0421234 k`).
UAI_TYPED_RE = re.compile(r"\b(\d{7}\s?[A-Z])\b", re.I)
_REFERENCE_PARTS = re.compile(r"^\s*(20\d{2})-(\d{1,7})\s*$")


def format_reference(year: int, number: int) -> str:
    """The reference of the `number`-th ticket of `year`: `2026-00042`."""
    return f"{year:04d}-{number:0{REFERENCE_WIDTH}d}"


def normalise_reference(raw: str) -> str | None:
    """The stored form of a reference as typed (`2026-42` -> `2026-00042`), None if it is not one."""
    match = _REFERENCE_PARTS.match(raw)
    if match is None:
        return None
    return format_reference(int(match.group(1)), int(match.group(2)))


def find_references(text: str) -> list[str]:
    """Ticket references in a message, normalised, in order of appearance, without repeats."""
    found: list[str] = []
    for match in REFERENCE_RE.finditer(text):
        reference = normalise_reference(match.group(1))
        if reference is not None and reference not in found:
            found.append(reference)
    return found


def find_asset_tags(text: str) -> list[str]:
    """Asset tags in a message (upper case as printed), in order, without repeats."""
    found: list[str] = []
    for match in ASSET_TAG_RE.finditer(text.upper()):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


# --- how many devices a teacher names (« deux tablettes », « 3 PC ») ------------------------

_NUMBER_WORDS = {
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30,
}
#: Devices named in the plural (with or without their accents); « PC » and « souris » do not
#: change in the plural.
_DEVICES_PLURAL = (
    r"tablettes|ipads?|ordinateurs|ordis|portables|pc|postes|(?:vid[ée]o)?projecteurs|vpi|tni|tbi|"
    r"[ée]crans|imprimantes|copieurs|claviers|souris|casques|bornes|appareils|enceintes|webcams|"
    r"visualiseurs|chromebooks|chargeurs|valises|c[âa]bles"
)
_QUANTITY_RE = re.compile(
    rf"\b(\d{{1,3}}|{'|'.join(_NUMBER_WORDS)})\s+(?:[\wéèêàç'-]+\s+)?(?:{_DEVICES_PLURAL})\b", re.I)


def quantity_in(text: str) -> int | None:
    """The number of devices a message names (2 or more), or None when it names one or none.

    « on nous a volé deux tablettes » → 2; « 3 PC ne démarrent plus » → 3; « les deux
    vidéoprojecteurs » → 2. A number that counts something else (« depuis deux jours ») is
    not a quantity: only a number followed by a device, at most one word between them.
    """
    match = _QUANTITY_RE.search(text)
    if match is None:
        return None
    raw = match.group(1).lower()
    value = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    return value if 2 <= value <= 500 else None


_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")
_FRENCH_PHONE = re.compile(r"^0[1-9]\d{8}$")
_INTERNATIONAL_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(raw: str) -> str | None:
    """The stored form of a phone number as typed: French national `0612345678` (from
    « 06 12 34 56 78 », « 06.12.34.56.78 » or « +33 6 12 34 56 78 »), or international `+<digits>`;
    None when it is not a phone number."""
    compact = _PHONE_SEPARATORS.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+33") and len(compact) == 12:
        compact = "0" + compact[3:]
    if _FRENCH_PHONE.match(compact) or _INTERNATIONAL_PHONE.match(compact):
        return compact
    return None


def format_phone(stored: str) -> str:
    """A stored phone number as the French read it: `06 12 34 56 78` (international ones as stored)."""
    if _FRENCH_PHONE.match(stored):
        return " ".join(stored[i:i + 2] for i in range(0, 10, 2))
    return stored
