"""One inbox for every channel: inbound messages stored before they are acknowledged, then
claimed, finished, released or quarantined — one lifecycle (`domain.vocabulary.InboundStatus`).

A channel gets durable, deduplicated intake by calling `Inbox(sessions, channel)`:

- `store` / `store_many` persist a message before the channel acknowledges it (one
  INSERT … ON CONFLICT DO NOTHING RETURNING: a redelivery returns None);
- `claim` takes a stored row for one attempt (a lease, so a dead worker's claim expires);
- `close_in` ends an attempt inside the caller's own transaction with a conditional UPDATE:
  the row is answered once even when two processes hold it;
- `finish` records a final outcome; `release` puts a failed attempt back in line, or in
  quarantine once the attempts run out; `quarantine` gives up at once (unreadable input);
- `unfinished` lists what a crash or a full queue left behind; `replay` gives a quarantined
  row a fresh set of attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.clock import utcnow
from desk.errors import DeskError, RecordNotFound
from desk.models import InboundMessage
from domain.vocabulary import WAITING_INBOUND, Channel, InboundStatus

__all__ = ["Inbox", "NotQuarantined", "Receipt", "by_status", "close_statement", "replay"]

_WAITING = tuple(s.value for s in WAITING_INBOUND)


class NotQuarantined(DeskError):
    """Only a quarantined message can be replayed."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A stored message: its row, whether this call created it, and its status now."""

    inbound_id: int
    created: bool
    status: str


def close_statement(*, with_ticket: bool) -> Any:
    """The conditional UPDATE that closes a waiting row as processed (the claim of a turn).

    Parameters: row_id, at, and ticket_id when `with_ticket`. It matches nothing when the row
    was answered meanwhile; on PostgreSQL a second transaction on the row waits, then matches
    nothing; SQLite runs one writer at a time.
    """
    stmt = (
        update(InboundMessage)
        .where(InboundMessage.id == bindparam("row_id"), InboundMessage.status.in_(_WAITING))
        .values(status=InboundStatus.PROCESSED.value, processed_at=bindparam("at"), error=None,
                attempts=InboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return stmt.values(ticket_id=bindparam("ticket_id")) if with_ticket else stmt


_CLOSE = close_statement(with_ticket=False)
_CLOSE_WITH_TICKET = close_statement(with_ticket=True)


#: How many of a chat's latest stored messages an edit looks through for its original.
EDIT_LOOKBACK = 500


def _message_id(payload: Any) -> int | None:
    """The `message.message_id` of a stored Telegram-style payload, when it is an integer."""
    message = payload.get("message") if isinstance(payload, dict) else None
    value = message.get("message_id") if isinstance(message, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Inbox:
    """The inbound messages of one channel."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], channel: Channel | str, *,
        max_attempts: int = 3, lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.sessions = sessions
        self.channel = Channel(channel).value
        self.max_attempts = max_attempts
        self.lease = lease

    # --- storing ----------------------------------------------------------------------------

    async def insert(
        self, session: AsyncSession, *, external_id: str, payload: dict[str, Any],
        sender: str | None = None, received_at: datetime | None = None,
    ) -> int | None:
        """Store in the caller's transaction; the row id, or None for a redelivery."""
        return await repo.insert_inbound(
            session, channel=self.channel, external_id=external_id[:300], payload=payload,
            sender=sender, received_at=received_at,
        )

    async def store(
        self, *, external_id: str, payload: dict[str, Any], sender: str | None = None,
        received_at: datetime | None = None,
    ) -> int | None:
        """Store and commit; the row id, or None for a redelivery."""
        async with self.sessions.begin() as session:
            return await self.insert(session, external_id=external_id, payload=payload, sender=sender,
                                     received_at=received_at)

    async def store_many(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Store several messages in one statement; {external_id: row id} of the new ones.

        Each row: external_id, payload, sender, received_at.
        """
        async with self.sessions.begin() as session:
            return await repo.insert_inbound_many(session, [{"channel": self.channel, **row} for row in rows])

    async def receipt(self, external_id: str) -> Receipt | None:
        """The stored row of this message, if any (to answer a redelivery with its status)."""
        async with self.sessions() as session:
            row = await session.execute(
                select(InboundMessage.id, InboundMessage.status).where(
                    InboundMessage.channel == self.channel, InboundMessage.external_id == external_id[:300])
            )
            found = row.first()
        return None if found is None else Receipt(found.id, False, found.status)

    # --- attempts ---------------------------------------------------------------------------

    def claimable(self, now: datetime, *, lease: timedelta | None = None, bounded: bool = True) -> Any:
        """Rows waiting for an attempt: received, or processing under an expired lease.

        `bounded`: only while attempts remain. With `lease=None` and `bounded=False`, any row
        not closed yet (a turn closes its own row; nobody else holds a lease on it).
        """
        lease = self.lease if lease is None else lease
        waiting = or_(
            InboundMessage.status == InboundStatus.RECEIVED.value,
            and_(InboundMessage.status == InboundStatus.PROCESSING.value,
                 InboundMessage.processed_at < now - lease),
        )
        return and_(InboundMessage.attempts < self.max_attempts, waiting) if bounded else waiting

    async def claim(self, row_id: int) -> bool:
        """Take the row for one attempt (lease starts now); False when it is not claimable."""
        now = utcnow()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == row_id, self.claimable(now))
                .values(status=InboundStatus.PROCESSING.value, attempts=InboundMessage.attempts + 1,
                        processed_at=now)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    @staticmethod
    async def close_in(session: AsyncSession, row_id: int, *, at: datetime, ticket_id: int | None = None) -> bool:
        """Close a waiting row as processed in the caller's transaction; False if already answered."""
        closed = await session.execute(
            _CLOSE_WITH_TICKET if ticket_id is not None else _CLOSE,
            {"row_id": row_id, "at": at, "ticket_id": ticket_id},
        )
        return closed.rowcount == 1

    async def finish(self, row_id: int, status: InboundStatus, *, error: str | None = None,
                     count_attempt: bool = True) -> None:
        """Record the final outcome of an attempt made without a claim (one attempt more)."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(InboundMessage).where(InboundMessage.id == row_id)
                .values(status=status.value, processed_at=utcnow(), error=error[:4000] if error else None,
                        attempts=InboundMessage.attempts + (1 if count_attempt else 0))
                .execution_options(synchronize_session=False)
            )

    async def release(self, row_id: int, error: str, *, counted: bool = False) -> InboundStatus:
        """A failed attempt: back to `received` for another try, or `quarantined` for good.

        `counted`: the attempt was already counted by `claim`.
        """
        async with self.sessions.begin() as session:
            attempts = await session.scalar(select(InboundMessage.attempts).where(InboundMessage.id == row_id)) or 0
            if not counted:
                attempts += 1
            status = InboundStatus.QUARANTINED if attempts >= self.max_attempts else InboundStatus.RECEIVED
            await session.execute(
                update(InboundMessage).where(InboundMessage.id == row_id)
                .values(status=status.value, error=error[:4000], attempts=attempts)
                .execution_options(synchronize_session=False)
            )
        return status

    async def quarantine(self, row_id: int, error: str) -> InboundStatus:
        """Give up at once: input no attempt can fix (kept for an operator, with the reason)."""
        await self.finish(row_id, InboundStatus.QUARANTINED, error=error, count_attempt=False)
        return InboundStatus.QUARANTINED

    async def status(self, row_id: int) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(select(InboundMessage.status).where(InboundMessage.id == row_id))

    async def pending_payload(self, row_id: int) -> dict[str, Any] | None:
        """The stored payload if the row still waits to be answered, else None."""
        async with self.sessions() as session:
            return await session.scalar(
                select(InboundMessage.payload).where(
                    InboundMessage.id == row_id, self.claimable(utcnow(), bounded=False))
            )

    async def unfinished(
        self, *, older_than: timedelta, limit: int = 500, now: datetime | None = None,
        external_prefix: str | None = None, bounded: bool = False,
    ) -> Sequence[tuple[int, str | None]]:
        """(id, sender) of messages left behind (crash, full queue), oldest first."""
        now = now or utcnow()
        conditions = [
            InboundMessage.channel == self.channel,
            InboundMessage.received_at <= now - older_than,
            self.claimable(now, bounded=bounded),
        ]
        if external_prefix:
            conditions.append(InboundMessage.external_id.startswith(external_prefix))
        async with self.sessions() as session:
            result = await session.execute(
                select(InboundMessage.id, InboundMessage.sender).where(*conditions)
                .order_by(InboundMessage.id).limit(limit)
            )
            return [(row.id, row.sender) for row in result]

    async def due_for_retry(self, *, limit: int = 50) -> list[int]:
        """Ids of stored messages due for another attempt (attempts left), oldest first."""
        async with self.sessions() as session:
            return list((await session.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.channel == self.channel, self.claimable(utcnow()))
                .order_by(InboundMessage.id).limit(limit)
            )).all())

    # --- operators' views -------------------------------------------------------------------

    async def replay(self, session: AsyncSession, row_id: int) -> InboundMessage:
        return await replay(session, self.channel, row_id)

    async def record_edit(self, sender: str, message_id: int, edited: dict[str, Any]) -> bool:
        """Put the new version of an edited message into the stored row of the original one.

        For payloads that keep the message under `message` with its `message_id` (Telegram's
        updates). The first version is kept under `original_message`; False when the original
        is unknown (sent before the bot was installed, or purged).
        """
        async with self.sessions.begin() as session:
            # The sender's recent rows, matched here rather than by casting the JSON in SQL: a
            # stored payload whose message_id is not a number (a malformed update, quarantined)
            # would make PostgreSQL's cast fail for every edit of that chat.
            rows = (await session.scalars(
                select(InboundMessage)
                .where(InboundMessage.channel == self.channel, InboundMessage.sender == sender)
                .order_by(InboundMessage.id.desc())
                .limit(EDIT_LOOKBACK)
            )).all()
            row = next((r for r in rows if _message_id(r.payload) == message_id), None)
            if row is None:
                return False
            payload = dict(row.payload)
            payload.setdefault("original_message", payload["message"])
            payload["message"] = edited
            row.payload = payload
            return True

    @staticmethod
    async def row(session: AsyncSession, row_id: int) -> InboundMessage | None:
        """The stored row, in the caller's transaction (to read or amend its payload)."""
        return await session.get(InboundMessage, row_id)

    @staticmethod
    async def set_payload(session: AsyncSession, row_id: int, payload: dict[str, Any]) -> None:
        await session.execute(
            update(InboundMessage).where(InboundMessage.id == row_id).values(payload=payload)
            .execution_options(synchronize_session=False)
        )


async def by_status(session: AsyncSession, channel: Channel | str, status: InboundStatus, *,
                    limit: int = 100, offset: int = 0) -> Sequence[InboundMessage]:
    """A channel's messages in this status, most recent first (quarantine, held mail…)."""
    result = await session.scalars(
        select(InboundMessage)
        .where(InboundMessage.channel == Channel(channel).value, InboundMessage.status == status.value)
        .order_by(InboundMessage.id.desc()).limit(limit).offset(offset)
    )
    return result.all()


async def replay(session: AsyncSession, channel: Channel | str, row_id: int) -> InboundMessage:
    """Put a quarantined message back in line with a fresh set of attempts (its last error is kept)."""
    channel = Channel(channel).value
    row = await session.get(InboundMessage, row_id, with_for_update=True)
    if row is None or row.channel != channel:
        raise RecordNotFound(f"{channel} message {row_id}")
    if row.status != InboundStatus.QUARANTINED.value:
        raise NotQuarantined(f"{channel} message {row_id} is {row.status}, not quarantined")
    row.status = InboundStatus.RECEIVED.value
    row.attempts = 0
    await session.flush()
    return row
