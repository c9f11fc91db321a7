"""Mail text helpers: robust decoding, HTML to text, quoted replies and signatures stripped."""

from __future__ import annotations

import codecs
import re
from html import unescape
from html.parser import HTMLParser

import nh3
from charset_normalizer import from_bytes
from mailparser_reply import EmailReplyParser

__all__ = ["charset_name", "clean", "decode_bytes", "is_forward_subject", "html_to_text", "one_line", "sanitize_html", "strip_reply"]

# Mail clients label Windows-1252 text as Latin-1 or ASCII; decoding it as 1252 is a superset.
_SUPERSETS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "iso8859-1": "cp1252",
              "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252",
              # Labels that mail software writes and Python's codecs do not know.
              "iso-8859-8-i": "iso-8859-8", "iso-8859-8-e": "iso-8859-8", "iso-8859-6-i": "iso-8859-6",
              "iso-8859-6-e": "iso-8859-6", "x-unknown": "cp1252", "unknown-8bit": "cp1252",
              "x-user-defined": "cp1252", "default": "cp1252", "utf8": "utf-8", "x-gbk": "gb18030",
              "gb2312": "gb18030", "gbk": "gb18030", "x-sjis": "cp932", "shift_jis": "cp932",
              "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "windows-874": "cp874",
              "x-mac-roman": "mac_roman", "macintosh": "mac_roman", "iso-2022-jp": "iso2022_jp_ext"}
#: Multi-byte and 7-bit stateful charsets: their bytes are decoded as declared, not as UTF-8 first.
_AS_DECLARED = ("iso2022", "iso-2022", "utf-7", "utf7", "hz", "gb18030", "cp932", "cp949", "euc",
                "big5", "shift", "utf-16", "utf-32", "utf_16", "utf_32")


def charset_name(label: str | None) -> str:
    """The Python codec for a MIME charset label ('' when there is none)."""
    name = (label or "").strip().strip("\"'").split("*", 1)[0].lower()
    return _SUPERSETS.get(name, name)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of `data`, never raising: UTF-8 first when the label is a single-byte one
    (mislabelled UTF-8 is the commonest mojibake), else the declared charset first."""
    name = charset_name(charset)
    candidates = [name] if name else []
    if name.startswith(_AS_DECLARED):
        candidates.append("utf-8")
    else:
        candidates.insert(0, "utf-8")
    label = (charset or "").strip().strip("\"'").split("*", 1)[0].lower()
    if label and label != name:
        candidates.append(label)  # cp1252 undefined bytes: the declared Latin-1 itself never fails
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    guess = from_bytes(data[:200_000]).best()
    if guess is not None and guess.encoding:
        return data.decode(guess.encoding, errors="replace")
    return data.decode(_known(name), errors="replace")


def _known(name: str) -> str:
    try:
        return codecs.lookup(name).name if name else "cp1252"
    except LookupError:
        return "cp1252"


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
_FORWARD = re.compile(
    r"^[ \t]*(?:-{3,}[ \t]*(?:message transféré|message transfere|forwarded message|original message|"
    r"message d'origine)[ \t]*-{3,}|begin forwarded message[ \t]*:|début du message réexpédié[ \t]*:|"
    r"debut du message reexpedie[ \t]*:)[ \t]*$", re.I | re.M)
#: An Outlook-style header block: « De : … » then « Envoyé : » / « Date : » / « À : » lines.
_HEADER_BLOCK = re.compile(
    r"^[ \t]*(?:de|from)[ \t]?:.+\n(?:[ \t]*(?:envoyé|envoye|sent|date|à|a|to|cc|objet|subject)[ \t]?:.*\n){2,}",
    re.I | re.M)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|r)\s?:\s*)*(?:tr|fwd?|wg|i|rv|enc)\s?:", re.I)


def is_forward_subject(subject: str) -> bool:
    """« TR : », « Fwd: », « FW: », « WG: », « I: »: the sender forwards someone else's mail."""
    return bool(_FORWARD_SUBJECT.match(subject or ""))


def strip_reply(text: str, subject: str = "", _depth: int = 0) -> str:
    """The new part of a message for triage: quoted replies, signatures and mobile footers cut.

    A forwarded mail keeps the forwarded text: it is the report (a director forwarding a
    teacher's mail). Forwards are told by their separator line (KMail, Apple, Outlook,
    Thunderbird) or, for Outlook's bare « De : … Envoyé : … » block, by the subject.
    """
    match = _FORWARD.search(text)
    if match is None and is_forward_subject(subject):
        match = _HEADER_BLOCK.search(text)
    if match is not None and _depth < 5:
        head, forwarded = text[:match.start()], _drop_forward_headers(text[match.end():])
        inner = strip_reply(forwarded, "", _depth + 1)
        return (_cut(head) + "\n\n" + inner).strip()
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
