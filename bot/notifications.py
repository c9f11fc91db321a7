"""Agents' notices (outbox rows) as bot messages, with the buttons the teacher needs to answer."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Outbound
from bot.payloads import button
from desk.models import Ticket
from desk.outbox import Outgoing
from domain.vocabulary import TicketStatus

RESOLVED_QUESTION = "Le problème est-il résolu ?"


async def render(session: AsyncSession, message: Outgoing) -> Outbound:
    """The notice's text, plus « Oui / Non » after a resolution or « Répondre » when the desk waits.

    Explicit payload buttons replace those; payload links (a tutorial) are added under them.
    """
    payload = message.payload or {}
    if payload.get("buttons"):
        return Outbound.from_json({"text": message.body, **payload})
    notice = await _by_status(session, message)
    if payload.get("links"):
        notice = replace(notice, links=notice.links + Outbound.from_json({"links": payload["links"]}).links)
    return notice


async def _by_status(session: AsyncSession, message: Outgoing) -> Outbound:
    """The buttons the ticket's status calls for."""
    ticket = await session.get(Ticket, message.ticket_id) if message.ticket_id else None
    if ticket is None:
        return Outbound(message.body)
    if ticket.status == TicketStatus.RESOLVED:
        return Outbound(
            f"{message.body}\n\n{RESOLVED_QUESTION}",
            (button("Oui, c'est réglé", "resolved", "yes", ticket.id),
             button("Non, toujours pas", "resolved", "no", ticket.id)),
        )
    if ticket.status == TicketStatus.WAITING:
        return Outbound(message.body, (button("Répondre", "add", ticket.id),))
    if ticket.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
        return Outbound(message.body)
    return Outbound(message.body, (button("Ajouter un message", "add", ticket.id),))
