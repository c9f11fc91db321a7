"""Recognise a delivery report (DSN, or the plain-text kind of qmail, Exim, Lotus…) and read it."""

from __future__ import annotations

import re
from email.message import Message

from bot.email.threading import references_in
from handlers.email_bounces import Bounce

__all__ = ["read_bounce"]

_DAEMON = re.compile(r"^\s*\"?(mailer[-_ ]?daemon|mail delivery (subsystem|system)|post_?master|"
                     r"mail[-_ ]?daemon)\b", re.I)
_SUBJECT = re.compile(
    r"(undeliver|undelivered mail|returned mail|delivery (status notification|failure|has failed)|"
    r"mail delivery failed|failure notice|non remis|non distribu|échec de (la )?remise|"
    r"unzustellbar|nicht zustellbar|delivery report|could not be delivered)", re.I)
_OUR_ID = re.compile(r"<guichet\.\d{4}-\d{3,7}\.[A-Za-z0-9_-]+@[^>\s]+>")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def read_bounce(msg: Message, *, from_text: str, subject: str, return_path: str | None,
                text: str, domain: str, x_failed: str = "") -> Bounce | None:
    """The delivery report this mail is, or None (a person's mail, or an auto-reply)."""
    report = _report_part(msg)
    null_sender = return_path is not None and return_path.strip() in ("", "<>")
    failure_subject = bool(_SUBJECT.search(subject))
    if not (report is not None or _DAEMON.match(from_text) or x_failed or (null_sender and failure_subject)):
        return None
    fields = _fields(report)
    recipients = [_ADDR.search(v).group(0).lower() for v in
                  fields.get("final-recipient", []) + fields.get("original-recipient", []) if _ADDR.search(v)]
    actions = [a.strip().lower() for a in fields.get("action", [])]
    statuses = [s.strip() for s in fields.get("status", [])]
    status = statuses[0] if statuses else (_STATUS.search(text).group(1) if _STATUS.search(text) else None)
    if actions:
        permanent = "failed" in actions
    else:
        permanent = (status or "").startswith("5.") or (status is None and (failure_subject or bool(x_failed)))
    if x_failed:
        recipients += [a.lower() for a in _ADDR.findall(x_failed)]
    diagnostic = fields.get("diagnostic-code", [None])[0]
    if diagnostic:
        diagnostic = re.sub(r"\s+", " ", diagnostic.split(";", 1)[-1]).strip()[:300]
    ids = _OUR_ID.findall(text) + _OUR_ID.findall(_embedded_headers(msg))
    return Bounce(
        recipients=tuple(dict.fromkeys(recipients))[:5], status=status, diagnostic=diagnostic or None,
        permanent=permanent, references=tuple(references_in(ids, domain)),
    )


def _report_part(msg: Message) -> Message | None:
    try:
        for part in msg.walk():
            if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
                return part
        if msg.get_content_type() == "multipart/report" and \
                (msg.get_param("report-type") or "").lower() == "delivery-status":
            return msg
    except Exception:  # noqa: BLE001 - a broken structure is simply not a report
        return None
    return None


def _fields(part: Message | None) -> dict[str, list[str]]:
    """The per-recipient fields of a message/delivery-status part, lower-cased names."""
    found: dict[str, list[str]] = {}
    if part is None or part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
        return found
    try:
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        texts = [str(b) for b in blocks] or [str(payload)]
    except Exception:  # noqa: BLE001
        return found
    for text in texts:
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() and " " not in name.strip():
                found.setdefault(name.strip().lower(), []).append(value.strip())
    return found


def _embedded_headers(msg: Message) -> str:
    """Headers of the returned message (message/rfc822 or text/rfc822-headers), as text."""
    out: list[str] = []
    try:
        for part in msg.walk():
            kind = part.get_content_type()
            if kind in ("message/rfc822", "message/global"):
                inner = part.get_payload()
                for item in inner if isinstance(inner, list) else []:
                    out.extend(f"{k}: {v}" for k, v in item.raw_items())
            elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    out.append(data.decode("ascii", "replace"))
    except Exception:  # noqa: BLE001
        pass
    return "\n".join(out)
