"""Notices to teachers (outbox rows) as bot messages: one renderer for every channel.

The same row gives the same text and the same buttons on the web chat and on Telegram
(each adapter then applies its channel's limits): « Le problème est-il résolu ? » with
« Oui / Non » after a resolution, « Répondre » while the desk waits on the teacher,
« Ajouter un message » while the ticket is open.
"""

from __future__ import annotations

from dataclasses import replace

from bot.messages import Outbound
from bot.payloads import button
from desk.outbox import Outgoing
from domain.vocabulary import TicketStatus

__all__ = ["RESOLVED_QUESTION", "render"]

RESOLVED_QUESTION = "Le problème est-il résolu ?"


def render(message: Outgoing, status: TicketStatus | None) -> Outbound:
    """The notice for a ticket now in `status` (None: no ticket).

    A message the dialogue stored whole (`payload["outbound"]`) is sent as it is. Explicit
    payload buttons replace the status's; payload links (a tutorial) are added under them.
    """
    payload = message.payload or {}
    if isinstance(payload.get("outbound"), dict):
        return Outbound.from_json(payload["outbound"])
    if payload.get("buttons"):
        return Outbound.from_json({"text": message.body, **payload})
    notice = _by_status(message, status)
    if payload.get("links"):
        notice = replace(notice, links=notice.links + Outbound.from_json({"links": payload["links"]}).links)
    return notice


def _by_status(message: Outgoing, status: TicketStatus | None) -> Outbound:
    """The buttons the ticket's status calls for."""
    ticket_id = message.ticket_id
    if ticket_id is None or status is None:
        return Outbound(message.body)
    if status is TicketStatus.RESOLVED:
        return Outbound(
            f"{message.body}\n\n{RESOLVED_QUESTION}",
            (button("Oui, c'est réglé", "resolved", "yes", ticket_id),
             button("Non, toujours pas", "resolved", "no", ticket_id)),
        )
    if status is TicketStatus.WAITING:
        return Outbound(message.body, (button("Répondre", "add", ticket_id),))
    if status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
        return Outbound(message.body)
    return Outbound(message.body, (button("Ajouter un message", "add", ticket_id),))
