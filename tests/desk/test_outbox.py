"""The outbox dispatcher on SQLite and PostgreSQL, with real SMTP delivery to aiosmtpd on loopback."""

from __future__ import annotations

from tests.typo import plain

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from sqlalchemy import select

from desk import repositories as repo
from desk.errors import RecordNotFound
from desk.models import OutboxMessage
from desk.outbox import (
    EmailSender,
    NotDeadLetter,
    OutboxDispatcher,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    dead_letters,
    requeue,
)

T0 = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Mailbox:
    """An aiosmtpd handler: refuses « inconnu@ » for good, « plein@ » for now, keeps the rest."""

    messages: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address.startswith("inconnu@"):
            return "550 5.1.1 No such user"
        if address.startswith("plein@"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[Mailbox, int]]:
    """A real aiosmtpd server on 127.0.0.1, on a free port chosen by the kernel."""
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="mx.test"), "127.0.0.1", 0)
    yield mailbox, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def queue(db, *recipients: str, channel: str = "email", now: datetime = T0) -> list[int]:
    async with db.sessions.begin() as session:
        rows = [
            await repo.enqueue(session, channel=channel, recipient=r, subject="Ticket 2026-00042 : délai dépassé",
                               body="Bonjour,\n\nLe délai est dépassé : vous pouvez consulter le ticket.\n",
                               dedupe_key=f"test:{channel}:{r}")
            for r in recipients
        ]
        for row in rows:
            row.next_attempt_at = now
        return [row.id for row in rows]


async def rows(db) -> dict[int, OutboxMessage]:
    async with db.sessions() as session:
        return {r.id: r for r in (await session.scalars(select(OutboxMessage))).all()}


class Recorder:
    """A test sender: records what it is given, fails as told."""

    def __init__(self, failure: Exception | None = None, delay: float = 0.0) -> None:
        self.sent: list[Outgoing] = []
        self.failure = failure
        self.delay = delay

    async def send(self, message: Outgoing) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)


async def test_email_is_delivered_over_real_smtp(db, smtp_server) -> None:
    """Two queued mails reach the SMTP server with French text, a stable Message-ID and Auto-Submitted."""
    mailbox, port = smtp_server
    ids = await queue(db, "chef@firminy.test", "mission@sem.test")
    clock = Clock(T0)
    dispatcher = OutboxDispatcher(db.sessions, now=clock)
    dispatcher.register("email", EmailSender(f"smtp://127.0.0.1:{port}", "guichet@sem.test", now=clock))
    report = await dispatcher.run_once()
    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(e.rcpt_tos[0] for e in mailbox.messages) == ["chef@firminy.test", "mission@sem.test"]
    [envelope] = [e for e in mailbox.messages if e.rcpt_tos == ["chef@firminy.test"]]  # sent concurrently
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["From"] == "guichet@sem.test"
    assert plain(mail["Subject"]) == "Ticket 2026-00042 : délai dépassé"
    assert mail["Message-ID"] == f"<outbox-{ids[0]}@sem.test>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "vous pouvez consulter" in mail.get_body(preferencelist=("plain",)).get_content()
    stored = await rows(db)
    assert all(r.status == "sent" and r.sent_at == T0 and r.attempts == 1 for r in stored.values())
    assert (await dispatcher.run_once()).claimed == 0


async def test_smtp_refusals_are_permanent_or_temporary(db, smtp_server) -> None:
    """A 550 recipient is dead at once; a 452 recipient is retried later."""
    _, port = smtp_server
    gone, full = await queue(db, "inconnu@firminy.test", "plein@firminy.test")
    dispatcher = OutboxDispatcher(db.sessions, now=Clock(T0))
    dispatcher.register("email", EmailSender(f"smtp://127.0.0.1:{port}", "guichet@sem.test"))
    report = await dispatcher.run_once()
    assert (report.dead, report.retried) == (1, 1)
    stored = await rows(db)
    assert stored[gone].status == "dead" and "550" in stored[gone].last_error
    assert stored[full].status == "pending" and stored[full].next_attempt_at == T0 + timedelta(seconds=30)


async def test_unreachable_relay_is_a_temporary_failure() -> None:
    """A closed port is worth retrying, not a dead letter."""
    sender = EmailSender("smtp://127.0.0.1:9", "guichet@sem.test", timeout=2)
    with pytest.raises(TemporaryFailure):
        await sender.send(Outgoing(1, "email", "chef@firminy.test", "Objet", "Corps", None, None, 1))


def test_smtp_url_is_checked() -> None:
    """A URL that is not smtp:// or smtps:// is refused with the variable's name."""
    with pytest.raises(ValueError, match="GUICHET_SMTP_URL"):
        EmailSender("http://127.0.0.1:25", "guichet@sem.test")
    assert EmailSender("smtps://u%40x:p@relay.test", "g@sem.test").port == 465


async def test_backoff_then_dead_letter_then_requeue(db) -> None:
    """Failures back off exponentially; after N attempts the row is dead, listed, and can be requeued."""
    [message_id] = await queue(db, "chef@firminy.test")
    clock = Clock(T0)
    failing = Recorder(TemporaryFailure("relais indisponible"))
    dispatcher = OutboxDispatcher(db.sessions, now=clock, max_attempts=4, base_delay=timedelta(minutes=1))
    dispatcher.register("email", failing)
    delays = []
    for _ in range(4):
        report = await dispatcher.run_once()
        assert report.claimed == 1
        row = (await rows(db))[message_id]
        delays.append(row.next_attempt_at - clock.at)
        assert (await dispatcher.run_once()).claimed == 0  # not before its time
        clock.at = row.next_attempt_at
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    row = (await rows(db))[message_id]
    assert row.status == "dead" and row.attempts == 4 and "relais indisponible" in row.last_error
    async with db.sessions.begin() as session:
        assert [r.id for r in await dead_letters(session)] == [message_id]
        await requeue(session, message_id, now=clock.at)
        with pytest.raises(NotDeadLetter):
            await requeue(session, message_id)
        with pytest.raises(RecordNotFound):
            await requeue(session, 999_999)
    working = Recorder()
    dispatcher.register("email", working)
    assert (await dispatcher.run_once()).sent == 1
    assert [m.id for m in working.sent] == [message_id]


async def test_permanent_failure_is_dead_at_once(db) -> None:
    """A sender that says the message can never be delivered is not retried."""
    [message_id] = await queue(db, "chef@firminy.test")
    dispatcher = OutboxDispatcher(db.sessions, now=Clock(T0))
    dispatcher.register("email", Recorder(PermanentFailure("adresse invalide")))
    assert (await dispatcher.run_once()).dead == 1
    assert (await rows(db))[message_id].status == "dead"


async def test_expired_lease_is_sent_again(db) -> None:
    """A dispatcher that dies after claiming leaves a `sending` row that another takes over once the lease ends."""
    [message_id] = await queue(db, "chef@firminy.test")
    clock = Clock(T0)
    crashed = OutboxDispatcher(db.sessions, now=clock, lease=timedelta(minutes=5))
    crashed.register("email", Recorder())
    claimed, _ = await crashed._claim()  # the process dies here, before sending
    assert [m.id for m in claimed] == [message_id]
    assert (await rows(db))[message_id].status == "sending"
    survivor = OutboxDispatcher(db.sessions, now=clock)
    sender = Recorder()
    survivor.register("email", sender)
    assert (await survivor.run_once()).claimed == 0
    clock.at = T0 + timedelta(minutes=5)
    assert (await survivor.run_once()).sent == 1
    row = (await rows(db))[message_id]
    assert row.status == "sent" and row.attempts == 2


async def test_unregistered_channels_wait(db) -> None:
    """Rows for a channel without a sender (Telegram before it is wired) are left pending, untouched."""
    [telegram] = await queue(db, "123456", channel="telegram")
    dispatcher = OutboxDispatcher(db.sessions, now=Clock(T0))
    dispatcher.register("email", Recorder())
    assert (await dispatcher.run_once()).claimed == 0
    row = (await rows(db))[telegram]
    assert row.status == "pending" and row.attempts == 0


async def test_two_dispatchers_never_send_the_same_row(db) -> None:
    """Two dispatchers racing on PostgreSQL share the rows between them: each message is sent once."""
    if db.dialect != "postgresql":
        pytest.skip("SKIP LOCKED claims are a PostgreSQL matter; SQLite has a single writer")
    await queue(db, *(f"agent{i}@firminy.test" for i in range(60)))
    senders = [Recorder(delay=0.001), Recorder(delay=0.001)]
    dispatchers = []
    for sender in senders:
        dispatcher = OutboxDispatcher(db.sessions, now=Clock(T0), batch_size=10)
        dispatcher.register("email", sender)
        dispatchers.append(dispatcher)

    async def drain(dispatcher: OutboxDispatcher) -> None:
        while (await dispatcher.run_once()).claimed:
            pass

    await asyncio.gather(*(drain(d) for d in dispatchers))
    sent = [m.id for s in senders for m in s.sent]
    assert len(sent) == 60 == len(set(sent))
    assert all(s.sent for s in senders)
    assert all(r.status == "sent" for r in (await rows(db)).values())
