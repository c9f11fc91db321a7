"""What the operators' probes read from the system of record: `/metrics` gauges and `/readyz`.

Counted at scrape time from indexed columns, so every process of a fleet reports the same
figures for the shared database (no counter to keep in step between processes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.migrate import current
from desk.models import InboundMessage, OutboxMessage, SlaClock, Ticket
from desk.outbox import OutboxStatus
from desk.sla_store import Threshold
from domain.vocabulary import InboundStatus

__all__ = ["DeskFigures", "desk_figures", "head_revision", "schema_revision"]


@dataclass(frozen=True)
class DeskFigures:
    """Totals by channel (or status) at one instant."""

    messages_in: dict[str, int] = field(default_factory=dict)
    tickets_opened: dict[str, int] = field(default_factory=dict)
    tickets_resolved: dict[str, int] = field(default_factory=dict)
    tickets_by_status: dict[str, int] = field(default_factory=dict)
    sla_breaches: int = 0
    outbox_backlog: dict[str, int] = field(default_factory=dict)
    outbox_dead: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, int] = field(default_factory=dict)


async def _by(session: AsyncSession, key, *where) -> dict[str, int]:
    query = select(key, func.count()).group_by(key)
    for condition in where:
        query = query.where(condition)
    return {str(k): int(n) for k, n in (await session.execute(query)).all()}


async def desk_figures(sessions: async_sessionmaker[AsyncSession]) -> DeskFigures:
    """Every gauge of `/metrics`, read in one short transaction."""
    async with sessions() as session:
        return DeskFigures(
            messages_in=await _by(session, InboundMessage.channel),
            tickets_opened=await _by(session, Ticket.channel),
            tickets_resolved=await _by(session, Ticket.channel, Ticket.resolved_at.is_not(None)),
            tickets_by_status=await _by(session, Ticket.status),
            sla_breaches=int(await session.scalar(
                select(func.count()).select_from(SlaClock)
                .where(SlaClock.fired.is_(True), SlaClock.threshold == Threshold.BREACH)) or 0),
            outbox_backlog=await _by(session, OutboxMessage.channel,
                                     OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))),
            outbox_dead=await _by(session, OutboxMessage.channel, OutboxMessage.status == OutboxStatus.DEAD),
            quarantine=await _by(session, InboundMessage.channel,
                                 InboundMessage.status == InboundStatus.QUARANTINED),
        )


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once: the code does not change)."""
    from alembic.script import ScriptDirectory

    from desk.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at."""
    return await current(engine)
