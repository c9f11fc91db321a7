"""Mail that must never be answered automatically: auto-replies, bulk, bounces, our own loops."""

from __future__ import annotations

import re
from email.message import EmailMessage

__all__ = ["automated_reason", "is_noreply"]

_NOREPLY = re.compile(r"^(no[-_.]?reply|ne[-_.]?pas[-_.]?repondre|donotreply|do[-_.]not[-_.]reply)", re.I)
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounces?)([+@-]|$)", re.I)
_AUTO_SUBJECT = re.compile(
    r"(réponse automatique|reponse automatique|absence du bureau|absent du bureau|"
    r"out of office|automatic reply|auto[- ]?reply|autoreply|abwesenheit|"
    r"delivery status notification|undeliverable|non remis|mail delivery failed|"
    r"échec de la remise|message non distribué)", re.I)


def is_noreply(address: str) -> bool:
    """True for addresses that nobody reads (noreply@…, ne-pas-repondre@…)."""
    return bool(_NOREPLY.match(address.partition("@")[0]))


def automated_reason(
    msg: EmailMessage, *, sender: str | None, return_path: str | None, subject: str, ours: str
) -> str | None:
    """Why this mail was written by a machine (so it gets no answer), or None for a person."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return f"auto-submitted: {auto[:40]}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"precedence: {precedence}"
    if any(v.strip().lower() == ours.lower() for v in _all(msg, "X-Loop")):
        return "x-loop: ours"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return "x-autoreply"
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe"):
        return "mailing list"
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "bounce: empty return path"
    if msg.get_content_type() == "multipart/report":
        return "bounce: delivery report"
    if sender:
        if sender.lower() == ours.lower():
            return "sent by us"
        if _DAEMONS.match(sender.partition("@")[0]):
            return "bounce: mailer daemon"
        if is_noreply(sender):
            return "noreply sender"
    if _AUTO_SUBJECT.search(subject):
        return "auto-reply subject"
    return None


def _header(msg: EmailMessage, name: str) -> str:
    values = _all(msg, name)
    return values[0].strip() if values else ""


def _all(msg: EmailMessage, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name) or []]
    except Exception:  # noqa: BLE001 - a malformed header counts as absent
        return []
