"""Raw RFC 5322 bytes -> IncomingMail: decoded text, sanitised HTML, attachments, threading keys.

Parsing never raises on bad input: broken MIME, unknown charsets and malformed headers yield
what could be read, with the parser's defects listed for the agents.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import EmailMessage, Message
from email.utils import getaddresses

from bot.email.bounces import read_bounce
from bot.email.headers import Headers, sender_address
from bot.email.loops import automated_reason
from bot.email.text import clean, decode_bytes, html_to_text, one_line, sanitize_html, strip_reply
from bot.email.threading import references_in, split_ids, subject_reference
from handlers.email_intake import IncomingMail, MailAttachment, SkippedAttachment

__all__ = ["MailParser", "external_id", "MAX_ATTACHMENT_BYTES", "MAX_PARTICIPANTS"]

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Addresses kept from To/Cc: enough for a school team, not a 10 000-name mailing.
MAX_PARTICIPANTS = 20
NO_SUBJECT = "(sans objet)"


def external_id(raw: bytes) -> str:
    """The de-duplication key: the Message-ID, or a hash of the bytes when there is none."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    msg = email.message_from_bytes(head + b"\n\n", policy=email.policy.compat32)
    value = clean(str(msg.get("Message-ID", "") or "")).strip()
    ids = split_ids(value)
    if ids and len(ids[0]) <= 300:
        return ids[0]
    if value and len(value) <= 300 and "\n" not in value:
        return value
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class MailParser:
    """Turns raw mail into the use case's IncomingMail; `ours` is the desk's own address."""

    def __init__(self, ours: str, *, max_attachment: int = MAX_ATTACHMENT_BYTES) -> None:
        self.ours = ours.lower()
        self.domain = self.ours.rpartition("@")[2] or "localhost"
        self.max_attachment = max_attachment

    def __call__(self, raw: bytes) -> IncomingMail:
        msg = _message(raw)
        headers = Headers(msg, hint=_charset(msg))
        from_text = headers.get("From")
        sender_name, sender = sender_address(from_text)
        subject = one_line(headers.get("Subject")) or NO_SUBJECT
        return_path = headers.get("Return-Path") if "Return-Path" in headers else None
        in_reply_to = split_ids(headers.get("In-Reply-To"))
        references = split_ids(headers.get("References"))
        text, html = _bodies(msg)
        text = _with_forwarded(msg, text)
        attachments, skipped = self._attachments(msg)
        ids = references + [i for i in in_reply_to if i not in references]
        defects = [type(d).__name__ for part in msg.walk() for d in part.defects][:20]
        content_type = _content_type(msg)
        automated = automated_reason(
            headers, content_type=content_type, sender=sender, return_path=return_path,
            subject=subject, ours=self.ours,
        )
        bounce = read_bounce(msg, from_text=from_text, subject=subject, return_path=return_path,
                             text=text, domain=self.domain, x_failed=headers.get("X-Failed-Recipients"))
        if bounce is not None and automated is None:
            automated = "bounce: delivery report"
        return IncomingMail(
            message_id=external_id(raw),
            sender=sender,
            sender_name=sender_name,
            subject=subject,
            text=text,
            triage_text=strip_reply(text, subject=subject),
            html=html,
            to=_addresses(headers, "To", self.ours),
            cc=_addresses(headers, "Cc", self.ours),
            in_reply_to=in_reply_to[0] if in_reply_to else None,
            references=tuple(ids[-MAX_PARTICIPANTS:]),
            thread_refs=tuple(references_in(ids, self.domain)),
            subject_ref=subject_reference(subject),
            automated=automated,
            attachments=tuple(attachments),
            skipped=tuple(skipped),
            defects=tuple(defects),
            bounce=bounce,
            unreadable=None if sender else _why_no_sender(headers, from_text),
        )

    def _attachments(self, msg: EmailMessage) -> tuple[list[MailAttachment], list[SkippedAttachment]]:
        kept: list[MailAttachment] = []
        skipped: list[SkippedAttachment] = []
        try:
            if msg.is_multipart():
                parts = list(msg.iter_attachments())
            else:  # a single-part mail that is a file (a scan sent alone)
                parts = [] if _content_type(msg).startswith(("text/", "message/")) else [msg]
        except Exception:  # noqa: BLE001 - broken structure: no attachments rather than no mail
            parts = []
        for part in _leaves(parts):
            name = one_line(_filename(part) or "piece-jointe", 200) or "piece-jointe"
            content_type = one_line(part.get_content_type(), 127)
            try:
                data = part.get_payload(decode=True) or b""
            except Exception:  # noqa: BLE001
                data = b""
            if isinstance(data, str):
                data = data.encode("utf-8", "replace")
            if not data:
                continue
            if len(data) > self.max_attachment:
                skipped.append(SkippedAttachment(name, len(data)))
                continue
            kept.append(MailAttachment(name, content_type, bytes(data)))
        return kept, skipped


def _leaves(parts: list[Message]) -> list[Message]:
    """Attachments, with nested multiparts (a forwarded mail's files) flattened."""
    out: list[Message] = []
    for part in parts:
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            out.extend(_leaves(list(part.iter_parts())))  # type: ignore[attr-defined]
        else:
            out.append(part)
    return out


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # noqa: BLE001
        return None


_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def _message(raw: bytes) -> EmailMessage:
    """The parsed mail; a stray line inside the header block (a wrapped Exchange header
    without its leading space) would end the headers there, so it is rejoined first."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects):
        return msg  # type: ignore[return-value]
    lines = raw.split(b"\n")
    for n, line in enumerate(lines):
        if not line.strip(b"\r"):
            break
        if n and not _HEADER_LINE.match(line) and line[:1] not in (b" ", b"\t") and any(
                _HEADER_LINE.match(nxt) for nxt in lines[n + 1:n + 4]):
            lines[n] = b" " + line
    repaired = email.message_from_bytes(b"\n".join(lines), policy=email.policy.default)
    return repaired if len(repaired) > len(msg) else msg  # type: ignore[return-value]


def _charset(msg: Message) -> str | None:
    """The top-level charset: the likeliest one for raw 8-bit bytes in the headers."""
    try:
        return msg.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def _content_type(msg: Message) -> str:
    try:
        return msg.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _why_no_sender(headers: Headers, from_text: str) -> str:
    if len(headers) == 0 or not any(n in headers for n in ("from", "subject", "date", "to", "message-id")):
        return "unreadable header block: no RFC 5322 headers found"
    if "from" not in headers:
        return "no sender address: no From header"
    return f"no sender address: From header without an address ({one_line(from_text, 80)!r})"


def _addresses(headers: Headers, name: str, ours: str) -> tuple[str, ...]:
    """Up to MAX_PARTICIPANTS addresses of a header, without ours; parsed lazily for huge lists."""
    found: list[str] = []
    for text in headers.all(name):
        for chunk_start in range(0, len(text), 20_000):
            chunk = text[chunk_start:chunk_start + 20_000]
            try:
                pairs = getaddresses([chunk])
            except Exception:  # noqa: BLE001 - group syntax and other oddities: skip the chunk
                continue
            for _, addr in pairs:
                addr = addr.strip().lower()
                if "@" in addr and addr != ours and addr not in found:
                    found.append(addr[:254])
                    if len(found) >= MAX_PARTICIPANTS:
                        return tuple(found)
    return tuple(found)


def _with_forwarded(msg: EmailMessage, text: str) -> str:
    """A mail forwarded as an attachment (message/rfc822) is the report: its text is appended."""
    if _content_type(msg) == "multipart/report":
        return text
    blocks: list[str] = []
    try:
        parts = [p for p in msg.walk() if p.get_content_type() == "message/rfc822"]
    except Exception:  # noqa: BLE001
        return text
    for part in parts[:3]:
        inner = part.get_payload()
        if not isinstance(inner, list) or not inner or not isinstance(inner[0], EmailMessage):
            continue
        nested = inner[0]
        head = Headers(nested, hint=_charset(nested))
        body, _ = _bodies(nested)
        if body.strip():
            blocks.append("-------- Message transféré --------\n"
                          f"De : {head.get('From')}\nObjet : {one_line(head.get('Subject'))}\n\n{body}")
    return "\n\n".join([text, *blocks]).strip() if blocks else text


def _bodies(msg: EmailMessage) -> tuple[str, str | None]:
    """The plain text (from the HTML when there is no text part) and the sanitised HTML."""
    plain = html = None
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:  # noqa: BLE001
        pass
    if plain is None and html is None and not msg.is_multipart():
        if _content_type(msg).startswith("text/"):
            plain = msg
        elif _content_type(msg).startswith("multipart/"):
            plain, html = _split_by_hand(msg)
    html_text = _decoded(html) if html is not None else None
    text = _decoded(plain) if plain is not None else ""
    if not text.strip() and html_text:
        text = html_to_text(html_text)
    if not text.strip() and msg.is_multipart():
        text = _first_text(msg)
    if _MARKUP.search(text[:2000]):  # HTML sent as text/plain, or a part the parser could not split
        text = html_to_text(text)
    text = _drop_mime_debris(text.replace("\r\n", "\n"))
    return text.strip(), sanitize_html(html_text) if html_text else None


_BOUNDARY_PARAM = re.compile(r"boundary\s*=\s*\"?([^\";\r\n]+)\"?", re.I)


def _split_by_hand(msg: EmailMessage) -> tuple[Message | None, Message | None]:
    """A multipart the parser could not split (an unquoted boundary with `=` in it): split it here."""
    match = _BOUNDARY_PARAM.search(" ".join(v for k, v in msg.raw_items() if k.lower() == "content-type"))
    payload = msg.get_payload()
    if match is None or not isinstance(payload, str):
        return None, None
    plain = html = None
    for chunk in payload.split("--" + match.group(1).strip())[1:]:
        if chunk.startswith("--"):
            break
        part = email.message_from_string(chunk.lstrip("\r\n"), policy=email.policy.default)
        if part.get_content_type() == "text/plain" and plain is None:
            plain = part
        elif part.get_content_type() == "text/html" and html is None:
            html = part
    return plain, html


_MARKUP = re.compile(r"<(?:html|body|head|div|table|p|br|span|font)\b[^>]*>", re.I)
_BOUNDARY_LINE = re.compile(r"^--(?=[^\s]*[A-Za-z0-9])[^\s]{8,}$")
_PART_HEADER = re.compile(r"^(content-[a-z-]+|mime-version)\s*:", re.I)


def _drop_mime_debris(text: str) -> str:
    """Boundary lines and the part headers after them, left by a broken multipart."""
    kept: list[str] = []
    after_boundary = False
    for line in text.split("\n"):
        bare = line.strip()
        if _BOUNDARY_LINE.match(bare):
            after_boundary = True
            continue
        if after_boundary:
            if _PART_HEADER.match(bare) or (line[:1] in (" ", "\t") and bare):
                continue
            after_boundary = False
        kept.append(line)
    return "\n".join(kept)


def _decoded(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if data is None:
        payload = part.get_payload()
        return clean(payload) if isinstance(payload, str) else ""
    return clean(decode_bytes(data, part.get_content_charset()))


def _first_text(msg: EmailMessage) -> str:
    """Last resort for broken structures: the first readable text part anywhere."""
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            body = _decoded(part)
            if body.strip():
                return html_to_text(body) if part.get_content_subtype() == "html" else body
    return ""
