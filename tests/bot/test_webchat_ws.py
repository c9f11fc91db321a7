"""The web chat over a real websocket: greeting, JSON contract, resumption, bad frames, pending notices."""

from __future__ import annotations

from tests.typo import plain

import json

import pytest
from aiohttp import WSMsgType

from desk.models import OutboxMessage
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.bot.conftest import FIRMINY_JF

#: A well-formed token the desk never issued: a page may not choose the address it talks as.
MADE_UP = "test-session-token-0123456789"


@pytest.fixture
async def client(aiohttp_client, desk_db, nlu):
    settings = load_settings(database_url=desk_db.url, background=False, public_url="http://guichet.test",
                             telegram_token=None, smtp_url=None, imap_url=None, smtp_intake_port=None)
    app = build_app(settings, desk_db.engine, desk_db.sessions)
    return await aiohttp_client(app)


async def _receive(ws) -> dict:
    msg = await ws.receive(timeout=20)
    assert msg.type is WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def _drain(ws, count: int) -> list[dict]:
    return [await _receive(ws) for _ in range(count)]


async def test_root_redirects_and_page_is_french_and_accessible(client) -> None:
    """`/` leads to `/chat`, a French page with a live message log and a labelled text box."""
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/chat"
    page = await (await client.get("/chat")).text()
    assert 'lang="fr"' in page and 'aria-live="polite"' in page and '<label for="message">' in page
    assert (await client.get("/chat/static/chat.js")).status == 200


async def test_conversation_over_websocket(client) -> None:
    """Greeting with the session, buttons as label/payload, a report to a reference."""
    ws = await client.ws_connect("/chat/ws")
    greeting = await _receive(ws)
    assert len(greeting["session"]) >= 32 and "Bonjour ! Je suis le guichet numérique des écoles." in plain(greeting["text"])
    assert greeting["buttons"] == [] and greeting["links"] == []
    await ws.send_json({"text": FIRMINY_JF})
    pick = await _receive(ws)
    await ws.send_json({"button": pick["buttons"][0]["payload"]})
    role = await _receive(ws)
    assert [b["label"] for b in role["buttons"]] == ["Enseignant·e", "Directeur·rice"]
    await ws.send_json({"button": "role:teacher"})
    await _drain(ws, 2)
    await ws.send_json({"text": "le vidéoprojecteur de la classe de CM2 ne s'allume plus"})
    frame = await _receive(ws)
    if frame["buttons"] and frame["buttons"][-1]["payload"] == "kb:ko":
        assert frame["links"][0]["url"].startswith("http://guichet.test/kb/")
        await ws.send_json({"button": "kb:ko"})
        frame = (await _drain(ws, 2))[-1]
    await ws.send_json({"button": "skip:details"})
    summary = await _receive(ws)
    assert "Voici le résumé" in summary["text"]
    await ws.send_json({"button": "report:send", "id": "send-1"})
    outcome = await _receive(ws)
    assert "2026-00001" in outcome["text"]
    await ws.close()


async def test_malformed_frames_get_a_polite_error_and_the_socket_stays_open(client) -> None:
    """Not JSON, not an object, wrong types, binary: a French error object each time, then a normal answer."""
    ws = await client.ws_connect("/chat/ws")
    await _receive(ws)
    for bad in ("pas du json", "[1, 2]", '{"text": 42}', '{"foo": "bar"}', '{"button": {"x": 1}}', '{"text": "a", "id": "<script>"}'):
        await ws.send_str(bad)
        error = await _receive(ws)
        assert error["error"] == "bad_frame" and "Je n'ai pas pu lire ce message" in error["text"]
    await ws.send_bytes(b"\x00\x01")
    assert (await _receive(ws))["error"] == "bad_frame"
    await ws.send_json({"text": "bonjour"})
    assert "école" in (await _receive(ws))["text"]
    assert not ws.closed
    await ws.close()


async def test_session_resumes_and_pending_notices_are_delivered(client, desk_db) -> None:
    """Reconnecting with the same session sends no second greeting, only what waited in the outbox."""
    ws = await client.ws_connect("/chat/ws")
    token = (await _receive(ws))["session"]
    await ws.send_json({"text": FIRMINY_JF})
    await _receive(ws)
    await ws.close()
    async with desk_db.sessions.begin() as session:
        session.add(OutboxMessage(channel="webchat", recipient=token, body="Un technicien passe demain matin."))
    ws = await client.ws_connect(f"/chat/ws?session={token}")
    notice = await _receive(ws)
    assert notice["text"] == "Un technicien passe demain matin."
    await ws.send_json({"button": "school:none"})
    assert "suivi de sa commune" in (await _receive(ws))["text"]  # the onboarding step was kept
    await ws.close()
    async with desk_db.sessions() as session:
        from sqlalchemy import select

        assert (await session.scalar(select(OutboxMessage.status))) == "sent"


async def test_webchat_sender_keeps_messages_for_absent_pages(client) -> None:
    """With no page open, the sender raises a temporary failure: the row stays pending for later."""
    from desk.outbox import Outgoing, TemporaryFailure
    from web.chat import chat_sender_key

    sender = client.app[chat_sender_key]
    with pytest.raises(TemporaryFailure):
        await sender.send(Outgoing(1, "webchat", "nobody-is-here-0000000", None, "Bonjour", None, None, 1))
    ws = await client.ws_connect("/chat/ws")
    token = (await _receive(ws))["session"]
    await sender.send(Outgoing(2, "webchat", token, None, "Réponse de l'agent", None, None, 1))
    assert (await _receive(ws))["text"] == "Réponse de l'agent"
    await ws.close()


async def test_answers_are_on_record_and_marked_sent_once_pushed(client, desk_db) -> None:
    """Each answer was written to the outbox by its turn and marked sent once on the page."""
    from sqlalchemy import select

    ws = await client.ws_connect("/chat/ws")
    frames = [await _receive(ws)]
    token = frames[0]["session"]
    await ws.send_json({"text": FIRMINY_JF})
    frames.append(await _receive(ws))
    await ws.close()
    async with desk_db.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [r.payload["outbound"]["text"] for r in rows] == [f["text"] for f in frames]
    assert {(r.channel, r.recipient, r.status, r.attempts) for r in rows} == {("webchat", token, "sent", 1)}


async def test_a_token_the_desk_never_issued_opens_a_session_of_ours(client, desk_db) -> None:
    """A page that names a well-formed token of its own is greeted under a new token of the desk's,
    and nothing is recorded under the one it chose; the issued token resumes as usual."""
    from sqlalchemy import select

    from desk.models import Conversation

    ws = await client.ws_connect(f"/chat/ws?session={MADE_UP}")
    greeting = await _receive(ws)
    issued = greeting["session"]
    assert issued != MADE_UP and "Bonjour" in plain(greeting["text"])
    await ws.close()
    async with desk_db.sessions() as session:
        assert set(await session.scalars(select(Conversation.external_id))) == {issued}
    ws = await client.ws_connect(f"/chat/ws?session={issued}")
    await ws.send_json({"text": "bonjour"})
    assert (await _receive(ws)).get("session") in (None, issued)
    await ws.close()
