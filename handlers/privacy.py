"""Personal data of the teachers: retention, the right of access and the right to erasure.

RGPD art. 5.1.e (storage limitation), art. 15 (access), art. 17 (erasure); for Saint-Denis the 2017
convention's art. 5 (« dans le strict respect des recommandations de la CNIL »). What is past the
territory's retention (`privacy:` in its file, `routing.privacy.RetentionRules`) is anonymised: the
texts of the ticket (description, messages, replies, notes), the raw inbound updates and mails,
the outbox rows, the conversation state, the files' bytes and names, then the teacher's name and
channel identities. What the reports count stays: the tickets with their organisation, school,
category, dates, statuses and clocks, the events' kinds and instants, the ratings and the claim
files' figures. `purge` is idempotent (marked rows are skipped) and runs daily in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from desk import locks
from desk.clock import utcnow
from desk.loops import run_passes
from desk.models import (
    Attachment,
    ClaimStepRecord,
    Conversation,
    InboundMessage,
    OutboxMessage,
    Requester,
    RequesterIdentity,
    School,
    Territory,
    Ticket,
    TicketEvent,
)
from domain.addresses import SEPARATOR, split
from domain.vocabulary import InboundStatus, TicketStatus
from routing.privacy import RetentionRules, add_months

__all__ = [
    "ANONYMISED", "PrivacyPurger", "PurgeReport", "erase_requester", "export_requester", "find_requester", "find_requesters", "purge",
    "retention_for",
]

log = logging.getLogger(__name__)

#: What an erased text reads in the timeline.
ANONYMISED = "[anonymisé]"
#: An anonymised ticket's subject (the category, organisation and school stay in their columns).
ANONYMISED_SUBJECT = "Demande anonymisée"
#: An erased file's name.
ERASED_FILE = "fichier-efface"

#: Event kinds whose body is someone's words (the others are the desk's own lines: statuses, clocks).
_TEXT_KINDS = ("created", "message", "reply", "question", "note", "reroute", "claim_step")
#: Of those, the kinds whose data may carry a mail's addresses, subject and HTML.
_MAIL_DATA_KINDS = frozenset({"created", "message", "reply", "question"})
#: Keys of an event's data that hold no personal data and that the desk or its reports still read.
_SAFE_DATA_KEYS = frozenset({
    "attachments", "delivered", "article", "score", "automated", "message_id", "in_reply_to",
    "from_organisation_id", "to_organisation_id",
})
_ENDED = (TicketStatus.CLOSED.value, TicketStatus.CANCELLED.value)
#: Inbound rows still being worked on are left alone.
_INBOUND_BUSY = (InboundStatus.RECEIVED.value, InboundStatus.PROCESSING.value)
_BATCH = 500
_LOCK = "privacy-purge"
_LOCK_TTL = timedelta(hours=1)


@dataclass
class PurgeReport:
    """How many rows one purge anonymised (or would have, with --dry-run)."""

    tickets: int = 0
    events: int = 0
    attachments: int = 0
    inbound: int = 0
    outbox: int = 0
    conversations: int = 0
    requesters: int = 0

    def add(self, other: PurgeReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def summary_fr(self) -> str:
        return (f"{self.tickets} demande(s) anonymisée(s) ({self.events} message(s)), "
                f"{self.attachments} pièce(s) jointe(s) effacée(s), {self.inbound} message(s) reçu(s) "
                f"et {self.outbox} envoi(s) anonymisé(s), {self.conversations} conversation(s) effacée(s), "
                f"{self.requesters} demandeur(s) anonymisé(s)")


def _ended_before(cutoff: datetime) -> Any:
    """The ticket ended (closed or cancelled) before `cutoff`."""
    return and_(Ticket.status.in_(_ENDED), func.coalesce(Ticket.closed_at, Ticket.updated_at) < cutoff)


def _scrub(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return data
    kept = {k: v for k, v in data.items() if k in _SAFE_DATA_KEYS}
    return kept or None


async def _anonymise_tickets(session: AsyncSession, ids: Sequence[int], now: datetime) -> PurgeReport:
    """The texts of these tickets go; their figures stay (the row, its events' kinds and instants)."""
    report = PurgeReport()
    if not ids:
        return report
    ids = list(ids)
    # `updated_at` keeps its value: it is the end of a cancelled ticket, which retention counts from.
    await session.execute(
        update(Ticket).where(Ticket.id.in_(ids))
        .values(subject=ANONYMISED_SUBJECT, description="", anonymised_at=now, updated_at=Ticket.updated_at)
        .execution_options(synchronize_session=False))
    events = (await session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(_TEXT_KINDS)))).all()
    for event in events:
        if event.body is not None:
            event.body = ANONYMISED
        if event.kind in _MAIL_DATA_KINDS:
            event.data = _scrub(event.data)
    report.events = len(events)
    await session.execute(
        update(ClaimStepRecord).where(ClaimStepRecord.ticket_id.in_(ids), ClaimStepRecord.note.is_not(None))
        .values(note=None).execution_options(synchronize_session=False))
    report.inbound = (await session.execute(
        update(InboundMessage).where(InboundMessage.ticket_id.in_(ids), InboundMessage.status.not_in(_INBOUND_BUSY))
        .values(payload={}, sender=None, error=None).execution_options(synchronize_session=False))).rowcount or 0
    report.outbox = (await session.execute(
        update(OutboxMessage).where(OutboxMessage.ticket_id.in_(ids), OutboxMessage.status != "sending")
        .values(recipient="", subject=None, body="", payload=None, last_error=None)
        .execution_options(synchronize_session=False))).rowcount or 0
    report.tickets = len(ids)
    return report


async def _erase_attachments(session: AsyncSession, where: Any, now: datetime) -> int:
    result = await session.execute(
        update(Attachment).where(where, Attachment.erased_at.is_(None))
        .values(content=b"", filename=ERASED_FILE, erased_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


async def _anonymise_requesters(session: AsyncSession, ids: Sequence[int], now: datetime) -> PurgeReport:
    """Name and identities go; the conversations and the messages they sent or received with them."""
    report = PurgeReport()
    if not ids:
        return report
    ids = list(ids)
    identities = (await session.execute(select(RequesterIdentity.channel, RequesterIdentity.external_id).where(
        RequesterIdentity.requester_id.in_(ids)))).all()
    addresses = sorted({external for _, external in identities})
    by_identity = [and_(Conversation.channel == channel, Conversation.external_id == external)
                   for channel, external in identities]
    report.conversations = (await session.execute(
        delete(Conversation).where(or_(Conversation.requester_id.in_(ids), *by_identity))
        .execution_options(synchronize_session=False))).rowcount or 0
    for chunk in _chunks(addresses, _BATCH):
        report.inbound += (await session.execute(
            update(InboundMessage).where(InboundMessage.sender.in_(chunk), InboundMessage.status.not_in(_INBOUND_BUSY))
            .values(payload={}, sender=None, error=None).execution_options(synchronize_session=False))).rowcount or 0
        report.outbox += (await session.execute(
            update(OutboxMessage).where(OutboxMessage.recipient.in_(chunk), OutboxMessage.status != "sending")
            .values(recipient="", subject=None, body="", payload=None, last_error=None)
            .execution_options(synchronize_session=False))).rowcount or 0
    await session.execute(delete(RequesterIdentity).where(RequesterIdentity.requester_id.in_(ids))
                          .execution_options(synchronize_session=False))
    await session.execute(update(Requester).where(Requester.id.in_(ids)).values(name=None, anonymised_at=now)
                          .execution_options(synchronize_session=False))
    report.requesters = len(ids)
    return report


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


async def _purge_territory(session: AsyncSession, territory: Territory, rules: RetentionRules,
                           now: datetime) -> PurgeReport:
    report = PurgeReport()
    of_territory = Ticket.territory_id == territory.id
    files_cutoff = add_months(now, -rules.attachments_months)
    report.attachments += await _erase_attachments(session, Attachment.ticket_id.in_(
        select(Ticket.id).where(of_territory, _ended_before(files_cutoff))), now)
    texts_cutoff = add_months(now, -rules.messages_months)
    while True:
        ids = (await session.scalars(select(Ticket.id).where(
            of_territory, Ticket.anonymised_at.is_(None), _ended_before(texts_cutoff))
            .order_by(Ticket.id).limit(_BATCH))).all()
        report.add(await _anonymise_tickets(session, ids, now))
        if len(ids) < _BATCH:
            break
    people_cutoff = add_months(now, -rules.identities_months)
    still_needed = select(Ticket.id).where(
        Ticket.requester_id == Requester.id,
        or_(Ticket.status.not_in(_ENDED), func.coalesce(Ticket.closed_at, Ticket.updated_at) >= people_cutoff))
    recent_chat = select(Conversation.id).where(
        Conversation.requester_id == Requester.id, Conversation.updated_at >= people_cutoff)
    while True:
        ids = (await session.scalars(select(Requester.id).where(
            Requester.territory_id == territory.id, Requester.anonymised_at.is_(None),
            Requester.created_at < people_cutoff, ~exists(still_needed), ~exists(recent_chat))
            .order_by(Requester.id).limit(_BATCH))).all()
        report.add(await _anonymise_requesters(session, ids, now))
        if len(ids) < _BATCH:
            break
    return report


async def _purge_unattached(session: AsyncSession, rules: RetentionRules, now: datetime) -> PurgeReport:
    """Rows tied to no ticket (small talk, held mail, finished dialogues) go after the texts' retention."""
    report = PurgeReport()
    cutoff = add_months(now, -rules.messages_months)
    report.inbound = (await session.execute(
        delete(InboundMessage).where(InboundMessage.ticket_id.is_(None), InboundMessage.received_at < cutoff,
                                     InboundMessage.status.not_in(_INBOUND_BUSY))
        .execution_options(synchronize_session=False))).rowcount or 0
    report.outbox = (await session.execute(
        delete(OutboxMessage).where(OutboxMessage.ticket_id.is_(None), OutboxMessage.created_at < cutoff,
                                    OutboxMessage.status.in_(("sent", "dead")))
        .execution_options(synchronize_session=False))).rowcount or 0
    report.conversations = (await session.execute(
        delete(Conversation).where(Conversation.updated_at < cutoff)
        .execution_options(synchronize_session=False))).rowcount or 0
    report.attachments = await _erase_attachments(
        session, and_(Attachment.ticket_id.is_(None), Attachment.created_at < add_months(now, -rules.attachments_months)),
        now)
    return report


async def purge(session: AsyncSession, rules_for: Callable[[str], RetentionRules], *,
                now: datetime | None = None) -> PurgeReport:
    """Anonymise what every territory's retention has run out for, in the caller's transaction.

    Rows tied to no ticket carry no territory: the strictest retention of the database's
    territories applies to them.
    """
    now = now or utcnow()
    report = PurgeReport()
    territories = (await session.scalars(select(Territory).order_by(Territory.id))).all()
    strictest: RetentionRules | None = None
    for territory in territories:
        rules = rules_for(territory.slug)
        report.add(await _purge_territory(session, territory, rules, now))
        if strictest is None or rules.messages_months < strictest.messages_months:
            strictest = rules
    if strictest is not None:
        report.add(await _purge_unattached(session, strictest, now))
    await session.flush()
    return report


class PrivacyPurger:
    """The daily purge of `guichet serve`: once at start, then every `interval` seconds.

    A named lock lets one process of a fleet purge at a time; the others find nothing left.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules_for: Callable[[str], RetentionRules], *,
                 now: Callable[[], datetime] = utcnow, interval: float = 86_400.0, owner: str = "") -> None:
        import os
        import uuid

        self._sessions, self._rules_for, self._now, self.interval = sessions, rules_for, now, interval
        self._owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def run_once(self) -> PurgeReport | None:
        """One purge; None when another process holds the lock."""
        now = self._now()
        async with self._sessions.begin() as session:
            if not await locks.acquire(session, _LOCK, self._owner, _LOCK_TTL, now=now):
                return None
        try:
            async with self._sessions.begin() as session:
                report = await purge(session, self._rules_for, now=now)
        finally:
            async with self._sessions.begin() as session:
                await locks.release(session, _LOCK, self._owner)
        if report.total:
            log.info("privacy purge: %s", ", ".join(f"{k}={v}" for k, v in asdict(report).items()))
        return report

    async def run(self, stop: Any) -> None:
        async def one_pass() -> int:
            await self.run_once()
            return 0

        await run_passes(one_pass, stop, interval=self.interval, batch_size=1, name="privacy purge")


def retention_for(default_territory: str) -> Callable[[str], RetentionRules]:
    """Each territory's retention from its preset; a territory with no preset takes the deployment's."""
    from routing import TerritoryError, load_territory

    def rules(slug: str) -> RetentionRules:
        try:
            return load_territory(slug).privacy
        except TerritoryError:
            return load_territory(default_territory).privacy

    return rules


# --- a teacher's rights ----------------------------------------------------------------------------


async def find_requesters(session: AsyncSession, key: str) -> list[Requester]:
    """The requesters a key names: an id, an e-mail address or `channel:identity` (e.g.
    `telegram:12345`), bare or qualified by a territory (`slug/address`, `domain.addresses`).
    A bare address finds the teacher in every territory she used; one per territory."""
    key = key.strip()
    if key.isdigit():
        found = await session.get(Requester, int(key))
        return [found] if found is not None else []
    if "@" in key:
        channel, external = "email", key.lower()
    elif ":" in key:
        channel, _, external = key.partition(":")
    else:
        return []
    external = external.lower()
    stored = func.lower(RequesterIdentity.external_id)
    matches = stored == external
    if split(external)[0] == "":  # bare: the default territory's, or any territory's `slug/address`
        matches = matches | stored.endswith(SEPARATOR + external, autoescape=True)
    return list((await session.scalars(select(Requester).join(RequesterIdentity).where(
        RequesterIdentity.channel == channel, matches).distinct().order_by(Requester.id))).all())


async def find_requester(session: AsyncSession, key: str) -> Requester | None:
    """The one requester a key names; None when none or several (see `find_requesters`)."""
    found = await find_requesters(session, key)
    return found[0] if len(found) == 1 else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_requester(session: AsyncSession, requester: Requester) -> dict[str, Any]:
    """Everything the desk holds about one teacher (RGPD art. 15), as plain JSON data."""
    identities = (await session.scalars(select(RequesterIdentity).where(
        RequesterIdentity.requester_id == requester.id).order_by(RequesterIdentity.id))).all()
    addresses = [i.external_id for i in identities]
    school = await session.get(School, requester.school_id) if requester.school_id else None
    tickets = (await session.scalars(select(Ticket).options(selectinload(Ticket.events)).where(
        Ticket.requester_id == requester.id).order_by(Ticket.id))).all()
    ids = [t.id for t in tickets]
    files = (await session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids)).order_by(Attachment.id))
             ).all() if ids else []
    inbound_where = [InboundMessage.sender.in_(addresses)] if addresses else []
    if ids:
        inbound_where.append(InboundMessage.ticket_id.in_(ids))
    inbound = (await session.scalars(select(InboundMessage).where(or_(*inbound_where)).order_by(InboundMessage.id))
               ).all() if inbound_where else []
    outbox_where = [OutboxMessage.recipient.in_(addresses)] if addresses else []
    if ids:
        outbox_where.append(OutboxMessage.ticket_id.in_(ids))
    outbox = (await session.scalars(select(OutboxMessage).where(or_(*outbox_where)).order_by(OutboxMessage.id))
              ).all() if outbox_where else []
    chats = (await session.scalars(select(Conversation).where(or_(
        Conversation.requester_id == requester.id,
        *[and_(Conversation.channel == i.channel, Conversation.external_id == i.external_id) for i in identities],
    )).order_by(Conversation.id))).all()
    return {
        "requester": {"id": requester.id, "name": requester.name, "role": requester.role,
                      "school": {"uai": school.uai, "name": school.name} if school else None,
                      "created_at": _iso(requester.created_at), "anonymised_at": _iso(requester.anonymised_at)},
        "identities": [{"channel": i.channel, "external_id": i.external_id, "unreachable": i.unreachable}
                       for i in identities],
        "tickets": [{
            "reference": t.reference, "status": t.status, "intent": t.intent, "equipment": t.equipment,
            "room": t.room, "channel": t.channel, "subject": t.subject, "description": t.description,
            "opened_at": _iso(t.opened_at), "resolved_at": _iso(t.resolved_at), "closed_at": _iso(t.closed_at),
            "anonymised_at": _iso(t.anonymised_at),
            "events": [{"at": _iso(e.at), "kind": e.kind, "actor_kind": e.actor_kind, "channel": e.channel,
                        "internal": e.internal, "body": e.body, "data": e.data} for e in t.events],
        } for t in tickets],
        "attachments": [{"ticket": next(t.reference for t in tickets if t.id == a.ticket_id),
                         "filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "created_at": _iso(a.created_at), "erased_at": _iso(a.erased_at)} for a in files],
        "inbound_messages": [{"channel": m.channel, "received_at": _iso(m.received_at), "sender": m.sender,
                              "status": m.status, "payload": m.payload} for m in inbound],
        "sent_messages": [{"channel": m.channel, "recipient": m.recipient, "created_at": _iso(m.created_at),
                           "status": m.status, "subject": m.subject, "body": m.body} for m in outbox],
        "conversations": [{"channel": c.channel, "state": c.state, "data": c.data, "updated_at": _iso(c.updated_at)}
                          for c in chats],
    }


async def erase_requester(session: AsyncSession, requester: Requester, *, now: datetime | None = None) -> PurgeReport:
    """Anonymise one teacher now (RGPD art. 17): every ticket's texts and files, then the person.

    The tickets stay, for the figures of the reports; nobody can reach her through them any more.
    """
    now = now or utcnow()
    report = PurgeReport()
    ids = (await session.scalars(select(Ticket.id).where(
        Ticket.requester_id == requester.id, Ticket.anonymised_at.is_(None)))).all()
    all_ids = (await session.scalars(select(Ticket.id).where(Ticket.requester_id == requester.id))).all()
    if all_ids:
        report.attachments = await _erase_attachments(session, Attachment.ticket_id.in_(list(all_ids)), now)
    for chunk in _chunks(list(ids), _BATCH):
        report.add(await _anonymise_tickets(session, chunk, now))
    report.add(await _anonymise_requesters(session, [requester.id], now))
    await session.flush()
    return report
