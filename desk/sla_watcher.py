"""The SLA watcher: fires due clock rows once, whatever the number of `guichet serve` processes.

A pass is one transaction: claim up to `batch_size` due rows (oldest first; `FOR UPDATE SKIP
LOCKED` on PostgreSQL, the database write lock taken first on SQLite), then, for each row:

- ticket no longer open: the row is deleted (nothing to say; a reopened ticket gets it back
  from `recompute_clocks`);
- ticket waiting on the teacher: the row is paused (due date cleared until it leaves `waiting`);
- warning or target outside opening hours: the row is held until the next opening;
- otherwise it fires: a `clock` event in the ticket's history, e-mail notices queued in the
  outbox (warning: the owning organisation's agents; target: its supervisors; breach: its
  supervisors and the plan's coordinator, the operator organisation's supervisors), and the
  row marked fired — all in the claiming transaction, so a crash loses or repeats nothing.

A warning or target whose later threshold is already due (after an outage, or held overnight
while the breach passed) fires silently: its event is kept, its notice would only be noise.
Every notice has a unique dedupe key (`sla:{clock}:{agent}`); an agent owed more than
`digest_threshold` notices in one pass gets one digest instead. The watcher keeps no state
in memory: a restart, or a long outage, resumes from the rows, in due order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.clock import utcnow
from desk.lifecycle import OPEN_STATUSES
from desk.loops import run_passes
from desk.models import Agent, Organisation, OutboxMessage, SlaClock, Territory, Ticket, TicketEvent
from desk.sla_store import Threshold, refresh_queue_deadlines
from desk.sla_text import THRESHOLD_LABELS, format_due_fr, policy_label
from domain.vocabulary import PAUSED_TICKET_STATUSES, AgentRole, Channel, TicketStatus

__all__ = ["PassReport", "SlaWatcher", "next_opening"]

log = logging.getLogger(__name__)

#: Notices that wait for opening hours; a breach is recorded and sent at once.
_HELD = frozenset({Threshold.WARNING.value, Threshold.TARGET.value})
_SIGNATURE = "— Guichet, le guichet unique du numérique des écoles"


def next_opening(calendar: Any, now: datetime) -> datetime:
    """`now` when inside opening hours, otherwise the start of the next opening window."""
    for start, _end in calendar.working_intervals(now, None, "business_hours"):
        return max(start, now)
    raise AssertionError("an open-ended calendar walk never runs out")


@dataclass
class PassReport:
    """What one watcher pass (or several, summed) did."""

    claimed: int = 0
    fired: int = 0
    held: int = 0
    paused: int = 0
    skipped: int = 0
    queued: int = 0
    digests: int = 0

    def add(self, other: PassReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Clock:
    id: int
    ticket_id: int
    policy: str
    threshold: str
    due_at: datetime
    deadline: datetime | None


@dataclass(frozen=True)
class _TicketInfo:
    id: int
    reference: str
    subject: str
    status: str
    organisation_id: int
    territory_id: int
    territory_slug: str
    timezone: str


@dataclass(frozen=True)
class _Recipient:
    key: str  # "agent:{id}" or "org:{id}" (the organisation's address when nobody is on its roll)
    email: str
    name: str | None


@dataclass
class _Notice:
    clock: _Clock
    ticket: _TicketInfo
    recipient: _Recipient
    line: str
    subject: str
    body: str


@dataclass
class _Roll:
    """Active agents and addresses of the organisations concerned by one pass."""

    agents: dict[int, list[tuple[int, str, str, str]]] = field(default_factory=dict)
    emails: dict[int, str | None] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    groups: dict[int, int] = field(default_factory=dict)


class SlaWatcher:
    """Fires due SLA clock rows; safe to run in every `guichet serve` process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        calendar_for: Callable[[str], Any],
        operator_for: Callable[[str], str | None] | None = None,
        now: Callable[[], datetime] = utcnow,
        batch_size: int = 1000,
        digest_threshold: int = 5,
        interval: float = 30.0,
        telegram_address_for: Callable[[str, str], str] | None = None,
    ) -> None:
        """`calendar_for(territory_slug)` gives the territory's calendar; `operator_for` its operator's slug;
        `telegram_address_for(territory_slug, chat_id)` the outbox recipient of a chat on that territory's
        bot (the bare chat id when one bot serves)."""
        self._sessions = sessions
        self._telegram_address_for = telegram_address_for or (lambda _slug, chat: chat)
        self._calendar_for = calendar_for
        self._operator_for = operator_for or (lambda _slug: None)
        self._now = now
        self.batch_size = batch_size
        self.digest_threshold = digest_threshold
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        """Run passes until `stop` is set: at once while rows keep coming, else every `interval` seconds."""

        async def one_pass() -> int:
            return (await self.run_once()).claimed

        await run_passes(one_pass, stop, interval=self.interval, batch_size=self.batch_size,
                         name="SLA watcher")

    async def run_until_idle(self, max_passes: int = 1_000_000) -> PassReport:
        """Run passes until no due row is left (catching up after an outage, or in tests)."""
        total = PassReport()
        for _ in range(max_passes):
            report = await self.run_once()
            total.add(report)
            if report.claimed < self.batch_size:
                break
        return total

    async def run_once(self) -> PassReport:
        """One pass in one transaction: claim due rows, then fire, hold, pause or drop each."""
        now = self._now()
        report = PassReport()
        async with self._sessions.begin() as session:
            claimed = await self._claim(session, now)
            report.claimed = len(claimed)
            if not claimed:
                return report
            tickets = await self._tickets(session, {c.ticket_id for c in claimed})
            to_fire: list[_Clock] = []
            drop: list[int] = []
            pause: list[int] = []
            hold: dict[datetime, list[int]] = defaultdict(list)
            openings: dict[str, datetime] = {}
            for clock in claimed:
                ticket = tickets[clock.ticket_id]
                if ticket.status not in OPEN_STATUSES:
                    drop.append(clock.id)
                elif ticket.status in PAUSED_TICKET_STATUSES:
                    pause.append(clock.id)
                elif clock.threshold in _HELD:
                    if ticket.territory_slug not in openings:
                        openings[ticket.territory_slug] = self._opening(ticket.territory_slug, now)
                    opening = openings[ticket.territory_slug]
                    if opening > now:
                        hold[opening].append(clock.id)
                    else:
                        to_fire.append(clock)
                else:
                    to_fire.append(clock)
            if drop:
                await session.execute(delete(SlaClock).where(SlaClock.id.in_(drop)))
            if pause:
                await session.execute(
                    update(SlaClock).where(SlaClock.id.in_(pause)).values(due_at=None, deadline=None)
                )
            for opening, ids in hold.items():
                await session.execute(update(SlaClock).where(SlaClock.id.in_(ids)).values(due_at=opening))
            report.skipped, report.paused = len(drop), len(pause)
            report.held = sum(len(ids) for ids in hold.values())
            if to_fire:
                queued, digests = await self._fire(session, to_fire, tickets, now)
                report.fired, report.queued, report.digests = len(to_fire), queued, digests
            # Dropping, pausing and firing (a fired target) move the queue's deadline; holding does not.
            changed = set(drop) | set(pause) | {c.id for c in to_fire}
            await refresh_queue_deadlines(session, {c.ticket_id for c in claimed if c.id in changed})
        if report.fired or report.held:
            log.info("SLA watcher: %s", report)
        return report

    def _opening(self, territory_slug: str, now: datetime) -> datetime:
        """Next opening of the territory; `now` (no hold) when its calendar cannot be had, so nothing is stuck."""
        try:
            return next_opening(self._calendar_for(territory_slug), now)
        except Exception:
            log.exception("territory %s: no calendar, notices are not held", territory_slug)
            return now

    # --- claiming --------------------------------------------------------------------------

    async def _claim(self, session: AsyncSession, now: datetime) -> list[_Clock]:
        """Lock the oldest due rows that no other watcher holds."""
        dialect = session.get_bind().dialect.name
        stmt = (
            select(SlaClock.id, SlaClock.ticket_id, SlaClock.policy, SlaClock.threshold, SlaClock.due_at,
                   SlaClock.deadline)
            .where(SlaClock.fired.is_(False), SlaClock.due_at <= now)
            .order_by(SlaClock.due_at, SlaClock.id)
            .limit(self.batch_size)
        )
        if dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        # On SQLite every transaction starts with BEGIN IMMEDIATE (desk.db): two watchers
        # queue behind each other instead of both reading the same rows.
        return [_Clock(*row) for row in (await session.execute(stmt)).all()]

    async def _tickets(self, session: AsyncSession, ids: set[int]) -> dict[int, _TicketInfo]:
        result = await session.execute(
            select(Ticket.id, Ticket.reference, Ticket.subject, Ticket.status, Ticket.organisation_id,
                   Ticket.territory_id, Territory.slug, Territory.timezone)
            .join(Territory, Territory.id == Ticket.territory_id)
            .where(Ticket.id.in_(ids))
        )
        return {row[0]: _TicketInfo(*row) for row in result.all()}

    # --- firing ----------------------------------------------------------------------------

    async def _fire(
        self, session: AsyncSession, clocks: list[_Clock], tickets: dict[int, _TicketInfo], now: datetime
    ) -> tuple[int, int]:
        """Record the clock events, queue the notices (or digests) and mark the rows fired."""
        operators = await self._operator_orgs(session, {tickets[c.ticket_id] for c in clocks})
        org_ids = {tickets[c.ticket_id].organisation_id for c in clocks} | set(operators.values())
        roll = await self._roll(session, org_ids)
        siblings = await self._deadlines(session, {c.ticket_id for c in clocks})
        notices: list[_Notice] = []
        events: list[dict[str, Any]] = []
        group_rows: list[dict[str, Any]] = []
        for clock in clocks:
            ticket = tickets[clock.ticket_id]
            phrase = self._phrase(clock, ticket, siblings)
            if self._superseded(clock, siblings, now):
                recipients = []
                phrase += " Pas de notification : un seuil suivant est déjà atteint."
            else:
                recipients = self._recipients(clock, ticket, roll, operators.get(ticket.territory_id))
            events.append({
                "ticket_id": ticket.id, "at": now, "kind": "clock", "actor_kind": "system",
                "body": phrase, "internal": clock.threshold != Threshold.BREACH.value,
                "data": {
                    "clock_id": clock.id, "policy": clock.policy, "threshold": clock.threshold,
                    "deadline": clock.deadline.isoformat() if clock.deadline else None,
                    "notified": [r.email for r in recipients],
                },
            })
            for recipient in recipients:
                notices.append(self._notice(clock, ticket, recipient, phrase))
            group = roll.groups.get(ticket.organisation_id)
            if recipients and group is not None:
                group_rows.append(_group_row(clock, ticket, self._telegram_address_for(
                    ticket.territory_slug, str(group)), phrase, now))
        # Core statements on the tables: the ORM's bulk machinery costs more than the rows here.
        await session.execute(_insert(session, TicketEvent.__table__), events)
        outbox = self._outbox_rows(notices, now) + group_rows
        if outbox:
            await session.execute(
                _insert(session, OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                outbox,
            )
        await session.execute(
            update(SlaClock.__table__)
            .where(SlaClock.__table__.c.id.in_([c.id for c in clocks]))
            .values(fired=True, fired_at=now)
        )
        return len(outbox), sum(1 for row in outbox if row["dedupe_key"].startswith("sla-digest:"))

    async def _operator_orgs(self, session: AsyncSession, tickets: Iterable[_TicketInfo]) -> dict[int, int]:
        """territory id -> id of its operator organisation (the plan's coordinator)."""
        out: dict[int, int] = {}
        for territory_id, slug in {(t.territory_id, t.territory_slug) for t in tickets}:
            operator = self._operator_for(slug)
            if operator is None:
                continue
            org_id = await session.scalar(
                select(Organisation.id).where(Organisation.territory_id == territory_id, Organisation.slug == operator)
            )
            if org_id is not None:
                out[territory_id] = org_id
            else:
                log.warning("territory %s: operator organisation %r is not in the database", slug, operator)
        return out

    async def _roll(self, session: AsyncSession, org_ids: set[int]) -> _Roll:
        roll = _Roll()
        for org_id, email, name, group in (
            await session.execute(
                select(Organisation.id, Organisation.email, Organisation.name, Organisation.telegram_chat_id)
                .where(Organisation.id.in_(org_ids))
            )
        ).all():
            roll.emails[org_id], roll.names[org_id] = email, name
            if group is not None:
                roll.groups[org_id] = group
        agents = await session.execute(
            select(Agent.organisation_id, Agent.id, Agent.email, Agent.name, Agent.role)
            .where(Agent.organisation_id.in_(org_ids), Agent.active.is_(True))
            .order_by(Agent.id)
        )
        for org_id, agent_id, email, name, role in agents.all():
            roll.agents.setdefault(org_id, []).append((agent_id, email, name, role))
        return roll

    async def _deadlines(self, session: AsyncSession, ticket_ids: set[int]) -> dict[tuple[int, str, str], datetime]:
        result = await session.execute(
            select(SlaClock.ticket_id, SlaClock.policy, SlaClock.threshold, SlaClock.deadline).where(
                SlaClock.ticket_id.in_(ticket_ids), SlaClock.deadline.is_not(None)
            )
        )
        return {(t, p, th): d for t, p, th, d in result.all()}

    @staticmethod
    def _superseded(clock: _Clock, siblings: dict[tuple[int, str, str], datetime], now: datetime) -> bool:
        """Whether a later threshold of the same commitment is due too (catching up, or a held notice)."""
        order = [t.value for t in Threshold]
        later = order[order.index(clock.threshold) + 1:] if clock.threshold in order else []
        return any(
            (deadline := siblings.get((clock.ticket_id, clock.policy, t))) is not None and deadline <= now
            for t in later
        )

    def _recipients(
        self, clock: _Clock, ticket: _TicketInfo, roll: _Roll, operator_id: int | None
    ) -> list[_Recipient]:
        """Who hears of this threshold; the organisation's own address when nobody is on its roll."""
        org = ticket.organisation_id
        if clock.threshold == Threshold.WARNING.value:
            roles = {AgentRole.AGENT.value, AgentRole.SUPERVISOR.value}
            orgs = [org]
        else:
            roles = {AgentRole.SUPERVISOR.value}
            orgs = [org]
            if clock.threshold == Threshold.BREACH.value and operator_id is not None and operator_id != org:
                orgs.append(operator_id)
        out: dict[str, _Recipient] = {}
        for org_id in orgs:
            people = [a for a in roll.agents.get(org_id, []) if a[3] in roles]
            for agent_id, email, name, _role in people:
                out.setdefault(f"agent:{agent_id}", _Recipient(f"agent:{agent_id}", email, name))
            if not people and roll.emails.get(org_id):
                out.setdefault(f"org:{org_id}", _Recipient(f"org:{org_id}", roll.emails[org_id] or "", None))
        return list(out.values())

    def _phrase(self, clock: _Clock, ticket: _TicketInfo, siblings: dict[tuple[int, str, str], datetime]) -> str:
        """One French sentence for the history and the notices."""
        label = policy_label(clock.policy)
        when = (lambda at: format_due_fr(at, ticket.timezone) if at else "date inconnue")
        if clock.threshold == Threshold.WARNING.value:
            goal = siblings.get((ticket.id, clock.policy, Threshold.TARGET.value)) or siblings.get(
                (ticket.id, clock.policy, Threshold.BREACH.value)
            )
            return f"Échéance proche ({label}) : à tenir avant {when(goal)}."
        if clock.threshold == Threshold.TARGET.value:
            return f"Objectif de délai atteint ({label}, {when(clock.deadline)}) et le ticket n'est pas résolu."
        return f"Délai dépassé ({label}) : l'échéance était {when(clock.deadline)}."

    def _notice(self, clock: _Clock, ticket: _TicketInfo, recipient: _Recipient, phrase: str) -> _Notice:
        label = THRESHOLD_LABELS.get(clock.threshold, clock.threshold)
        subject = f"[Guichet] {ticket.reference} — {label} : {ticket.subject}"[:300]
        hello = f"Bonjour {recipient.name}," if recipient.name else "Bonjour,"
        body = (
            f"{hello}\n\nTicket {ticket.reference} « {ticket.subject} »\n{phrase}\n\n"
            "Vous pouvez le consulter et le traiter depuis la file de votre organisation sur le guichet.\n\n"
            f"{_SIGNATURE}\n"
        )
        line = f"- {ticket.reference} « {ticket.subject} » : {phrase}"
        return _Notice(clock, ticket, recipient, line, subject, body)

    def _outbox_rows(self, notices: list[_Notice], now: datetime) -> list[dict[str, Any]]:
        """One mail per notice, or one digest per recipient owed more than `digest_threshold`."""
        by_recipient: dict[str, list[_Notice]] = defaultdict(list)
        for notice in notices:
            by_recipient[notice.recipient.key].append(notice)
        rows: list[dict[str, Any]] = []
        base = {"channel": Channel.EMAIL.value, "status": "pending", "attempts": 0, "next_attempt_at": now,
                "created_at": now}
        for key, items in by_recipient.items():
            recipient = items[0].recipient
            if len(items) > self.digest_threshold:
                first = min(n.clock.id for n in items)
                hello = f"Bonjour {recipient.name}," if recipient.name else "Bonjour,"
                rows.append({
                    **base, "recipient": recipient.email, "ticket_id": None,
                    "dedupe_key": f"sla-digest:{key}:{first}",
                    "subject": f"[Guichet] {len(items)} alertes de délai sur vos tickets",
                    "body": (
                        f"{hello}\n\n{len(items)} tickets de votre file demandent votre attention :\n\n"
                        + "\n".join(n.line for n in items)
                        + f"\n\nVous pouvez les traiter depuis la file de votre organisation sur le guichet.\n\n{_SIGNATURE}\n"
                    ),
                    "payload": {"kind": "sla_digest", "clock_ids": [n.clock.id for n in items]},
                })
                continue
            for n in items:
                rows.append({
                    **base, "recipient": recipient.email, "ticket_id": n.ticket.id,
                    "dedupe_key": f"sla:{n.clock.id}:{key.replace('agent:', '')}",
                    "subject": n.subject, "body": n.body,
                    "payload": {"kind": "sla", "clock_id": n.clock.id, "threshold": n.clock.threshold,
                                "ticket": n.ticket.reference},
                })
        return rows


def _group_row(clock: _Clock, ticket: _TicketInfo, recipient: str, phrase: str, now: datetime) -> dict[str, Any]:
    """One message to the organisation's agents' Telegram group, if it has one (never digested)."""
    return {
        "channel": Channel.TELEGRAM.value, "recipient": recipient, "ticket_id": ticket.id,
        "dedupe_key": f"sla:{clock.id}:group:{ticket.organisation_id}", "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now, "subject": None,
        "body": f"⏰ {ticket.reference} — {ticket.subject}\n{phrase}",
        "payload": {"kind": "sla_group", "clock_id": clock.id, "threshold": clock.threshold,
                    "ticket": ticket.reference},
    }


def _insert(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT (both offer ON CONFLICT DO NOTHING)."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)
