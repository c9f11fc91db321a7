"""A turn's answers are written to the outbox in the turn's own transaction.

The door delivers them at once and records the outcome; if the process dies between the
commit and the delivery (`kill -9`), the rows' lease runs out and the outbox dispatcher sends
them, once. Real database, real engine, real dispatcher; only the channel is a recorder.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.messages import Inbound, Outbound
from bot.notifications import render
from desk.models import OutboxMessage
from desk.outbox import OutboxDispatcher, Outgoing, OutboxStatus
from domain.vocabulary import Channel
from handlers.notices import REPLY_LEASE, ReplyOutcome, ReplySettler, settle_replies
from tests.bot.conftest import Chat, make_engine


class Recorder:
    """An outbox sender that keeps what it was given, as the channel would show it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outbound]] = []

    async def send(self, message: Outgoing) -> None:
        self.sent.append((message.recipient, render(message, None)))


async def _rows(db) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def _dispatcher(db, clock, after: timedelta) -> tuple[OutboxDispatcher, Recorder]:
    recorder = Recorder()
    dispatcher = OutboxDispatcher(db.sessions, now=lambda: clock.now + after)
    dispatcher.register(Channel.WEBCHAT.value, recorder)
    dispatcher.register(Channel.TELEGRAM.value, recorder)
    return dispatcher, recorder


async def test_answers_are_on_record_with_the_turn(chat: Chat, desk_db, clock) -> None:
    replies = await chat.say("bonjour")
    rows = await _rows(desk_db)
    assert replies and [r.outbox_id for r in replies] == [row.id for row in rows]
    assert all(row.status == OutboxStatus.SENDING and row.attempts == 1 for row in rows)
    assert all(row.next_attempt_at == clock.now + REPLY_LEASE for row in rows)
    assert [Outbound.from_json(row.payload["outbound"]) for row in rows] == replies
    assert {row.recipient for row in rows} == {chat.sender}


async def test_a_process_killed_after_the_commit_loses_no_answer(desk_db, nlu, kb, clock) -> None:
    """The door never delivered (the process died): the dispatcher sends every answer once,
    in order, after the lease, to the chat the message came from."""
    chat = Chat(make_engine(desk_db, nlu, kb, clock))
    await chat.say("bonjour")
    lost = list(chat.last)
    early, _ = _dispatcher(desk_db, clock, REPLY_LEASE - timedelta(seconds=1))
    assert (await early.run_once()).claimed == 0  # the door still holds them
    dispatcher, recorder = _dispatcher(desk_db, clock, REPLY_LEASE + timedelta(seconds=1))
    report = await dispatcher.run_once()
    assert report.sent == len(lost) and recorder.sent == [(chat.sender, reply) for reply in lost]
    assert (await dispatcher.run_once()).claimed == 0
    assert {row.status for row in await _rows(desk_db)} == {OutboxStatus.SENT}


async def test_a_group_message_is_answered_in_the_group(desk_db, nlu, kb, clock) -> None:
    engine = make_engine(desk_db, nlu, kb, clock)
    await engine.handle(Inbound(Channel.TELEGRAM, "4242", "-100:1", text="bonjour", chat_is_group=True,
                                reply_to="-100"))
    assert {row.recipient for row in await _rows(desk_db)} == {"-100"}


async def test_delivered_answers_are_never_sent_again(chat: Chat, desk_db, clock) -> None:
    replies = await chat.say("bonjour")
    assert await settle_replies(desk_db.sessions, ReplyOutcome(sent=tuple(r.outbox_id for r in replies)),
                                now=clock.now)
    dispatcher, recorder = _dispatcher(desk_db, clock, timedelta(days=1))
    assert (await dispatcher.run_once()).claimed == 0 and recorder.sent == []
    assert {row.status for row in await _rows(desk_db)} == {OutboxStatus.SENT}


async def test_deferred_answers_are_retried_after_the_delay_the_channel_asked(chat: Chat, desk_db, clock) -> None:
    """Telegram's flood control (retry_after 90 s): the rest goes out after it, not before."""
    replies = await chat.say("bonjour")
    ids = tuple(r.outbox_id for r in replies)
    await settle_replies(desk_db.sessions, ReplyOutcome(sent=ids[:-1], deferred=ids[-1:],
                                                        error="flood", retry_after=90), now=clock.now)
    soon, recorder = _dispatcher(desk_db, clock, timedelta(seconds=89))
    assert (await soon.run_once()).claimed == 0
    later, recorder = _dispatcher(desk_db, clock, timedelta(seconds=91))
    assert (await later.run_once()).sent == 1 and recorder.sent == [(chat.sender, replies[-1])]


async def test_answers_refused_for_good_are_not_retried(chat: Chat, desk_db, clock) -> None:
    replies = await chat.say("bonjour")
    await settle_replies(desk_db.sessions, ReplyOutcome(dropped=tuple(r.outbox_id for r in replies),
                                                        error="Blocked: bot was blocked by the user"),
                         now=clock.now)
    dispatcher, recorder = _dispatcher(desk_db, clock, timedelta(days=1))
    assert (await dispatcher.run_once()).claimed == 0 and recorder.sent == []
    assert {row.status for row in await _rows(desk_db)} == {OutboxStatus.DEAD}


async def test_a_late_door_does_not_overwrite_the_dispatcher(chat: Chat, desk_db, clock) -> None:
    """The lease ran out and the dispatcher took a row over: the door's late report is fenced off."""
    replies = await chat.say("bonjour")
    ids = tuple(r.outbox_id for r in replies)
    async with desk_db.sessions.begin() as session:  # the dispatcher's claim, attempt 2
        for row in (await session.scalars(select(OutboxMessage))).all():
            row.attempts = 2
    await settle_replies(desk_db.sessions, ReplyOutcome(dropped=ids, error="late"), now=clock.now)
    assert {(row.status, row.attempts) for row in await _rows(desk_db)} == {(OutboxStatus.SENDING, 2)}


async def test_an_answer_rolled_back_leaves_no_row(desk_db, nlu, kb, clock) -> None:
    """The same message answered twice (two processes): one set of answers on record."""
    inbound = Inbound(Channel.WEBCHAT, "teacher-9", "teacher-9:1", text="bonjour")
    first, second = make_engine(desk_db, nlu, kb, clock), make_engine(desk_db, nlu, kb, clock)
    answered = await first.handle(inbound)
    assert await second.handle(inbound) == []
    assert [row.id for row in await _rows(desk_db)] == [r.outbox_id for r in answered]


async def test_an_unreachable_database_at_settle_time_falls_back_on_the_lease(chat: Chat, desk_db, clock) -> None:
    replies = await chat.say("bonjour")

    class Down:
        def begin(self):
            raise ConnectionRefusedError("database restarting")

    assert not await settle_replies(Down(), ReplyOutcome(sent=(replies[0].outbox_id,)), now=clock.now)
    dispatcher, recorder = _dispatcher(desk_db, clock, REPLY_LEASE + timedelta(seconds=1))
    assert (await dispatcher.run_once()).sent == len(replies)


class CountingSessions:
    """The real session factory, counting the transactions begun."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.begun = 0

    def begin(self):
        self.begun += 1
        return self.sessions.begin()


async def test_the_settler_records_many_turns_in_one_transaction(desk_db, nlu, kb, clock) -> None:
    """Under load the doors' outcomes are batched: what arrives together is written together,
    each with its own outcome (sent, deferred with its delay, dropped)."""
    engine = make_engine(desk_db, nlu, kb, clock)
    chats = [Chat(engine, sender=f"teacher-s{i}") for i in range(3)]
    ids = []
    for chat in chats:
        ids.append(tuple(r.outbox_id for r in await chat.say("bonjour")))
    counting = CountingSessions(desk_db.sessions)
    settler = ReplySettler(counting, now=lambda: clock.now)  # type: ignore[arg-type]
    assert settler.record(ReplyOutcome(sent=ids[0])) is None  # never waits for the database
    settler.record(ReplyOutcome(deferred=ids[1], error="flood", retry_after=90))
    settler.record(ReplyOutcome(dropped=ids[2], error="blocked"))
    settler.record(ReplyOutcome())  # nothing to record
    await settler.drain()
    assert counting.begun == 1
    status = {row.id: (row.status, row.next_attempt_at) for row in await _rows(desk_db)}
    assert {status[i][0] for i in ids[0]} == {OutboxStatus.SENT}
    assert {status[i] for i in ids[1]} == {(OutboxStatus.PENDING, clock.now + timedelta(seconds=90))}
    assert {status[i][0] for i in ids[2]} == {OutboxStatus.DEAD}


async def test_the_settler_survives_an_unreachable_database(chat: Chat, desk_db, clock) -> None:
    replies = await chat.say("bonjour")

    class Down:
        def begin(self):
            raise ConnectionRefusedError("database restarting")

        __call__ = begin

    settler = ReplySettler(Down(), now=lambda: clock.now, patience=0.3)  # type: ignore[arg-type]
    settler.record(ReplyOutcome(sent=(replies[0].outbox_id,)))
    await settler.drain()  # waited out, then logged, not raised: the lease brings the rows back
    dispatcher, recorder = _dispatcher(desk_db, clock, REPLY_LEASE + timedelta(seconds=1))
    assert (await dispatcher.run_once()).sent == len(replies)


async def test_the_settler_records_the_deliveries_once_the_database_is_back(chat: Chat, desk_db, clock) -> None:
    """A short outage while a door records what it sent: the batch is kept and written once the
    database answers, so the dispatcher has nothing to send again when the lease runs out."""
    replies = await chat.say("bonjour")

    class Flaky:
        failures = 3

        def _check(self) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionRefusedError("database restarting")

        def begin(self):
            self._check()
            return desk_db.sessions.begin()

        def __call__(self):
            self._check()
            return desk_db.sessions()

    settler = ReplySettler(Flaky(), now=lambda: clock.now)  # type: ignore[arg-type]
    settler.record(ReplyOutcome(sent=tuple(r.outbox_id for r in replies)))
    await settler.drain()
    assert {row.status for row in await _rows(desk_db)} == {OutboxStatus.SENT}
    dispatcher, _ = _dispatcher(desk_db, clock, REPLY_LEASE + timedelta(seconds=1))
    assert (await dispatcher.run_once()).sent == 0
