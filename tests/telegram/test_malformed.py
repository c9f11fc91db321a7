"""Malformed input on the webhook: a clear 400 or a quarantined row, one warning, never a traceback."""

from __future__ import annotations

import copy
import json
import logging
import random
from typing import Any

import pytest
from sqlalchemy import select

from desk.models import InboundMessage
from tests.telegram import updates as u
from tests.telegram.conftest import SECRET, MakeTelegram, RecordingEngine, Telegram
from bot.telegram import SECRET_HEADER
from web.keys import telegram_key

USER = 515151
UNREADABLE = "Mise à jour Telegram illisible"


async def _rows(telegram: Telegram) -> list[InboundMessage]:
    sessions = telegram.app[telegram_key].adapter.sessions  # type: ignore[union-attr]
    async with sessions() as session:
        return list((await session.scalars(select(InboundMessage).order_by(InboundMessage.id))).all())


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


async def _still_answers(telegram: Telegram, update_id: int) -> None:
    """A well-formed update after the garbage is stored, processed and answered."""
    assert await telegram.say(u.text_update(update_id, USER, "bonjour")) == ["reçu : text"]


def _message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 1, "date": 1_700_000_000, "chat": u.private_chat(USER), "from": u.user(USER), **fields}


NOT_UPDATES = [
    (b"[" * 100_000, "JSON attendu"),  # too deep for the JSON parser
    (b'{"update_id": 1, "a":' * 20_000 + b"1" + b"}" * 20_000, "JSON attendu"),
    (b'{"update_id": 2, "x": NaN}', "JSON attendu"),
    (b'{"update_id": 1' + b"0" * 5000 + b"}", "JSON attendu"),  # beyond Python's int digits limit
    (b"\xff\xfe{}", "JSON attendu"),
    ('"une chaîne"'.encode(), "update_id manquant ou invalide"),
    (b"null", "update_id manquant ou invalide"),
    (b"[1, 2]", "update_id manquant ou invalide"),
    (b'{"update_id": -5}', "update_id manquant ou invalide"),
    (b'{"update_id": 1.5}', "update_id manquant ou invalide"),
    (b'{"update_id": 1e999}', "update_id manquant ou invalide"),
    (b'{"update_id": true}', "update_id manquant ou invalide"),
    (b'{"update_id": null, "message": null}', "update_id manquant ou invalide"),
]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=nonexistent"])
async def test_bodies_that_are_not_updates_get_a_french_400(
    make_telegram: MakeTelegram, caplog: pytest.LogCaptureFixture, content_type: str,
) -> None:
    """Non-JSON, too deep, NaN, a bad update_id, whatever the Content-Type: 400 with a French text,
    nothing stored, one warning each and no traceback; the webhook keeps answering."""
    telegram = await make_telegram(engine=RecordingEngine())
    caplog.set_level(logging.INFO)
    for body, message in NOT_UPDATES:
        response = await telegram.client.post("/telegram/webhook", data=body, headers={
            SECRET_HEADER: SECRET, "Content-Type": content_type})
        assert response.status == 400, body[:40]
        assert message in await response.text()
    assert await _rows(telegram) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "webhook" in r.getMessage()]
    assert len(warnings) == len(NOT_UPDATES)
    assert _tracebacks(caplog) == []
    await _still_answers(telegram, 10)


UNREADABLE_UPDATES = {
    "a date in year 36811": {"update_id": 101, "message": _message(date=1_099_500_000_000, text="x")},
    "an int where an object is expected": {"update_id": 102, "message": 5},
    "a list where an object is expected": {"update_id": 103, "callback_query": []},
    "a user that is an int": {"update_id": 104, "callback_query": {"id": "1", "from": 3, "chat_instance": "c"}},
    "a poll without its required fields": {"update_id": 105, "poll": {"id": "1"}},
    "a message without a date": {"update_id": 106, "message": {"chat": {"id": USER}}},
    "a text that is a number": {"update_id": 107, "message": _message(text=5)},
    "a chat id that is a string": {"update_id": 108, "message": _message(chat={"id": "abc", "type": "private"}, text="x")},
    "a photo that is a number": {"update_id": 109, "message": _message(photo=5)},
    "a membership change with a chat that is an int": {"update_id": 110, "my_chat_member": {"chat": 1}},
    "an edit dated after year 9999": {"update_id": 111, "edited_message": _message(text="x", edit_date=10**14)},
    "a nested null": {"update_id": 112, "message": _message(chat=None, text="x")},
}


async def test_unreadable_updates_are_acknowledged_and_quarantined_with_their_reason(
    make_telegram: MakeTelegram, caplog: pytest.LogCaptureFixture,
) -> None:
    """An update PTB cannot read is stored, answered 200 (Telegram stops retrying), quarantined at
    once with a French reason, logged in one warning line without traceback; nothing is answered."""
    engine = RecordingEngine()
    telegram = await make_telegram(engine=engine)
    caplog.set_level(logging.INFO)
    for update in UNREADABLE_UPDATES.values():
        assert await telegram.post(update) == 200
    await telegram.settle()
    rows = await _rows(telegram)
    assert [r.external_id for r in rows] == [f"update:{d['update_id']}" for d in UNREADABLE_UPDATES.values()]
    for name, row in zip(UNREADABLE_UPDATES, rows, strict=True):
        assert row.status == "quarantined", name
        assert (row.error or "").startswith(UNREADABLE), name
    assert "year 36811 is out of range" in (rows[0].error or "")
    assert engine.seen == []
    quarantined = [r for r in caplog.records if "quarantined, unreadable update" in r.getMessage()]
    assert len(quarantined) == len(UNREADABLE_UPDATES)
    assert {r.levelno for r in quarantined} == {logging.WARNING}
    assert _tracebacks(caplog) == []
    await _still_answers(telegram, 200)


JUNK: list[Any] = [None, 0, -1, 10**30, 1.5, "", "x" * 5000, [], [1, "a"], {}, {"id": None}, True,
                   "\u0000", "\ud800", {"a": [None, {"b": {}}]}, 1_099_500_000_000]
FIELDS = ["message_id", "date", "chat", "from", "text", "entities", "photo", "document", "caption",
          "reply_to_message", "edit_date", "sticker", "location", "poll"]


def _mutant(rng: random.Random, update_id: int) -> dict[str, Any]:
    """A real-looking update with one to four fields replaced by junk of the wrong type."""
    kind = rng.choice(["message", "edited_message", "callback_query", "my_chat_member", "poll"])
    if kind == "callback_query":
        update = u.callback_update(update_id, USER, "kb:ok")
        target = update["callback_query"]
        keys = ["id", "from", "message", "data", "chat_instance"]
    elif kind == "my_chat_member":
        target = {"chat": u.private_chat(USER), "from": u.user(USER), "date": 1_700_000_000,
                  "old_chat_member": {"status": "member", "user": u.user(1)},
                  "new_chat_member": {"status": "kicked", "user": u.user(1), "until_date": 0}}
        update = {"update_id": update_id, kind: target}
        keys = list(target)
    elif kind == "poll":
        update = {"update_id": update_id, "poll": {"id": "p"}}
        target, keys = update["poll"], ["id", "question", "options"]
    else:
        target = _message(text="bonjour", edit_date=1_700_000_100)
        update = {"update_id": update_id, kind: target}
        keys = FIELDS
    for _ in range(rng.randint(1, 4)):
        target[rng.choice(keys)] = copy.deepcopy(rng.choice(JUNK))
    return update


async def test_fuzzed_updates_never_crash_the_webhook_or_the_workers(
    make_telegram: MakeTelegram, caplog: pytest.LogCaptureFixture,
) -> None:
    """Three hundred updates with fields of the wrong type (seeded, so reproducible) and two
    hundred corrupted bodies: no 5xx, no traceback, every stored row closed, the bot still answers."""
    rng = random.Random(20240618)
    telegram = await make_telegram(engine=RecordingEngine())
    caplog.set_level(logging.INFO)
    statuses = [await telegram.post(_mutant(rng, 1000 + i)) for i in range(300)]
    for i in range(200):
        raw = bytearray(json.dumps(_mutant(rng, 2000 + i)).encode())
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        statuses.append(await telegram.post(bytes(raw)))
    assert set(statuses) <= {200, 400}
    assert statuses.count(200) >= 300
    await telegram.settle()
    rows = await _rows(telegram)
    assert {r.status for r in rows} <= {"processed", "ignored", "quarantined"}
    assert _tracebacks(caplog) == []
    await _still_answers(telegram, 5000)
