"""The supervisor's reports over the tickets in scope (DOMAIN.md §1, §6)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.kb_store import deflection_stats, feedback_stats
from desk.models import Commune, School, Ticket, TicketEvent
from domain.vocabulary import PAUSED_TICKET_STATUSES, Intent
from handlers.agent_queue import AT_RISK_WINDOW, OPEN_VALUES, due_expr
from handlers.agent_scope import Actor, ticket_scope
from handlers.satisfaction import LOW_RATING

#: Thefts/damages in the period from which a school is flagged as unusual.
UNUSUAL_INCIDENTS = 3

_PAUSED = tuple(s.value for s in PAUSED_TICKET_STATUSES)


@dataclass(frozen=True, slots=True)
class Resolution:
    count: int
    mean_hours: float | None
    median_hours: float | None


@dataclass(frozen=True, slots=True)
class TutorialRow:
    """One article's offers before a ticket and its « Cet article vous a-t-il aidé ? » votes."""

    slug: str
    title: str
    offered: int
    solved: int
    not_solved: int
    helpful: int
    not_helpful: int

    @property
    def rate(self) -> float | None:
        """Share of offers that avoided a ticket; None when the article was never offered."""
        return self.solved / self.offered if self.offered else None


@dataclass(frozen=True, slots=True)
class TutorialReport:
    """Tutorial deflection over the period, overall and per article (territory-wide data)."""

    offered: int
    solved: int
    not_solved: int
    rows: tuple[TutorialRow, ...]

    @property
    def rate(self) -> float | None:
        return self.solved / self.offered if self.offered else None


async def build_tutorial_report(
    session: AsyncSession, since: datetime, titles: Mapping[str, str]
) -> TutorialReport:
    """Deflections and votes since `since`, one row per article met in either, most offered first.

    Deflections carry no organisation: every supervisor sees the same, non-sensitive figures.
    `titles` maps slugs to article titles; a slug no longer in the knowledge base shows as is.
    """
    deflections = await deflection_stats(session, since)
    votes = {row.slug: row for row in await feedback_stats(session, since)}
    offers = {row.slug: row for row in deflections.articles}
    rows = []
    for slug in offers.keys() | votes.keys():
        offer, vote = offers.get(slug), votes.get(slug)
        rows.append(TutorialRow(
            slug=slug, title=titles.get(slug, slug),
            offered=offer.offered if offer else 0, solved=offer.solved if offer else 0,
            not_solved=offer.not_solved if offer else 0,
            helpful=vote.helpful if vote else 0, not_helpful=vote.not_helpful if vote else 0,
        ))
    rows.sort(key=lambda r: (-r.offered, -(r.helpful + r.not_helpful), r.title.casefold(), r.slug))
    return TutorialReport(deflections.offered, deflections.solved, deflections.not_solved, tuple(rows))


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The requesters' ratings of the tickets opened in the period (one per ticket, 1 to 5)."""

    count: int
    mean: float | None
    #: How many ratings gave 1, 2, 3, 4 and 5.
    by_score: tuple[int, int, int, int, int]
    #: The tickets rated at or under the low mark: reference, subject, score (worst first).
    low: list[tuple[str, str, int]]

    @property
    def satisfied(self) -> float | None:
        """Share of ratings of 4 or 5."""
        return (self.by_score[3] + self.by_score[4]) / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    days: int
    by_status: list[tuple[str, int]]
    by_intent: list[tuple[str, int]]
    by_commune: list[tuple[str, int]]
    by_school: list[tuple[str, str, int]]
    breached: int
    at_risk: int
    open_total: int
    resolution: Resolution
    resolution_by_intent: list[tuple[str, Resolution]]
    incidents_by_commune: list[tuple[str, int, int]]  # commune, thefts, damages
    unusual_schools: list[tuple[str, str, int]]
    by_equipment: list[tuple[str | None, int]]
    by_channel: list[tuple[str, int]]
    satisfaction: Satisfaction


def _resolution(hours: list[float]) -> Resolution:
    if not hours:
        return Resolution(0, None, None)
    return Resolution(len(hours), round(statistics.fmean(hours), 1), round(statistics.median(hours), 1))


async def build_report(session: AsyncSession, actor: Actor, days: int = 60, now: datetime | None = None) -> Report:
    """Counts for the last `days` days, and the SLA state of the open tickets now."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    scope = ticket_scope(actor)
    period = (scope, Ticket.opened_at >= since)

    async def grouped(*columns, joins=(), where=()) -> list[tuple]:
        stmt = select(*columns, func.count(Ticket.id)).select_from(Ticket)
        for target, on in joins:
            stmt = stmt.join(target, on)
        stmt = stmt.where(*period, *where).group_by(*columns).order_by(func.count(Ticket.id).desc())
        return [tuple(r) for r in (await session.execute(stmt)).all()]

    school_join = (School, Ticket.school_id == School.id)
    commune_join = (Commune, School.commune_id == Commune.id)
    by_status = await grouped(Ticket.status)
    by_intent = await grouped(Ticket.intent)
    by_commune = await grouped(Commune.name, joins=(school_join, commune_join))
    by_school = (await grouped(School.name, School.uai, joins=(school_join,)))[:20]
    by_equipment = await grouped(Ticket.equipment)
    by_channel = await grouped(Ticket.channel)
    satisfaction = await _satisfaction(session, period)

    due = due_expr()
    open_scope = (scope, Ticket.status.in_(OPEN_VALUES))
    open_total = await session.scalar(select(func.count(Ticket.id)).where(*open_scope)) or 0
    breached_count = await session.scalar(select(func.count(Ticket.id)).where(
        *open_scope, due <= now, Ticket.status.not_in(_PAUSED))) or 0
    at_risk = await session.scalar(select(func.count(Ticket.id)).where(
        *open_scope, due > now, due <= now + AT_RISK_WINDOW, Ticket.status.not_in(_PAUSED))) or 0

    per_intent: dict[str, list[float]] = {}
    for intent, opened, resolved in (await session.execute(
        select(Ticket.intent, Ticket.opened_at, Ticket.resolved_at).where(
            scope, Ticket.resolved_at.is_not(None), Ticket.resolved_at >= since)
    )).all():
        per_intent.setdefault(intent, []).append((resolved - opened).total_seconds() / 3600)
    every = [h for hours in per_intent.values() for h in hours]

    incidents: dict[str, list[int]] = {}
    for commune, intent, count in await grouped(
        Commune.name, Ticket.intent, joins=(school_join, commune_join),
        where=(Ticket.intent.in_([Intent.THEFT.value, Intent.DAMAGE.value]),),
    ):
        incidents.setdefault(commune, [0, 0])[0 if intent == Intent.THEFT else 1] += count
    unusual = [row for row in await grouped(
        School.name, School.uai, joins=(school_join,),
        where=(Ticket.intent.in_([Intent.THEFT.value, Intent.DAMAGE.value]),),
    ) if row[2] >= UNUSUAL_INCIDENTS]

    return Report(
        since=since, days=days, by_status=by_status, by_intent=by_intent, by_commune=by_commune,
        by_school=by_school, breached=breached_count, at_risk=at_risk, open_total=open_total,
        resolution=_resolution(every),
        resolution_by_intent=sorted(((i, _resolution(h)) for i, h in per_intent.items()),
                                    key=lambda item: -item[1].count),
        incidents_by_commune=sorted(((c, t, d) for c, (t, d) in incidents.items()),
                                    key=lambda row: -(row[1] + row[2])),
        unusual_schools=unusual, by_equipment=by_equipment, by_channel=by_channel, satisfaction=satisfaction,
    )


async def _satisfaction(session: AsyncSession, period: tuple) -> Satisfaction:
    rows = (await session.execute(
        select(Ticket.reference, Ticket.subject, TicketEvent.data)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(*period, TicketEvent.kind == "satisfaction").order_by(TicketEvent.id))).all()
    scores: dict[str, tuple[str, int]] = {}
    for reference, subject, data in rows:
        score = (data or {}).get("score")
        if isinstance(score, int) and 1 <= score <= 5:
            scores.setdefault(reference, (subject, score))  # one rating per ticket: the first
    values = [score for _, score in scores.values()]
    counts = tuple(values.count(n) for n in range(1, 6))
    low = sorted(((ref, subject, score) for ref, (subject, score) in scores.items() if score <= LOW_RATING),
                 key=lambda row: (row[2], row[0]))
    return Satisfaction(len(values), round(statistics.fmean(values), 1) if values else None,
                        counts, low)  # type: ignore[arg-type]
