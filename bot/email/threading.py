"""Our Message-IDs encode the ticket; subjects carry the tag `[Guichet YYYY-NNNNN]`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from domain.formats import REFERENCE_PATTERN

__all__ = ["message_id_for", "references_in", "subject_reference", "tagged_subject", "split_ids"]

_OUR_ID = re.compile(rf"^<?guichet\.({REFERENCE_PATTERN})\.[A-Za-z0-9_-]+@([^>\s]+)>?$")
_TAG = re.compile(rf"\[Guichet ({REFERENCE_PATTERN})\]", re.I)
_ID = re.compile(r"<[^<>\s]+>")


def message_id_for(reference: str, domain: str, unique: str | None = None) -> str:
    """`<guichet.2026-00042.<unique>@domain>`: any reply naming it leads back to the ticket."""
    return f"<guichet.{reference}.{unique or secrets.token_hex(8)}@{domain}>"


def split_ids(value: str | None) -> list[str]:
    """The `<...>` identifiers of an In-Reply-To or References header, in order."""
    return _ID.findall(value or "")


def references_in(ids: Iterable[str], domain: str) -> list[str]:
    """Ticket references encoded in those of `ids` that we minted (newest first, no repeats)."""
    found: list[str] = []
    for mid in reversed(list(ids)):
        match = _OUR_ID.match(mid.strip())
        if match and match.group(2).lower() == domain.lower() and match.group(1) not in found:
            found.append(match.group(1))
    return found


def subject_reference(subject: str) -> str | None:
    """The ticket reference of a subject tag, if any."""
    match = _TAG.search(subject)
    return match.group(1) if match else None


def tagged_subject(reference: str, subject: str, limit: int = 250) -> str:
    """`[Guichet REF] subject`, never tagged twice."""
    bare = _TAG.sub("", subject).strip() or "(sans objet)"
    return f"[Guichet {reference}] {bare}"[:limit]
