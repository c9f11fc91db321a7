"""Article votes and deflection statistics on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from desk.kb_store import (
    DeflectionOutcome,
    deflection_stats,
    feedback_stats,
    record_deflection,
    record_feedback,
)
from desk.models import ArticleFeedback, Deflection

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


async def test_feedback_round_trips(db) -> None:
    """A vote keeps its article, answer, channel, optional ticket and aware timestamp."""
    async with db.sessions.begin() as session:
        await record_feedback(session, "printer-paper-jam", True, "web", at=NOW)
    async with db.sessions() as session:
        row = await session.scalar(select(ArticleFeedback))
    assert (row.slug, row.helpful, row.channel, row.ticket_id) == ("printer-paper-jam", True, "web", None)
    assert row.created_at == NOW


async def test_unknown_channel_or_outcome_is_refused(db) -> None:
    """Channels and outcomes are vocabulary values, checked before anything is written."""
    async with db.sessions() as session:
        with pytest.raises(ValueError):
            await record_feedback(session, "a", True, "fax")
        with pytest.raises(ValueError):
            await record_deflection(session, "a", "maybe", "web")


async def test_outcome_constraint_holds_in_the_database(db) -> None:
    """Even a direct insert cannot store an outcome outside solved / not_solved."""
    async with db.sessions() as session:
        session.add(Deflection(slug="a", outcome="maybe", channel="web", created_at=NOW))
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_deflection_stats_per_article_and_overall(db) -> None:
    """Rows since the date are counted per article, with each rate and the overall rate."""
    async with db.sessions.begin() as session:
        for outcome in ["solved", "solved", "not_solved"]:
            await record_deflection(session, "projector-no-signal", outcome, "telegram", at=NOW)
        await record_deflection(session, "internet-down", DeflectionOutcome.NOT_SOLVED, "webchat", at=NOW)
        await record_deflection(session, "internet-down", "solved", "webchat", at=NOW - timedelta(days=40))
    async with db.sessions() as session:
        stats = await deflection_stats(session, NOW - timedelta(days=30))
    assert [(a.slug, a.offered, a.solved, a.not_solved) for a in stats.articles] == [
        ("projector-no-signal", 3, 2, 1),
        ("internet-down", 1, 0, 1),
    ]
    assert stats.articles[0].rate == pytest.approx(2 / 3)
    assert (stats.offered, stats.solved, stats.not_solved) == (4, 2, 2)
    assert stats.rate == pytest.approx(0.5)


async def test_empty_period_has_zero_rate(db) -> None:
    """No offer means a rate of 0, not a division error."""
    async with db.sessions() as session:
        stats = await deflection_stats(session, NOW)
    assert stats.articles == () and stats.rate == 0.0


async def test_feedback_stats_counts_votes(db) -> None:
    """Votes are summed per article, helpful and not."""
    async with db.sessions.begin() as session:
        for helpful in [True, True, False]:
            await record_feedback(session, "no-sound", helpful, "web", at=NOW)
    async with db.sessions() as session:
        votes = await feedback_stats(session, NOW - timedelta(days=1))
    assert [(v.slug, v.helpful, v.not_helpful) for v in votes] == [("no-sound", 2, 1)]
