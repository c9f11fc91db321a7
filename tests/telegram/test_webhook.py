"""The webhook's contract with Telegram: secret, storage before 200, duplicates, garbage, recovery."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from web.keys import telegram_key
from desk.models import InboundMessage
from tests.telegram import updates as u
from tests.telegram.conftest import MakeTelegram, RecordingEngine

USER = 424242


async def _rows(telegram) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    sessions = telegram.app[telegram_key].adapter.sessions
    async with sessions() as session:
        return list((await session.scalars(
            select(InboundMessage).where(InboundMessage.external_id.startswith("update:"))
            .order_by(InboundMessage.id)
        )).all())


async def test_wrong_or_missing_secret_is_forbidden(make_telegram: MakeTelegram) -> None:
    """A POST without the shared secret is refused with 403 and stores nothing."""
    telegram = await make_telegram(engine=RecordingEngine())
    assert await telegram.post(u.text_update(1, USER, "bonjour"), secret="nope") == 403
    assert await telegram.post(u.text_update(1, USER, "bonjour"), secret=None) == 403
    assert await _rows(telegram) == []


async def test_malformed_bodies_are_rejected_with_400(make_telegram: MakeTelegram) -> None:
    """Garbage gets a 400 (not a 5xx Telegram would retry forever) and is not stored."""
    telegram = await make_telegram(engine=RecordingEngine())
    assert await telegram.post(b"{not json") == 400
    assert await telegram.post(b"\xff\xfe") == 400
    assert await telegram.post({"message": {}}) == 400
    assert await telegram.post({"update_id": "12"}) == 400
    assert await telegram.post(b"[1, 2]") == 400
    assert await _rows(telegram) == []


async def test_update_is_stored_before_200_and_duplicates_ignored(make_telegram: MakeTelegram) -> None:
    """The raw update is in the database when 200 is answered; a redelivery is not reprocessed."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    update = u.text_update(77, USER, "le vidéoprojecteur ne s'allume plus")
    assert await telegram.post(update) == 200
    rows = await _rows(telegram)
    assert [r.external_id for r in rows] == ["update:77"]
    assert rows[0].payload == update and rows[0].sender == str(USER)
    await telegram.settle()
    assert await telegram.post(update) == 200
    await telegram.settle()
    assert len(engine.seen) == 1
    assert len(telegram.api.sent_to(USER)) == 1
    rows = await _rows(telegram)
    assert [(r.status, r.attempts) for r in rows] == [("processed", 1)]


async def test_a_processing_crash_keeps_the_update_and_it_is_retried(make_telegram: MakeTelegram) -> None:
    """When processing fails the stored update goes back to `received` and the sweeper retries it."""
    engine = RecordingEngine(fail=True)
    telegram = await make_telegram(engine=engine)
    assert await telegram.post(u.text_update(5, USER, "plus d'internet")) == 200
    await telegram.settle()
    rows = await _rows(telegram)
    assert rows[0].status == "received" and "engine down" in (rows[0].error or "")
    engine.fail = False
    for _ in range(100):
        await asyncio.sleep(0.05)
        if (await _rows(telegram))[0].status == "processed":
            break
    assert (await _rows(telegram))[0].status == "processed"
    assert [i.text for i in engine.seen] == ["plus d'internet"]


async def test_updates_left_received_are_recovered_at_start(make_telegram: MakeTelegram) -> None:
    """Rows stored by a process that died before processing them are handled at the next start."""
    from bot.telegram.inbox import store_update

    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    sessions = telegram.app[telegram_key].adapter.sessions
    await store_update(sessions, u.text_update(900, USER, "écran noir sur le PC"))
    await store_update(sessions, u.text_update(901, USER, "toujours rien"))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if len(engine.seen) == 2:
            break
    assert [i.text for i in engine.seen] == ["écran noir sur le PC", "toujours rien"]


async def test_without_token_the_channel_is_off(make_telegram: MakeTelegram) -> None:
    """No GUICHET_TELEGRAM_TOKEN: no webhook route, no Bot API call."""
    telegram = await make_telegram(telegram_token=None)
    assert await telegram.post(u.text_update(1, USER, "bonjour")) == 404
    assert telegram.api.calls == []


async def test_concurrent_updates_share_transactions_and_each_is_stored_once(make_telegram: MakeTelegram) -> None:
    """40 webhooks at once (Telegram's default max_connections): every update is stored before
    its 200, in fewer transactions than updates; a redelivery in the same burst is not new."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    updates = [u.text_update(1000 + i, USER + i % 8, f"message {i}") for i in range(40)]
    statuses = await asyncio.gather(*(telegram.post(update) for update in updates + updates[:5]))
    assert statuses == [200] * 45
    intake = telegram.app[telegram_key].intake
    assert intake is not None and 1 <= intake.batches < 40
    rows = await _rows(telegram)
    assert sorted(r.external_id for r in rows) == sorted(f"update:{1000 + i}" for i in range(40))
    await telegram.settle()
    assert sorted(i.text for i in engine.seen) == sorted(f"message {i}" for i in range(40))


async def test_a_storage_failure_answers_503_and_the_redelivery_is_kept(make_telegram: MakeTelegram, monkeypatch) -> None:
    """The database refuses the write: Telegram gets a 503 (it will deliver again), no 500."""
    from desk import repositories as repo

    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    real = repo.insert_inbound_many

    async def down(*_args, **_kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(repo, "insert_inbound_many", down)
    update = u.text_update(31, USER, "l'imprimante est en panne")
    assert await telegram.post(update) == 503
    assert await _rows(telegram) == []
    monkeypatch.setattr(repo, "insert_inbound_many", real)
    assert await telegram.post(update) == 200
    await telegram.settle()
    assert [i.text for i in engine.seen] == ["l'imprimante est en panne"]


async def test_one_update_the_database_refuses_does_not_fail_its_batch(make_telegram: MakeTelegram, monkeypatch, caplog) -> None:
    """A batch holding one update whose data the database refuses (not an outage): the others
    are stored and answered 200, that one alone gets a 400 and one log line, no traceback."""
    from desk import repositories as repo

    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    real = repo.insert_inbound_many

    async def picky(session, rows, *args, **kwargs):
        if any(row["external_id"] == "update:2013" for row in rows):
            raise ValueError("value too long for type character varying(254)")
        return await real(session, rows, *args, **kwargs)

    monkeypatch.setattr(repo, "insert_inbound_many", picky)
    updates = [u.text_update(2000 + i, USER + i % 8, f"message {i}") for i in range(30)]
    statuses = await asyncio.gather(*(telegram.post(update) for update in updates))
    assert statuses == [400 if i == 13 else 200 for i in range(30)]
    rows = await _rows(telegram)
    assert sorted(r.external_id for r in rows) == sorted(f"update:{2000 + i}" for i in range(30) if i != 13)
    await telegram.settle()
    assert sorted(i.text for i in engine.seen) == sorted(f"message {i}" for i in range(30) if i != 13)
    refused = [r for r in caplog.records if "2013 refused" in r.getMessage()]
    assert len(refused) == 1 and not [r for r in caplog.records if r.exc_info]


async def test_out_of_range_ids_are_refused_or_stored_without_a_sender(make_telegram: MakeTelegram) -> None:
    """An update_id beyond 64 bits is not an update (400); a chat id no chat can have is stored
    (nothing is lost) with no sender, on SQLite and PostgreSQL alike."""
    telegram = await make_telegram(engine=RecordingEngine())
    assert await telegram.post(u.text_update(2**63, USER, "bonjour")) == 400
    huge = u.text_update(3001, USER, "bonjour")
    huge["message"]["chat"]["id"] = 10**300
    assert await telegram.post(huge) == 200
    rows = await _rows(telegram)
    assert [(r.external_id, r.sender) for r in rows] == [("update:3001", None)]
