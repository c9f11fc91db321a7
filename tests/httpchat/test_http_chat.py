"""The HTTP chat channel (`/chat/api/messages`) over real HTTP against the whole application.

The channel was added by the README's recipe (one `Channel` value, `bot/httpchat/`,
`guichet/channels/httpchat.py`); the scenario suite runs the teacher stories on it
(`tests/scenarios`). Here: its own protocol — idempotent retries, notices by poll, answers
whose response was lost, a process that died after the turn, malformed requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.httpchat import HttpChat, parse_request
from desk.clock import utcnow
from desk.models import InboundMessage, OutboxMessage
from desk.outbox import OutboxStatus
from domain.vocabulary import Channel
from guichet.demo import load_demo
from guichet.settings import load_settings
from guichet.wiring import build_app
from nlu import LocalNlu
from web.keys import dialogue_key
from web.labels import CHANNEL

PATH = "/chat/api/messages"
_NLU = LocalNlu()


async def _client(db: Any, aiohttp_client: Any, **values: Any) -> Any:
    settings = load_settings(database_url=db.url, territory="sem", background=False,
                             public_url="http://guichet.test", **values)
    client = await aiohttp_client(build_app(settings, db.engine, db.sessions, nlu=_NLU))
    client.db = db
    return client


@pytest.fixture
async def client(db: Any, aiohttp_client: Any) -> AsyncIterator[Any]:
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=5)
    yield await _client(db, aiohttp_client)


async def _post(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(PATH, json=body)
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    data = await response.json()
    await _settled(client.db)
    return data


async def _settled(db: Any) -> None:
    """The server records a response's delivery after writing it: wait for that record."""
    for _ in range(200):
        if all(row.status == OutboxStatus.SENT for row in await _outbox(db)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the delivery of the answers was not recorded")


async def _outbox(db: Any) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == Channel.HTTPCHAT.value)
            .order_by(OutboxMessage.id))).all())


async def test_a_new_page_is_greeted_and_its_answers_are_recorded_as_delivered(client: Any, db: Any) -> None:
    data = await _post(client, {"start": True})
    assert data["session"] and data["replies"]
    assert "Bonjour" in data["replies"][0]["text"]
    rows = await _outbox(db)
    assert [r["id"] for r in data["replies"]] == [row.id for row in rows]
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.recipient for row in rows} == {data["session"]}


async def test_a_retried_request_gets_the_same_answers_and_no_second_turn(client: Any, db: Any) -> None:
    session = (await _post(client, {"start": True}))["session"]
    first = await _post(client, {"session": session, "id": "m-1", "text": "bonjour"})
    again = await _post(client, {"session": session, "id": "m-1", "text": "bonjour"})
    assert again["replies"] == first["replies"] and first["replies"]
    async with db.sessions() as s:
        stored = await s.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.channel == "httpchat", InboundMessage.external_id.like(f"{session}:m-1:%")))
    assert stored == 1


async def test_answers_whose_response_was_lost_come_back_with_the_poll(client: Any, db: Any) -> None:
    session = (await _post(client, {"start": True}))["session"]
    # The process died after the turn's commit, before writing the response: the rows are
    # still `sending` under the door's lease; once it has run out, the poll gives them.
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.recipient == session).values(
            status=OutboxStatus.SENDING, attempts=1, next_attempt_at=utcnow() - timedelta(seconds=1)))
    texts = [row.body for row in await _outbox(db)]
    poll = await client.get(PATH, params={"session": session})
    assert poll.status == 200
    assert [m["text"] for m in (await poll.json())["messages"]] == texts
    await _settled(db)  # recorded once the response was written
    again = await client.get(PATH, params={"session": session})
    assert (await again.json())["messages"] == []


async def test_answers_still_under_the_lease_are_not_polled_twice(client: Any, db: Any) -> None:
    session = (await _post(client, {"start": True}))["session"]
    async with db.sessions.begin() as s:  # a turn in flight in another worker
        await s.execute(update(OutboxMessage).where(OutboxMessage.recipient == session).values(
            status=OutboxStatus.SENDING, attempts=1, next_attempt_at=utcnow() + timedelta(seconds=60)))
    poll = await client.get(PATH, params={"session": session})
    assert (await poll.json())["messages"] == []


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'{"session": null}', b'{"text": 12}', b'{"button": ""}',
    b'{"text": "x", "id": "a b"}', b'{"start": "yes"}', b'{"asset": "../etc", "start": true}',
    b"\xff\xfe", b'{"text": "' + b"x" * 30_000 + b'"}',
])
async def test_a_malformed_request_gets_a_french_answer_not_a_500(client: Any, body: bytes) -> None:
    response = await client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    data = await response.json()
    assert data["error"] == "bad_request" and "Je n'ai pas pu lire ce message" in data["text"]


async def test_a_body_too_large_is_refused_politely(client: Any) -> None:
    response = await client.post(PATH, data=b"{" + b" " * 300_000 + b"}",
                                 headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert "Je n'ai pas pu lire" in (await response.json())["text"]


async def test_a_poll_without_a_valid_session_is_refused_politely(client: Any) -> None:
    for params in ({}, {"session": "short"}, {"session": "x" * 200}):
        response = await client.get(PATH, params=params)
        assert response.status == 400
        assert "Rechargez la page" in (await response.json())["text"]


async def test_a_forged_session_opens_a_new_one(client: Any) -> None:
    data = await _post(client, {"session": "../../", "text": "bonjour"})
    assert data["session"] != "../../" and len(data["replies"]) >= 2  # greeting, then the answer


async def test_a_well_formed_token_the_desk_never_issued_opens_a_new_session(client: Any) -> None:
    """A client cannot choose the address it talks as: an unknown token is replaced by one of ours."""
    made_up = "client-chosen-token-0123456789"
    data = await _post(client, {"session": made_up, "text": "bonjour"})
    assert data["session"] != made_up and len(data["replies"]) >= 2  # greeting, then the answer
    again = await _post(client, {"session": data["session"], "text": "bonjour"})
    assert again["session"] == data["session"]


async def test_the_channel_can_be_turned_off(db: Any, aiohttp_client: Any) -> None:
    client = await _client(db, aiohttp_client, httpchat=False)
    assert (await client.post(PATH, json={"start": True})).status == 404


def test_agents_read_the_channel_in_french() -> None:
    assert CHANNEL["httpchat"] == "Messagerie intégrée (HTTP)"
    assert all(CHANNEL[c.value] == c.label for c in Channel)


async def test_answers_a_gone_client_did_not_get_wait_for_its_poll(client: Any, db: Any) -> None:
    """The adapter's record when writing the response failed (the client hung up): deferred,
    then given by the next poll, once."""
    chat = HttpChat(client.app[dialogue_key], db.sessions)
    token, frames = await chat.converse(parse_request(b'{"start": true}'))
    await chat.answered(frames, written=False)
    assert {row.status for row in await _outbox(db)} == {OutboxStatus.PENDING}
    poll = await (await client.get(PATH, params={"session": token})).json()
    assert [m["id"] for m in poll["messages"]] == [f["id"] for f in frames]
    await _settled(db)
    assert (await (await client.get(PATH, params={"session": token})).json())["messages"] == []
