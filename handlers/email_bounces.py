"""Delivery reports: never answered, never quarantined; the ticket they answer learns of them.

A bounce of one of our acknowledgements or replies says the teacher's address cannot be
reached: the agents read it on the ticket as « Adresse injoignable » (an internal note), so
they can call the school instead of waiting for an answer that will never come.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from desk import repositories as repo
from desk.errors import RecordNotFound
from desk.models import Ticket

__all__ = ["Bounce", "record_bounce", "unreachable_note"]


@dataclass(frozen=True, slots=True)
class Bounce:
    """What a delivery report says: who could not be reached, why, which of our mails bounced."""

    recipients: tuple[str, ...] = ()
    status: str | None = None
    diagnostic: str | None = None
    permanent: bool = True
    #: Ticket references of our own Message-IDs found in the bounced mail.
    references: tuple[str, ...] = ()


def unreachable_note(bounce: Bounce) -> str:
    """The agents' note, in French."""
    who = ", ".join(bounce.recipients) or "l'adresse du demandeur"
    why = " ".join(p for p in (bounce.status, bounce.diagnostic) if p)
    because = f" Motif donné par le serveur : {why}." if why else ""
    return (f"Adresse injoignable : {who}. Le serveur de messagerie n'a pas pu remettre notre "
            f"message.{because} Vérifiez l'adresse ou joignez l'école par un autre moyen.")


async def record_bounce(
    session: AsyncSession, territory_id: int, bounce: Bounce, thread_refs: Iterable[str] = (),
) -> Ticket | None:
    """The ticket the bounced mail belonged to, with the note added when delivery failed for good."""
    for reference in (*bounce.references, *thread_refs):
        try:
            ticket = await repo.ticket_by_reference(session, territory_id, reference)
        except RecordNotFound:
            continue
        if bounce.permanent:
            await repo.add_event(
                session, ticket, "note", internal=True, channel="email", body=unreachable_note(bounce),
                data={"bounce": {"recipients": list(bounce.recipients), "status": bounce.status,
                                 "diagnostic": bounce.diagnostic}},
            )
        return ticket
    return None
