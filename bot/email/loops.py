"""Mail that must never be answered automatically: auto-replies, bulk, bounces, our own loops."""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["HeaderLookup", "automated_reason", "is_noreply"]


class HeaderLookup(Protocol):
    def get(self, name: str) -> str: ...
    def all(self, name: str) -> list[str]: ...


_NOREPLY = re.compile(r"^(no[-_.]?reply|ne[-_.]?pas[-_.]?repondre|donotreply|do[-_.]not[-_.]reply)", re.I)
_DAEMONS = re.compile(r"^(mailer-daemon|post_?master|mail-daemon|bounces?)([+@-]|$)", re.I)
_AUTO_SUBJECT = re.compile(
    r"(réponse automatique|reponse automatique|absence du bureau|absent du bureau|"
    r"out of office|automatic reply|auto[- ]?reply|autoreply|abwesenheit|"
    r"delivery status notification|undeliverable|non remis|mail delivery failed|"
    r"échec de la remise|message non distribué|returned mail|undelivered mail|failure notice|"
    r"complaint about message from)", re.I)


def is_noreply(address: str) -> bool:
    """True for addresses that nobody reads (noreply@…, ne-pas-repondre@…)."""
    return bool(_NOREPLY.match(address.partition("@")[0]))


def automated_reason(
    msg: HeaderLookup, *, content_type: str, sender: str | None, return_path: str | None,
    subject: str, ours: str,
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
    if any(_header(msg, name) for name in ("List-Id", "List-Unsubscribe", "List-Subscribe", "X-ML-Name", "X-MLServer")):
        return "mailing list"
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "bounce: empty return path"
    if _header(msg, "X-Failed-Recipients"):
        return "bounce: failed recipients"
    if content_type == "multipart/report":
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


def _header(msg: HeaderLookup, name: str) -> str:
    return msg.get(name).strip()


def _all(msg: HeaderLookup, name: str) -> list[str]:
    return msg.all(name)
