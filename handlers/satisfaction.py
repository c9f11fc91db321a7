"""The teacher's satisfaction on every door, and what a low rating sets off (DOMAIN.md §8).

Chat and Telegram rate with buttons, a mail with « 4/5 » or with a link to `/avis/<token>`:
the page shows the ticket and five buttons, and only the click (a POST) records the rating —
a link scanner that opens every URL of a mail (GET) records nothing. The token is random,
unique per ticket, made when the first link is written; it rates that ticket only, for its
requester, once.

A rating at or under `LOW_RATING` tells the supervisors of the ticket's organisation (its own
address when it has none on the roll), by mail, once per ticket: someone calls the teacher back.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.models import Agent, Organisation, Requester, Ticket
from domain.vocabulary import AgentRole, Channel

__all__ = ["LOW_RATING", "RATING_PATH", "rating_link", "tell_supervisors_of_low_rating", "ticket_for_rating"]

#: 1 or 2 out of 5 calls for a supervisor's attention.
LOW_RATING = 2
RATING_PATH = "/avis/"
_SIGNATURE = "— Le guichet numérique des écoles"


async def rating_link(session: AsyncSession, ticket_id: int, public_url: str) -> str | None:
    """The address where the requester of `ticket_id` rates it (its token made on first use)."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or not public_url:
        return None
    if ticket.rating_token is None:
        ticket.rating_token = secrets.token_urlsafe(24)
        await session.flush()
    return f"{public_url.rstrip('/')}{RATING_PATH}{ticket.rating_token}"


async def ticket_for_rating(session: AsyncSession, token: str) -> Ticket | None:
    """The ticket a rating link names, with its organisation; None for an unknown or malformed token."""
    if not token or len(token) > 43 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return await session.scalar(
        select(Ticket).options(selectinload(Ticket.organisation)).where(Ticket.rating_token == token))


async def tell_supervisors_of_low_rating(session: AsyncSession, ticket: Ticket, score: int, *,
                                         comment: str | None = None) -> int:
    """Queue one mail per supervisor of the ticket's organisation (or to its address); how many."""
    if score > LOW_RATING:
        return 0
    supervisors = (await session.execute(
        select(Agent.id, Agent.email, Agent.name).where(
            Agent.organisation_id == ticket.organisation_id, Agent.active.is_(True),
            Agent.role == AgentRole.SUPERVISOR.value).order_by(Agent.id))).all()
    recipients = [(f"agent:{agent_id}", email, name) for agent_id, email, name in supervisors]
    if not recipients:
        address = await session.scalar(select(Organisation.email).where(Organisation.id == ticket.organisation_id))
        recipients = [("org", address, None)] if address else []
    requester = await session.get(Requester, ticket.requester_id) if ticket.requester_id else None
    who = requester.name if requester is not None and requester.name else "Le demandeur"
    queued = 0
    for key, email, name in recipients:
        body = (
            f"{'Bonjour ' + name + ',' if name else 'Bonjour,'}\n\n"
            f"{who} a donné la note de {score}/5 au traitement de la demande {ticket.reference} "
            f"« {ticket.subject} ».\n"
            + (f"Son commentaire : « {comment} »\n" if comment else "")
            + "\nUn rappel de l'école permet souvent de comprendre ce qui n'a pas été : vous retrouvez "
            "la demande et son historique dans la file de votre organisation sur le guichet.\n\n"
            f"{_SIGNATURE}\n"
        )
        row = await repo.enqueue(
            session, channel=Channel.EMAIL.value, recipient=email, ticket_id=ticket.id, body=body,
            subject=f"[Guichet] {ticket.reference} — note de satisfaction {score}/5",
            payload={"kind": "mail-reply", "notice": "low_rating", "score": score},
            dedupe_key=f"low-rating:{ticket.id}:{key}")
        queued += row is not None
    return queued
