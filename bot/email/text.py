"""Mail text helpers: robust decoding, HTML to text, quoted replies and signatures stripped."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import nh3
from charset_normalizer import from_bytes
from mailparser_reply import EmailReplyParser

__all__ = ["clean", "decode_bytes", "html_to_text", "one_line", "sanitize_html", "strip_reply"]

# Mail clients label Windows-1252 text as Latin-1 or ASCII; decoding it as 1252 is a superset.
_SUPERSETS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
              "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-15": "iso-8859-15"}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of `data` in its declared charset; a wrong or unknown one falls back, never raises."""
    label = (charset or "").strip().strip('"').lower()
    candidates = [_SUPERSETS.get(label, label)] if label else []
    candidates.append("utf-8")
    for name in candidates:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    guess = from_bytes(data[:200_000]).best()
    if guess is not None and guess.encoding:
        return data.decode(guess.encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def clean(text: str) -> str:
    """Undo the parser's surrogate escapes (raw 8-bit headers) and drop NUL characters."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    return text.replace("\x00", "")


def one_line(text: str, limit: int = 250) -> str:
    """A header-safe single line: CR, LF and other controls become spaces (no header injection)."""
    flat = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]+", " ", clean(text))
    return re.sub(r"\s{2,}", " ", flat).strip()[:limit]


_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "table", "ul", "ol", "hr", "pre"}
_SKIP = {"script", "style", "head", "title"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML mail body (paragraphs kept, markup and scripts dropped)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # noqa: BLE001 - malformed HTML: keep what a crude strip can read
        text = unescape(re.sub(r"<[^>]+>", " ", html))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitize_html(html: str) -> str:
    """The HTML body made safe to display to agents (no scripts, handlers or remote tricks)."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto", "cid"})


_REPLY_PARSER = EmailReplyParser(languages=["fr", "en"])

_SIGNATURE_CUTS = [
    re.compile(r"^-- ?$"),
    re.compile(r"^_{5,}$"),
    re.compile(r"^(envoyé|envoye) (de|depuis) mon ", re.I),
    re.compile(r"^sent from my ", re.I),
    re.compile(r"^(le|on) .{0,200}(a écrit|a ecrit|wrote) ?:$", re.I),
    re.compile(r"^-{2,} ?(original message|message d'origine|message original) ?-{2,}", re.I),
    re.compile(r"^(de|from) ?: .+", re.I),
]
_FORWARD = re.compile(r"^-{3,} ?(?:message transféré|message transfere|forwarded message) ?-{3,}", re.I | re.M)


def strip_reply(text: str) -> str:
    """The new part of a message for triage: quoted replies, signatures and mobile footers cut.

    A forwarded mail keeps the forwarded text: it is the report.
    """
    if _FORWARD.search(text):
        head, forwarded = _FORWARD.split(text, 1)
        return (_cut(head) + "\n\n" + _cut(_drop_forward_headers(forwarded))).strip()
    try:
        replies = _REPLY_PARSER.read(text=text).replies
        latest = replies[0].body if replies else text
    except Exception:  # noqa: BLE001 - the library must never cost us a mail
        latest = text
    return _cut(latest or text)


_FORWARD_HEADER = re.compile(
    r"^(de|from|envoyé|envoye|sent|date|à|a|to|cc|objet|subject) ?:", re.I)


def _drop_forward_headers(text: str) -> str:
    lines = text.strip().splitlines()
    while lines and (_FORWARD_HEADER.match(lines[0].strip()) or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def _cut(text: str) -> str:
    kept: list[str] = []
    for line in text.splitlines():
        bare = line.strip()
        if bare.startswith(">"):
            continue
        if any(p.match(bare) for p in _SIGNATURE_CUTS):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
