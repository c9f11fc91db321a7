"""The outbox dispatcher: delivers queued notifications through one sender per channel.

Delivery is **at least once**. A row goes `pending` -> `sending` (claimed, with a lease held
in `next_attempt_at`) -> `sent`, or back to `pending` with an exponential backoff, or `dead`
after `max_attempts` or a permanent failure. The claim commits before the network call, so
no database lock (and on SQLite, no write lock) is held while an SMTP server answers; if the
process dies between the send and the commit of `sent`, the lease expires and the message is
sent again. Losing a breach notice is worse than repeating one, and the repeat carries the
same Message-ID (`<outbox-ID@domain>`), which mail clients use to fold duplicates. A
Telegram or web-chat sender can use the row id the same way. Rows are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers never send the same row at the
same time, and a late result from an expired lease is ignored (the update is fenced on the
attempt number).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.clock import utcnow
from desk.db import storage, wait_until_up
from desk.errors import DeskError, RecordNotFound
from desk.loops import run_passes
from desk.models import OutboxMessage
from domain.french import typography

__all__ = [
    "DispatchReport",
    "EmailSender",
    "NotDeadLetter",
    "OutboxStatus",
    "OutboxDispatcher",
    "Outgoing",
    "PermanentFailure",
    "Sender",
    "TemporaryFailure",
    "dead_letters",
    "payload_headers",
    "requeue",
]

log = logging.getLogger(__name__)


class OutboxStatus(StrEnum):
    """Where a row stands; `sending` holds a lease until `next_attempt_at`."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class TemporaryFailure(Exception):
    """The channel could not deliver now (server down, rate limit, 4xx): try again later.

    A sender that knows when to come back (Telegram's 429 `retry_after`, in seconds) says so;
    the dispatcher never retries sooner than that.
    """

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The channel refused the message for good (unknown address, 5xx): retrying cannot help."""


class NotDeadLetter(DeskError):
    """Only a dead letter can be requeued."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed outbox row, as a sender sees it (a snapshot, not a live ORM object)."""

    id: int
    channel: str
    recipient: str
    subject: str | None
    body: str
    payload: dict[str, Any] | None
    ticket_id: int | None
    attempt: int


class Sender(Protocol):
    """Delivers one message on one channel; raises TemporaryFailure or PermanentFailure."""

    async def send(self, message: Outgoing) -> None: ...


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


class OutboxDispatcher:
    """Claims due outbox rows and hands each to the sender registered for its channel."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        now: Callable[[], datetime] = utcnow,
        batch_size: int = 50,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(hours=6),
        lease: timedelta = timedelta(minutes=5),
        send_timeout: float = 60.0,
        concurrency: int = 8,
        interval: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._senders: dict[str, Sender] = {}
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.send_timeout = send_timeout
        self.concurrency = concurrency
        self.interval = interval

    def register(self, channel: str, sender: Sender) -> None:
        """Deliver `channel` rows through `sender`; rows of unregistered channels wait untouched."""
        self._senders[str(channel)] = sender

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._senders)

    def backoff(self, attempt: int) -> timedelta:
        """Delay before the next try after failed attempt number `attempt` (1, 2, ...)."""
        return min(self.base_delay * (2 ** max(attempt - 1, 0)), self.max_delay)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set: at once while rows keep coming, else every `interval` seconds."""

        async def one_pass() -> int:
            return (await self.run_once()).claimed

        await run_passes(one_pass, stop, interval=self.interval, batch_size=self.batch_size,
                         name="outbox dispatch")

    async def run_once(self) -> DispatchReport:
        """Claim one batch, send it, record each outcome."""
        report = DispatchReport()
        if not self._senders:
            return report
        claimed, expired = await self._claim()
        report.claimed = len(claimed) + len(expired)
        report.dead += len(expired)
        if not claimed:
            return report
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver(message: Outgoing) -> tuple[Outgoing, BaseException | None]:
            async with gate:
                try:
                    await asyncio.wait_for(self._senders[message.channel].send(message), self.send_timeout)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
                    return message, exc
                return message, None

        outcomes = await asyncio.gather(*(deliver(m) for m in claimed))
        await self._record_when_possible(outcomes, report)
        return report

    async def _record_when_possible(
        self, outcomes: Sequence[tuple[Outgoing, BaseException | None]], report: DispatchReport
    ) -> None:
        """Record the outcomes; the messages went out, so a database outage meanwhile is waited
        out (within the lease) rather than leaving them to be sent again when it runs out."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.lease.total_seconds()
        counts = (report.sent, report.dead, report.retried)
        while True:
            try:
                await self._record(outcomes, report)
                return
            except Exception as exc:
                report.sent, report.dead, report.retried = counts
                if not storage.failed(exc, "the outbox dispatcher") or loop.time() >= until:
                    raise
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wait_until_up(self._sessions), until - loop.time())

    async def _claim(self) -> tuple[list[Outgoing], list[int]]:
        """Mark due rows `sending` under a lease; rows whose last lease ran out with no attempts left die."""
        now = self._now()
        async with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            stmt = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.channel.in_(sorted(self._senders)),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.batch_size)
            )
            if dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            # SQLite: BEGIN IMMEDIATE (desk.db) already made this transaction the only writer.
            rows = (await session.scalars(stmt)).all()
            claimed: list[Outgoing] = []
            expired: list[int] = []
            for row in rows:
                if row.status == OutboxStatus.SENDING and row.attempts >= self.max_attempts:
                    row.status = OutboxStatus.DEAD
                    row.last_error = f"no outcome after attempt {row.attempts} (lease expired): {row.last_error or ''}".strip()
                    expired.append(row.id)
                    continue
                row.status = OutboxStatus.SENDING
                row.attempts += 1
                row.next_attempt_at = now + self.lease
                claimed.append(Outgoing(row.id, row.channel, row.recipient, row.subject, row.body,
                                        row.payload, row.ticket_id, row.attempts))
        return claimed, expired

    async def _record(
        self, outcomes: Sequence[tuple[Outgoing, BaseException | None]], report: DispatchReport
    ) -> None:
        now = self._now()
        async with self._sessions.begin() as session:
            for message, error in outcomes:
                fence = (
                    OutboxMessage.id == message.id,
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.attempts == message.attempt,
                )
                if error is None:
                    values: dict[str, Any] = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
                    report.sent += 1
                else:
                    reason = f"{type(error).__name__}: {error}"[:2000]
                    if isinstance(error, PermanentFailure) or message.attempt >= self.max_attempts:
                        values = {"status": OutboxStatus.DEAD, "last_error": reason}
                        report.dead += 1
                        log.warning("outbox %s (%s) is dead: %s", message.id, message.channel, reason)
                    else:
                        delay = self.backoff(message.attempt)
                        asked = getattr(error, "retry_after", None)
                        if isinstance(asked, (int, float)) and asked > 0:
                            delay = max(delay, timedelta(seconds=float(asked)))
                        values = {"status": OutboxStatus.PENDING, "last_error": reason,
                                  "next_attempt_at": now + delay}
                        report.retried += 1
                        if not isinstance(error, (TemporaryFailure, TimeoutError, OSError)):
                            log.error("outbox %s: unexpected sender error %s", message.id, reason)
                await session.execute(
                    update(OutboxMessage).where(*fence).values(**values).execution_options(synchronize_session=False)
                )


# --- dead letters (for administrators) --------------------------------------------------------


async def dead_letters(session: AsyncSession, *, limit: int = 100, offset: int = 0) -> Sequence[OutboxMessage]:
    """Messages given up on, most recent first."""
    result = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return result.all()


async def requeue(session: AsyncSession, message_id: int, *, now: datetime | None = None) -> OutboxMessage:
    """Give a dead letter a fresh set of attempts, due at once (its last error is kept for reference)."""
    row = await session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise RecordNotFound(f"outbox message {message_id}")
    if row.status != OutboxStatus.DEAD:
        raise NotDeadLetter(f"outbox message {message_id} is {row.status}, not dead")
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now or utcnow()
    await session.flush()
    return row


# --- e-mail -----------------------------------------------------------------------------------


#: Outbox payload keys an e-mail row may carry, and the header each one sets.
PAYLOAD_HEADERS = {
    "message_id": "Message-ID",
    "in_reply_to": "In-Reply-To",
    "references": "References",
    "auto_submitted": "Auto-Submitted",
    "x_loop": "X-Loop",
}

#: Headers a threading resolver may set (anything else it returns is ignored).
THREADING_HEADERS = frozenset(PAYLOAD_HEADERS.values()) | {"Subject"}


def payload_headers(payload: Mapping[str, Any] | None) -> dict[str, str]:
    """Threading and loop headers named in an outbox payload (`references` may be a list)."""
    headers: dict[str, str] = {}
    for key, name in PAYLOAD_HEADERS.items():
        value = (payload or {}).get(key)
        if isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value)
        if value:
            headers[name] = str(value)
    return headers


_MSG_ID = re.compile(r"<[^<>\s]+>")


class _VerbatimIds(str):
    """A Message-ID / In-Reply-To / References value that goes out exactly as given.

    The default policy folds a long token (an Outlook Message-ID) into RFC 2047 encoded-words,
    and mail clients then cannot thread the answer. A value with a `name` is taken by the
    policy as a header object and serialised by its own `fold`: here the ids, one per line.
    """

    name: str

    def __new__(cls, name: str, value: str) -> _VerbatimIds:
        ids = _MSG_ID.findall(value) or [value.split()[0] if value.split() else "<>"]
        self = super().__new__(cls, " ".join(ids))
        self.name = name
        return self

    def fold(self, *, policy: Any) -> str:
        return f"{self.name}: " + (policy.linesep + " ").join(self.split()) + policy.linesep


class EmailSender:
    """Sends outbox rows as plain-text mail through the relay of GUICHET_SMTP_URL.

    Threading headers come from the row's payload (see PAYLOAD_HEADERS) or, when a
    `threading` resolver is given, from it (it sees the row and may look the ticket up).
    """

    def __init__(
        self, url: str, mail_from: str, *, timeout: float = 30.0, now: Callable[[], datetime] = utcnow,
        threading: Callable[[Outgoing], Awaitable[Mapping[str, str]]] | None = None,
    ) -> None:
        """`url` reads smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps:// (implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"GUICHET_SMTP_URL must read smtp://host:port or smtps://host:port, got {url!r}")
        self.hostname = parts.hostname
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.mail_from = mail_from
        self.domain = mail_from.rpartition("@")[2] or "localhost"
        self.timeout = timeout
        self._now = now
        self._threading = threading

    def build(self, message: Outgoing, headers: Mapping[str, str] | None = None) -> EmailMessage:
        """The MIME message; its Message-ID is stable across retries of the same row."""
        extra = {k: " ".join(v.split()) for k, v in (headers or payload_headers(message.payload)).items()
                 if k in THREADING_HEADERS and v}
        mail = EmailMessage()
        mail["From"] = self.mail_from
        mail["To"] = message.recipient
        mail["Subject"] = typography(extra.get("Subject") or " ".join((message.subject or "Guichet").split()))
        mail["Date"] = format_datetime(self._now())
        mail["Message-ID"] = _VerbatimIds(
            "Message-ID", extra.get("Message-ID") or f"<outbox-{message.id}@{self.domain}>")
        for name in ("In-Reply-To", "References"):
            if name in extra and _MSG_ID.search(extra[name]):
                mail[name] = _VerbatimIds(name, extra[name])
        if "X-Loop" in extra:
            mail["X-Loop"] = extra["X-Loop"]
        # Notices are machine-made: ask mail servers not to answer them (no out-of-office loops).
        mail["Auto-Submitted"] = extra.get("Auto-Submitted") or "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        if message.ticket_id is not None:
            mail["X-Guichet-Ticket"] = str(message.ticket_id)
        mail.set_content(typography(message.body))  # French typography on every mail (domain.french)
        return mail

    async def send(self, message: Outgoing) -> None:
        headers = await self._threading(message) if self._threading else None
        try:
            await aiosmtplib.send(
                self.build(message, headers),
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc}") from exc
            raise TemporaryFailure(f"recipient deferred: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
