"""The technical committee's bimonthly review of thefts and damages (convention 2023-2027 art. 6).

« Un bilan des vols et dégradations est présenté tous les deux mois » : calendar two-month periods
(January–February, March–April, …), thefts and damages by commune — how many, per school, per
hundred devices of the plan —, the refunds in progress and overdue, the claim files with a step
past its delay, the schools whose frequency calls for « l'amélioration de la sécurisation », and
the previous period beside each figure. Territory-wide for an administrator and for the operator
(SEM owns the equipment), the own tickets of its organisation for a commune's or an OGEC's agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.clock import utcnow
from desk.models import Asset, ClaimStepRecord, Commune, School, Territory, Ticket
from domain.french import MONTHS_FR, decimal_fr
from domain.vocabulary import ClaimStep, Intent, SlaPolicy
from handlers.agent_scope import Actor, reads_every_school
from handlers.claims import ClaimFile, claim_file
from handlers.context import context_for
from handlers.spreadsheet import french_csv

__all__ = ["CommitteeReview", "CommuneRow", "Period", "committee_review", "review_csv"]

_PERIOD = re.compile(r"^\s*(\d{4})-(\d{2})\s*/\s*(\d{4})-(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Period:
    """Two calendar months: `first` is January, March, May, July, September or November."""

    year: int
    first: int

    def __post_init__(self) -> None:
        if self.first not in (1, 3, 5, 7, 9, 11):
            raise ValueError("a period starts in January, March, May, July, September or November")

    @classmethod
    def parse(cls, text: str) -> Period:
        """« 2026-09/2026-10 »; anything else is refused with a French reason."""
        match = _PERIOD.match(text or "")
        if not match:
            raise ValueError("Indiquez la période sous la forme 2026-09/2026-10.")
        y1, m1, y2, m2 = (int(g) for g in match.groups())
        if y1 != y2 or m2 != m1 + 1 or m1 not in (1, 3, 5, 7, 9, 11):
            raise ValueError("Une période couvre deux mois civils : janvier-février, mars-avril, …, novembre-décembre.")
        return cls(y1, m1)

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, day.month if day.month % 2 else day.month - 1)

    @classmethod
    def last_complete(cls, today: date) -> Period:
        return cls.containing(today).previous()

    def previous(self) -> Period:
        return Period(self.year - 1, 11) if self.first == 1 else Period(self.year, self.first - 2)

    @property
    def start(self) -> date:
        return date(self.year, self.first, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        return date(self.year + 1, 1, 1) if self.first == 11 else date(self.year, self.first + 2, 1)

    @property
    def key(self) -> str:
        return f"{self.year}-{self.first:02d}/{self.year}-{self.first + 1:02d}"

    @property
    def label(self) -> str:
        return f"{MONTHS_FR[self.first - 1]}-{MONTHS_FR[self.first]} {self.year}"


@dataclass(frozen=True, slots=True)
class CommuneRow:
    commune: str
    thefts: int
    damages: int
    schools: int
    assets: int
    previous: int

    @property
    def incidents(self) -> int:
        return self.thefts + self.damages

    @property
    def per_school(self) -> float | None:
        return round(self.incidents / self.schools, 2) if self.schools else None

    @property
    def per_100_assets(self) -> float | None:
        return round(100 * self.incidents / self.assets, 2) if self.assets else None


@dataclass(frozen=True, slots=True)
class CommitteeReview:
    period: Period
    previous: Period
    communes: list[CommuneRow]
    #: Schools at or above the territory's threshold in the period: name, UAI, commune, incidents.
    unusual_schools: list[tuple[str, str, str, int]]
    threshold: int
    #: Open claim files (no payment received yet): the amount they owe, and the overdue ones.
    refunds_in_progress_cents: int
    refunds_overdue_cents: int
    files_in_progress: int
    overdue_files: list[ClaimFile]
    late_files: list[ClaimFile]

    @property
    def total(self) -> int:
        return sum(row.incidents for row in self.communes)

    @property
    def previous_total(self) -> int:
        return sum(row.previous for row in self.communes)


def _bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(period.start, time(), tzinfo=tz), datetime.combine(period.end, time(), tzinfo=tz))


async def committee_review(
    session: AsyncSession, actor: Actor, period: Period, now: datetime | None = None,
) -> CommitteeReview:
    """The review of `period` for `actor`, with the previous period beside it."""
    now = now or utcnow()
    territory = await session.get(Territory, actor.territory_id)
    assert territory is not None
    tz = ZoneInfo(territory.timezone)
    rules = context_for(territory.slug).territory.claims
    today = now.astimezone(tz).date()
    scope: ColumnElement[bool] = Ticket.territory_id == actor.territory_id
    if not await reads_every_school(session, actor):
        scope = and_(scope, Ticket.organisation_id == actor.organisation_id)
    incident = and_(scope, Ticket.sla_policy == SlaPolicy.DECLARATION.value,
                    Ticket.intent.in_((Intent.THEFT.value, Intent.DAMAGE.value)))

    async def by_commune(p: Period) -> dict[str, tuple[int, int]]:
        start, end = _bounds(p, tz)
        rows = await session.execute(
            select(Commune.name, Ticket.intent, func.count(Ticket.id))
            .join(School, Ticket.school_id == School.id).join(Commune, School.commune_id == Commune.id)
            .where(incident, Ticket.opened_at >= start, Ticket.opened_at < end)
            .group_by(Commune.name, Ticket.intent))
        out: dict[str, tuple[int, int]] = {}
        for name, intent, count in rows.all():
            thefts, damages = out.get(name, (0, 0))
            out[name] = (thefts + count, damages) if intent == Intent.THEFT else (thefts, damages + count)
        return out

    current, before = await by_commune(period), await by_commune(period.previous())
    names = sorted(set(current) | set(before))
    schools = dict((await session.execute(
        select(Commune.name, func.count(School.id)).join(School, School.commune_id == Commune.id)
        .where(Commune.name.in_(names), School.territory_id == actor.territory_id).group_by(Commune.name))).all())
    assets = dict((await session.execute(
        select(Commune.name, func.count(Asset.id)).join(School, Asset.school_id == School.id)
        .join(Commune, School.commune_id == Commune.id)
        .where(Commune.name.in_(names), Asset.territory_id == actor.territory_id).group_by(Commune.name))).all())
    communes = [CommuneRow(name, *current.get(name, (0, 0)), schools.get(name, 0), assets.get(name, 0),
                           sum(before.get(name, (0, 0)))) for name in names]
    communes.sort(key=lambda row: (-row.incidents, row.commune))

    threshold = rules.security_review_incidents
    start, end = _bounds(period, tz)
    unusual = [(name, uai, commune, count) for name, uai, commune, count in (await session.execute(
        select(School.name, School.uai, Commune.name, func.count(Ticket.id))
        .join(School, Ticket.school_id == School.id).join(Commune, School.commune_id == Commune.id)
        .where(incident, Ticket.opened_at >= start, Ticket.opened_at < end)
        .group_by(School.name, School.uai, Commune.name)
        .having(func.count(Ticket.id) >= threshold)
        .order_by(func.count(Ticket.id).desc(), School.name))).all()]

    paid = select(ClaimStepRecord.ticket_id).where(ClaimStepRecord.step == ClaimStep.PAYMENT_RECEIVED.value)
    open_files = (await session.scalars(
        select(Ticket).where(incident, Ticket.id.not_in(paid)).order_by(Ticket.opened_at))).all()
    files = [f for f in [await claim_file(session, t, rules, today) for t in open_files] if f is not None]
    overdue = [f for f in files if f.payment_due_on is not None and today > f.payment_due_on]
    return CommitteeReview(
        period=period, previous=period.previous(), communes=communes, unusual_schools=unusual,
        threshold=threshold, refunds_in_progress_cents=sum(f.refund_cents for f in files),
        refunds_overdue_cents=sum(f.refund_cents for f in overdue), files_in_progress=len(files),
        overdue_files=overdue, late_files=[f for f in files if f.late],
    )


def review_csv(review: CommitteeReview) -> str:
    """The communes' table as Excel in French opens it: UTF-8 with BOM, `;`, decimal commas."""
    return french_csv(
        ["Période", "Commune", "Vols", "Dégradations", "Total", "Écoles", "Par école", "Matériels",
         "Pour 100 matériels", f"Total {review.previous.label}"],
        ([review.period.label, row.commune, row.thefts, row.damages, row.incidents, row.schools,
          decimal_fr(row.per_school, 2), row.assets, decimal_fr(row.per_100_assets, 2), row.previous]
         for row in review.communes))


def period_choices(today: date, count: int = 6) -> list[Period]:
    """The last `count` complete periods, newest first, then the current one first of all."""
    current = Period.containing(today)
    periods = [current]
    for _ in range(count):
        periods.append(periods[-1].previous())
    return periods

