"""What a notice to a teacher needs from the system of record, for every channel's sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.clock import utcnow
from desk.db import storage, wait_until_up
from desk.models import InboundMessage, OutboxMessage, Ticket
from desk.outbox import Outgoing, OutboxStatus
from domain.vocabulary import Channel, TicketStatus

__all__ = [
    "REPLY_LEASE",
    "HeldReply",
    "ReplyOutcome",
    "ReplySettler",
    "hold_replies",
    "mail_thread",
    "mark_sent",
    "pending_notices",
    "queue_for_retry",
    "replies_to",
    "settle_replies",
    "ticket_status",
    "ticket_statuses",
]

log = logging.getLogger(__name__)

#: How long a door has to deliver a turn's answers itself before the outbox dispatcher takes
#: them over (the process died between the turn's commit and the delivery).
REPLY_LEASE = timedelta(seconds=60)

#: Delay before the dispatcher retries an answer the door could not deliver, when the channel
#: did not say how long to wait.
REPLY_RETRY_DELAY = timedelta(seconds=30)

#: Most answers one dialogue turn gives (a summary, a tutorial and its links stay far below).
MAX_TURN_REPLIES = 16


async def ticket_statuses(session: AsyncSession, ticket_ids: list[int]) -> dict[int, TicketStatus]:
    """The current status of each ticket (absent ids are left out)."""
    if not ticket_ids:
        return {}
    rows = await session.execute(select(Ticket.id, Ticket.status).where(Ticket.id.in_(ticket_ids)))
    return {ticket_id: TicketStatus(status) for ticket_id, status in rows.all()}


async def ticket_status(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int | None
) -> TicketStatus | None:
    """The status a notice about `ticket_id` is rendered for (None: no ticket, or gone)."""
    if ticket_id is None:
        return None
    async with sessions() as session:
        return (await ticket_statuses(session, [ticket_id])).get(ticket_id)


async def mail_thread(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int
) -> tuple[str | None, list[str]]:
    """The ticket's reference and the Message-IDs of the mails it received, oldest first."""
    async with sessions() as session:
        reference = await session.scalar(select(Ticket.reference).where(Ticket.id == ticket_id))
        ids = (await session.scalars(
            select(InboundMessage.external_id)
            .where(InboundMessage.ticket_id == ticket_id, InboundMessage.channel == Channel.EMAIL.value)
            .order_by(InboundMessage.id)
        )).all()
    return reference, list(ids)


def _waiting(now: datetime) -> Any:
    """Rows a recipient's door may deliver: pending, or a turn's answers whose door died before
    recording their delivery (still `sending` after the lease ran out)."""
    return or_(
        OutboxMessage.status == OutboxStatus.PENDING,
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= now),
    )


def _with_status(
    rows: Sequence[OutboxMessage], statuses: dict[int, TicketStatus], *, next_attempt: bool
) -> list[tuple[Outgoing, TicketStatus | None]]:
    """Outbox rows as the senders and the renderer take them, each with its ticket's status."""
    return [
        (Outgoing(row.id, row.channel, row.recipient, row.subject, row.body, row.payload, row.ticket_id,
                  row.attempts + 1 if next_attempt else row.attempts),
         statuses.get(row.ticket_id) if row.ticket_id else None)
        for row in rows
    ]


async def pending_notices(
    session: AsyncSession, channel: Channel, recipient: str, *, now: datetime, limit: int = 50
) -> list[tuple[Outgoing, TicketStatus | None]]:
    """Notices that waited for this recipient (a page that was closed, a client that polls),
    oldest first, each with the status of its ticket now."""
    rows = (await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel.value, OutboxMessage.recipient == recipient, _waiting(now))
        .order_by(OutboxMessage.id).limit(limit)
    )).all()
    statuses = await ticket_statuses(session, [row.ticket_id for row in rows if row.ticket_id])
    return _with_status(rows, statuses, next_attempt=True)


async def mark_sent(session: AsyncSession, outbox_ids: list[int], at: datetime) -> None:
    """Notices delivered by their channel directly (the dispatcher did not take them meanwhile)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), _waiting(at))
        .values(status=OutboxStatus.SENT, sent_at=at, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )


async def queue_for_retry(
    sessions: async_sessionmaker[AsyncSession], channel: Channel, recipient: str,
    messages: list[tuple[str, dict[str, object], str]],
) -> None:
    """Messages a channel could not deliver now (body, payload, dedupe key): the outbox retries them."""
    async with sessions.begin() as session:
        for body, payload, dedupe_key in messages:
            await repo.enqueue(session, channel=channel.value, recipient=recipient, body=body,
                               payload=payload, dedupe_key=dedupe_key)


@dataclass(frozen=True, slots=True)
class HeldReply:
    """One answer of a dialogue turn, to be written to the outbox in the turn's transaction."""

    body: str
    payload: dict[str, object]
    dedupe_key: str


async def hold_replies(
    session: AsyncSession, channel: Channel, recipient: str, replies: Sequence[HeldReply], *,
    ticket_id: int | None, now: datetime, lease: timedelta = REPLY_LEASE,
) -> list[int]:
    """Write a turn's answers to the outbox, already claimed by the door that will deliver them.

    Each row is `sending` with a lease (attempt 1): the door sends it at once and reports
    with `settle_replies`; if the process dies first, the lease runs out and the dispatcher
    delivers the row like any notice. The rows commit or roll back with the turn, so an
    answered message always has its answers on record and a rolled-back turn has none.
    """
    if not replies:
        return []
    values = [
        {"channel": channel.value, "recipient": recipient, "subject": None, "body": reply.body,
         "payload": reply.payload, "ticket_id": ticket_id, "dedupe_key": reply.dedupe_key,
         "status": OutboxStatus.SENDING, "attempts": 1, "next_attempt_at": now + lease, "created_at": now}
        for reply in replies
    ]
    # One Core INSERT … RETURNING (no unit of work: this runs on every turn of every door).
    return [(await session.execute(insert(OutboxMessage).values(row).returning(OutboxMessage.id))).scalar_one()
            for row in values]


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What a door did with the answers of one turn (outbox ids)."""

    sent: tuple[int, ...] = ()
    #: Not delivered now (page closed, Telegram's flood control): the dispatcher retries them.
    deferred: tuple[int, ...] = ()
    #: Refused for good by the channel (bot blocked): never retried.
    dropped: tuple[int, ...] = ()
    error: str | None = None
    retry_after: float | None = None


async def settle_replies(
    sessions: async_sessionmaker[AsyncSession], outcome: ReplyOutcome, *, now: datetime
) -> bool:
    """Record a door's delivery of a turn's answers, in one transaction; False if it could not.

    Fenced like the dispatcher's own results: only rows still under the door's first lease
    change, so a row the dispatcher already took over (the door was too slow) is left to it.
    Never raises: when the database is unavailable the rows keep their lease and the
    dispatcher takes them over once it runs out (a repeat is possible, a loss is not).
    """
    if not (outcome.sent or outcome.deferred or outcome.dropped):
        return True
    try:
        await _settle_many(sessions, [outcome], now)
    except Exception as exc:  # noqa: BLE001 - the lease is the fallback, see above
        log.warning("delivery of replies %s not recorded (%s): the outbox will take them over",
                    list(outcome.sent + outcome.deferred + outcome.dropped), type(exc).__name__)
        return False
    return True


async def _settle_in(session: AsyncSession, outcome: ReplyOutcome, now: datetime) -> None:
    fence = (OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.attempts == 1)
    error = (outcome.error or "")[:2000] or None
    delay = REPLY_RETRY_DELAY
    if outcome.retry_after is not None and outcome.retry_after > 0:
        delay = max(delay, timedelta(seconds=outcome.retry_after))
    changes: list[tuple[tuple[int, ...], dict[str, object]]] = [
        (outcome.sent, {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}),
        (outcome.deferred, {"status": OutboxStatus.PENDING, "last_error": error, "next_attempt_at": now + delay}),
        (outcome.dropped, {"status": OutboxStatus.DEAD, "last_error": error}),
    ]
    for ids, values in changes:
        if ids:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids), *fence).values(**values)
                .execution_options(synchronize_session=False)
            )


class ReplySettler:
    """Records doors' deliveries in batches: the outcomes that arrive while one transaction is
    written go together in the next (under load, one commit for many turns instead of one
    each). `record` never blocks the door; `drain` waits for what was recorded. A process
    that dies before a batch is written leaves those rows under their lease: the dispatcher
    sends them again after it (a repeat, never a loss), as for `settle_replies`.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 now: Callable[[], datetime] | None = None, *, patience: float = 30.0) -> None:
        self._sessions = sessions
        self._now = now or utcnow
        #: How long a batch met by a database outage is kept to be written once it is back.
        self.patience = patience
        self._pending: list[ReplyOutcome] = []
        self._task: asyncio.Task[None] | None = None

    def record(self, outcome: ReplyOutcome) -> None:
        if not (outcome.sent or outcome.deferred or outcome.dropped):
            return
        self._pending.append(outcome)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        await asyncio.sleep(0)  # let the turns finishing now add theirs
        kept: list[ReplyOutcome] = []
        given_up_at = 0.0
        while self._pending or kept:
            batch, self._pending, kept = kept + self._pending, [], []
            try:
                await _settle_many(self._sessions, batch, self._now())
            except Exception as exc:  # noqa: BLE001 - the lease is the fallback
                loop = asyncio.get_running_loop()
                if storage.failed(exc, "the reply recorder"):
                    # The replies went out: recorded once the database is back, so the
                    # dispatcher does not send them again when their lease runs out.
                    given_up_at = given_up_at or loop.time() + self.patience
                    if loop.time() < given_up_at:
                        kept = batch
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wait_until_up(self._sessions), given_up_at - loop.time())
                        continue
                log.warning("delivery of %d turns' replies not recorded (%s): the outbox will take them over",
                            len(batch), type(exc).__name__)
            given_up_at = 0.0

    async def drain(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


async def _settle_many(sessions: async_sessionmaker[AsyncSession], outcomes: Sequence[ReplyOutcome],
                       now: datetime) -> None:
    """Several doors' outcomes in one transaction: one UPDATE per kind of outcome."""
    sent = tuple(i for o in outcomes for i in o.sent)
    merged = [ReplyOutcome(sent=sent)] if sent else []
    for o in outcomes:
        if o.deferred or o.dropped:
            merged.append(ReplyOutcome(deferred=o.deferred, dropped=o.dropped, error=o.error,
                                       retry_after=o.retry_after))
    async with sessions.begin() as session:
        for outcome in merged:
            await _settle_in(session, outcome, now)


async def replies_to(
    session: AsyncSession, channel: Channel, external_id: str
) -> list[tuple[Outgoing, TicketStatus | None]]:
    """The answers the desk held for one inbound message (found by the channel's message id),
    oldest first, with their ticket's status now: a client that repeats a request whose
    response it lost gets the same answers again instead of silence."""
    row_id = await session.scalar(
        select(InboundMessage.id).where(InboundMessage.channel == channel.value,
                                        InboundMessage.external_id == external_id))
    if row_id is None:
        return []
    rows = (await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dedupe_key.in_([f"reply:{channel.value}:{row_id}:{i}" for i in range(MAX_TURN_REPLIES)]))
        .order_by(OutboxMessage.id)
    )).all()
    statuses = await ticket_statuses(session, [row.ticket_id for row in rows if row.ticket_id])
    return _with_status(rows, statuses, next_attempt=False)
