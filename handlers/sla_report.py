"""Commitments kept, for the steering committees (convention 2023-2027 art. 8; Saint-Denis art. 8
« indicateurs »): per month of opening, per commitment and per organisation, how many tickets met
their commitment, breached it or are still running, with the median time to the first answer of an
agent and to the resolution.

A ticket breached its commitment when its breach clock fired; it met it when it was resolved (or
closed) without that; otherwise it is still running. The first answer is the first reply or
question an agent wrote to the teacher.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.models import Commune, Organisation, School, SlaClock, Territory, Ticket, TicketEvent
from domain.french import MONTHS_FR, decimal_fr
from domain.labels import SLA_FR
from handlers.agent_scope import Actor, ticket_scope
from handlers.spreadsheet import french_csv

__all__ = ["CommuneCompliance", "ComplianceRow", "compliance", "compliance_by_commune", "compliance_csv", "month_label"]

BREACH = "breach"
_ANSWERS = ("reply", "question")
_DONE = ("resolved", "closed")


def month_label(month: str) -> str:
    """« 2026-09 » → « septembre 2026 »."""
    year, number = month.split("-")
    return f"{MONTHS_FR[int(number) - 1]} {year}"


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    month: str
    policy: str
    organisation: str
    met: int
    breached: int
    running: int
    first_answer_hours: float | None
    resolution_hours: float | None

    @property
    def closed(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        """Share of the decided tickets that met their commitment."""
        return self.met / self.closed if self.closed else None

    @property
    def policy_label(self) -> str:
        return SLA_FR.get(self.policy, self.policy)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _months_back(today: date, count: int) -> date:
    month = today.month - (count - 1)
    year = today.year
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


async def compliance(session: AsyncSession, actor: Actor, months: int = 6,
                     now: datetime | None = None, *, between: tuple[date, date] | None = None) -> list[ComplianceRow]:
    """The last `months` months of opening (this one included), newest first; or the tickets
    opened from `between[0]` to the day before `between[1]` (a committee's two months)."""
    groups = await _grouped(session, actor, months, now, between,
                            lambda row, tz: (row.opened_at.astimezone(tz).strftime("%Y-%m"), row.sla_policy, row.name))
    rows = [ComplianceRow(month, policy, org, *figures) for (month, policy, org), figures in groups.items()]
    rows.sort(key=lambda r: (r.month, r.policy, r.organisation))
    rows.sort(key=lambda r: r.month, reverse=True)
    return rows


@dataclass(frozen=True, slots=True)
class CommuneCompliance:
    """Commitments kept over the period in the schools of one commune (every organisation)."""

    commune: str
    met: int
    breached: int
    running: int
    first_answer_hours: float | None
    resolution_hours: float | None

    @property
    def rate(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None


async def compliance_by_commune(session: AsyncSession, actor: Actor, months: int = 6,
                                now: datetime | None = None) -> list[CommuneCompliance]:
    """The same tickets as `compliance`, per commune of their school, the least kept first."""
    groups = await _grouped(session, actor, months, now, None, lambda row, tz: row.commune or "Sans école")
    rows = [CommuneCompliance(commune, *figures) for commune, figures in groups.items()]
    rows.sort(key=lambda r: (r.rate if r.rate is not None else 2.0, r.commune))
    return rows


async def _grouped(session: AsyncSession, actor: Actor, months: int, now: datetime | None,
                   between: tuple[date, date] | None, key: Callable[[Any, ZoneInfo], Any],
                   ) -> dict[Any, tuple[int, int, int, float | None, float | None]]:
    """Met, breached, running and the two medians of the tickets in scope, grouped by `key`."""
    now = now or utcnow()
    territory = await session.get(Territory, actor.territory_id)
    assert territory is not None
    tz = ZoneInfo(territory.timezone)
    if between is None:
        first, after = _months_back(now.astimezone(tz).date(), max(1, min(months, 36))), None
    else:
        first, after = between
    opened = Ticket.opened_at >= datetime.combine(first, time(), tzinfo=tz)
    if after is not None:
        opened = and_(opened, Ticket.opened_at < datetime.combine(after, time(), tzinfo=tz))
    tickets = (await session.execute(
        select(Ticket.id, Ticket.opened_at, Ticket.resolved_at, Ticket.status, Ticket.sla_policy, Organisation.name,
               Commune.name.label("commune"))
        .join(Organisation, Ticket.organisation_id == Organisation.id)
        .outerjoin(School, Ticket.school_id == School.id).outerjoin(Commune, School.commune_id == Commune.id)
        .where(ticket_scope(actor), Ticket.sla_policy.is_not(None), opened,
               Ticket.merged_into_id.is_(None), Ticket.status != "cancelled"))).all()
    ids = [row.id for row in tickets]
    breached = set((await session.scalars(select(SlaClock.ticket_id).where(
        SlaClock.ticket_id.in_(ids), SlaClock.threshold == BREACH, SlaClock.fired.is_(True))))) if ids else set()
    first_answer: dict[int, datetime] = {}
    if ids:
        for ticket_id, at in (await session.execute(
            select(TicketEvent.ticket_id, TicketEvent.at).where(
                and_(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(_ANSWERS),
                     TicketEvent.actor_kind == "agent")).order_by(TicketEvent.at))).all():
            first_answer.setdefault(ticket_id, at)
    groups: dict[Any, dict[str, list]] = defaultdict(
        lambda: {"met": [], "breached": [], "running": [], "answer": [], "resolution": []})
    for row in tickets:
        group = groups[key(row, tz)]
        if row.id in breached:
            group["breached"].append(row.id)
        elif row.status in _DONE:
            group["met"].append(row.id)
        else:
            group["running"].append(row.id)
        if row.id in first_answer:
            group["answer"].append((first_answer[row.id] - row.opened_at).total_seconds() / 3600)
        if row.resolved_at is not None:
            group["resolution"].append((row.resolved_at - row.opened_at).total_seconds() / 3600)
    return {k: (len(g["met"]), len(g["breached"]), len(g["running"]), _median(g["answer"]), _median(g["resolution"]))
            for k, g in groups.items()}


def compliance_csv(rows: list[ComplianceRow]) -> str:
    """The table as Excel in French opens it: UTF-8 with BOM, `;`, decimal commas."""
    return french_csv(
        ["Mois", "Engagement", "Organisation", "Tenus", "Dépassés", "En cours", "Taux tenu (%)",
         "Première réponse médiane (h)", "Résolution médiane (h)"],
        ([month_label(r.month), r.policy_label, r.organisation, r.met, r.breached, r.running,
          "" if r.rate is None else f"{100 * r.rate:.0f}", decimal_fr(r.first_answer_hours, 1),
          decimal_fr(r.resolution_hours, 1)] for r in rows))
