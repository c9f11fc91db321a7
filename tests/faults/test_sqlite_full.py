"""SQLite that cannot write (disk full, or a read-only database): Telegram gets a 503 and delivers
again, the log says what is wrong in one line per refused update — no traceback —, nothing is
corrupted, and once the database can write again every update becomes its ticket, once.

The two conditions are SQLite's own: `PRAGMA max_page_count` at the file's current size gives
SQLITE_FULL (« database or disk is full ») exactly as a full disk does, `PRAGMA query_only` gives
SQLITE_READONLY (« attempt to write a readonly database ») as a read-only file or mount does
(a chmod would not do: the tests may run as root, who writes anyway)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from desk.models import InboundMessage, Ticket
from tests.telegram import updates as u
from tests.telegram.conftest import MakeTelegram
from tests.telegram.conftest import bot_api, demo, make_telegram, nlu_cache, ptb_timedelta  # noqa: F401 - fixtures
from tests.telegram.test_conversation import PREFERRED, REFERENCE, Teacher, _school

USERS = (515151, 515152, 515153)


async def _pragma(demo, statement: str) -> None:  # type: ignore[no-untyped-def]
    """On the one shared SQLite connection, outside a transaction (a read-only database refuses
    the desk's BEGIN IMMEDIATE too)."""
    async with demo.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        raw.driver_connection._conn.execute(statement)


async def _scalar(demo, statement: str):  # type: ignore[no-untyped-def]
    async with demo.engine.connect() as connection:
        return (await connection.execute(text(statement))).scalar_one()


@pytest.mark.parametrize(("refuse", "allow", "reason"), [
    ("full", "PRAGMA max_page_count = 1073741823", "database or disk is full"),
    ("PRAGMA query_only = 1", "PRAGMA query_only = 0", "readonly database"),
], ids=["disk-full", "read-only"])
async def test_a_database_that_cannot_write_refuses_with_503_and_loses_nothing(
    make_telegram: MakeTelegram, demo, caplog, refuse: str, allow: str, reason: str,
) -> None:
    if not demo.url.startswith("sqlite"):
        pytest.skip("SQLite's own write failures")
    telegram = await make_telegram()
    school = await _school(telegram)
    teachers = [Teacher(telegram, user) for user in USERS]
    for teacher in teachers:
        await teacher.onboard(school.uai)
    sent_before = {t.user_id: len(telegram.api.sent_to(t.user_id)) for t in teachers}

    if refuse == "full":  # no free page left in the file, and no room to grow it
        await _pragma(demo, "PRAGMA wal_checkpoint(TRUNCATE)")
        await _pragma(demo, "VACUUM")
        refuse = f"PRAGMA max_page_count = {await _scalar(demo, 'PRAGMA page_count')}"
    await _pragma(demo, refuse)
    # Large enough to need new pages whatever free room the file has left.
    reports = [u.text_update(t._next(), t.user_id, f"le vidéoprojecteur de la classe {i} ne s'allume plus. "
                             + "Il fait un bruit. " * 1200) for i, t in enumerate(teachers)]
    caplog.clear()
    with caplog.at_level(logging.INFO):
        statuses = [await telegram.post(update) for update in reports]
    assert statuses == [503] * 3  # Telegram delivers again: nothing acknowledged that was not stored
    assert any(reason in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.exc_info], "a traceback in the log"
    assert {t.user_id: len(telegram.api.sent_to(t.user_id)) for t in teachers} == sent_before

    await _pragma(demo, allow)
    assert await _scalar(demo, "PRAGMA integrity_check") == "ok"

    # Telegram's redeliveries (twice each, as a retrying sender may) are taken now, once.
    assert [await telegram.post(update) for update in reports + reports] == [200] * 6
    await telegram.settle()
    ids = [f"update:{r['update_id']}" for r in reports]
    async with demo.sessions() as session:
        rows = (await session.scalars(select(InboundMessage).where(InboundMessage.external_id.in_(ids)))).all()
    assert sorted((r.external_id, r.status) for r in rows) == sorted((i, "processed") for i in ids)
    for teacher in teachers:
        answers = telegram.api.sent_to(teacher.user_id)[sent_before[teacher.user_id]:]
        assert answers and len({a["text"] for a in answers}) == len(answers)  # answered once, not per delivery
        texts = [a["text"] for a in answers]
        for _ in range(8):  # the teacher goes on to the ticket
            if any(REFERENCE.search(t) for t in texts):
                break
            choice = next((b for want in PREFERRED for b in teacher.buttons() if b.startswith(want)), None)
            assert choice is not None, texts
            texts += await teacher.presses(choice)
        assert sum(bool(REFERENCE.search(t)) for t in texts) == 1, texts
    async with demo.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 3
