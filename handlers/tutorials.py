"""What teachers say about the primo-maintenance tutorials: solved or not, helpful or not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from desk.kb_store import DeflectionOutcome, record_deflection, record_feedback
from domain.vocabulary import Channel

__all__ = ["log_deflection", "rate_article"]


async def log_deflection(
    session: AsyncSession, *, slug: str, solved: bool, channel: str,
    requester_id: int | None, ticket_id: int | None, at: datetime,
) -> None:
    """The tutorial offered before a ticket solved the problem (no ticket) or not (`ticket_id`
    is not kept: the deflection table counts outcomes per article)."""
    outcome = DeflectionOutcome.SOLVED if solved else DeflectionOutcome.NOT_SOLVED
    await record_deflection(session, slug, outcome, channel, requester_id=requester_id, at=at)


async def rate_article(session: AsyncSession, slug: str, helpful: bool, channel: Channel) -> None:
    """« Cet article vous a-t-il aidé ? » answered on the article's page."""
    await record_feedback(session, slug, helpful, channel)
