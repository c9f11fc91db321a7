"""Header values read from the raw bytes: never raises, keeps accents, tolerates sloppy senders.

`email.policy.default` turns raw 8-bit header bytes into U+FFFD and its address parser raises on
some real headers (`To: unlisted-recipients:; (no To-header on input)`); so headers are taken
from the compat32 parse, which keeps the original bytes, and decoded here.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.message import Message
from email.utils import getaddresses

from bot.email.text import charset_name, decode_bytes

__all__ = ["Headers", "decode_header_value", "person_name", "sender_address"]

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_ADDR_SPEC = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _word(match: re.Match[str]) -> str:
    charset, encoding, text = match.group(1).split("*", 1)[0], match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return decode_bytes(data, charset)


def decode_header_value(value: str, hint: str | None = None) -> str:
    """Unfolded text of one raw header value: raw 8-bit bytes and RFC 2047 words decoded."""
    flat = re.sub(r"\r?\n[ \t]", " ", value).replace("\r", "").replace("\n", "")
    try:
        data = flat.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # already text (a str built by hand): keep it
        data = None
    if data is not None and not data.isascii():
        flat = _raw_header_text(data, hint)
    return _ENCODED_WORD.sub(_word, _BETWEEN_WORDS.sub(r"\1\2", flat)).replace("\x00", "")


def _raw_header_text(data: bytes, hint: str | None) -> str:
    """Raw 8-bit header bytes: UTF-8, else the body's charset, else Windows-1252 (never U+FFFD)."""
    for name in ("utf-8", charset_name(hint) or "cp1252", "cp1252"):
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


class Headers:
    """The top-level headers of a mail, decoded on demand; lookups are case-insensitive."""

    def __init__(self, msg: Message, hint: str | None = None) -> None:
        self._items: list[tuple[str, str]] = []
        try:
            self._items = [(str(k).lower(), v if isinstance(v, str) else str(v)) for k, v in msg.raw_items()]
        except Exception:  # noqa: BLE001 - a header block nobody can read yields no headers
            self._items = []
        self._hint = hint

    def __contains__(self, name: str) -> bool:
        return any(k == name.lower() for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def all(self, name: str) -> list[str]:
        return [decode_header_value(v, self._hint) for k, v in self._items if k == name.lower()]

    def get(self, name: str) -> str:
        values = self.all(name)
        return values[0].strip() if values else ""


def sender_address(value: str) -> tuple[str | None, str | None]:
    """(display name, address) of a From value, read as mail clients do, sloppy forms included.

    `Big Bug bb@bug.com` (no angle brackets) is Big Bug at bb@bug.com, not `"big bug bb"@…`.
    """
    value = value.strip()
    pairs = [(n, a) for n, a in getaddresses([value]) if "@" in a]
    name, addr = pairs[0] if pairs else ("", "")
    if not addr or not _ADDR_SPEC.fullmatch(addr):
        match = _ADDR_SPEC.search(value)
        if match is None:
            return person_name(value.strip("<> \"'")), None
        addr = match.group(0)
        name = (value[:match.start()] + " " + value[match.end():])
    addr = addr.strip().strip(".").lower()[:254]
    return person_name(name), addr


def person_name(name: str | None) -> str | None:
    """A display name fit to greet someone with, or None (an address, brackets, empty)."""
    text = re.sub(r"[<>()\[\]\"]", " ", name or "")
    text = re.sub(r"\s+", " ", text).strip(" ,;:'")
    if not text or "@" in text or not any(ch.isalpha() for ch in text) or len(text) > 80:
        return None
    return text
