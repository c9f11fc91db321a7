"""Knowledge-base records: article votes, tutorial deflections and their statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.models import ArticleFeedback, Deflection
from domain.vocabulary import Channel


class DeflectionOutcome(StrEnum):
    """Whether the offered tutorial solved the problem (no ticket) or not (ticket opened)."""

    SOLVED = "solved"
    NOT_SOLVED = "not_solved"


@dataclass(frozen=True, slots=True)
class ArticleDeflection:
    """One article's deflection record since a date."""

    slug: str
    offered: int
    solved: int
    not_solved: int

    @property
    def rate(self) -> float:
        """Share of offers that solved the problem, 0 when never offered."""
        return self.solved / self.offered if self.offered else 0.0


@dataclass(frozen=True, slots=True)
class DeflectionStats:
    """Per-article rows (most offered first) and the overall deflection rate."""

    since: datetime
    articles: tuple[ArticleDeflection, ...]

    @property
    def offered(self) -> int:
        return sum(row.offered for row in self.articles)

    @property
    def solved(self) -> int:
        return sum(row.solved for row in self.articles)

    @property
    def not_solved(self) -> int:
        return sum(row.not_solved for row in self.articles)

    @property
    def rate(self) -> float:
        """Overall share of offers that avoided a ticket."""
        return self.solved / self.offered if self.offered else 0.0


@dataclass(frozen=True, slots=True)
class ArticleVotes:
    """« Cet article vous a-t-il aidé ? » answers for one article."""

    slug: str
    helpful: int
    not_helpful: int


async def record_feedback(
    session: AsyncSession,
    slug: str,
    helpful: bool,
    channel: Channel | str,
    ticket_id: int | None = None,
    at: datetime | None = None,
) -> ArticleFeedback:
    """Store one vote (at `at`, default now); the caller commits."""
    row = ArticleFeedback(
        slug=slug, helpful=helpful, channel=Channel(channel).value, ticket_id=ticket_id,
        created_at=at or utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def record_deflection(
    session: AsyncSession,
    slug: str,
    outcome: DeflectionOutcome | str,
    channel: Channel | str,
    requester_id: int | None = None,
    at: datetime | None = None,
) -> Deflection:
    """Store the outcome of one offered tutorial (at `at`, default now); the caller commits."""
    row = Deflection(
        slug=slug,
        outcome=DeflectionOutcome(outcome).value,
        channel=Channel(channel).value,
        requester_id=requester_id,
        created_at=at or utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def deflection_stats(session: AsyncSession, since: datetime) -> DeflectionStats:
    """Offers, solved, not solved and rate per article since `since`, in one grouped query."""
    solved = func.sum(case((Deflection.outcome == DeflectionOutcome.SOLVED.value, 1), else_=0))
    query = (
        select(Deflection.slug, func.count(Deflection.id), solved)
        .where(Deflection.created_at >= since)
        .group_by(Deflection.slug)
        .order_by(func.count(Deflection.id).desc(), Deflection.slug)
    )
    rows = (await session.execute(query)).all()
    return DeflectionStats(
        since=since,
        articles=tuple(
            ArticleDeflection(slug=slug, offered=int(count), solved=int(ok), not_solved=int(count) - int(ok))
            for slug, count, ok in rows
        ),
    )


async def feedback_stats(session: AsyncSession, since: datetime) -> tuple[ArticleVotes, ...]:
    """Helpful / not helpful votes per article since `since`, most voted first."""
    helpful = func.sum(case((ArticleFeedback.helpful.is_(True), 1), else_=0))
    query = (
        select(ArticleFeedback.slug, func.count(ArticleFeedback.id), helpful)
        .where(ArticleFeedback.created_at >= since)
        .group_by(ArticleFeedback.slug)
        .order_by(func.count(ArticleFeedback.id).desc(), ArticleFeedback.slug)
    )
    rows = (await session.execute(query)).all()
    return tuple(
        ArticleVotes(slug=slug, helpful=int(yes), not_helpful=int(count) - int(yes))
        for slug, count, yes in rows
    )
