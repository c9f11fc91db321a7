"""A label scanned on every chat door: the desk knows the device, its room and its school.

A teacher never seen before confirms « Vous êtes bien à l'école … ? » with one tap and gives her role,
then what is wrong; a teacher already known reports in one message. Telegram opens the bot with
`/start asset-TAG`, the web chat and the HTTP chat open with `?asset=TAG`: one dialogue behind them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from desk.models import Asset, Room, School, Ticket
from guichet.demo import load_demo
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.scenarios.conftest import _NLU, SECRET
from tests.scenarios.doors import HttpChatDoor, TelegramDoor, WebchatDoor, telegram_options
from tests.telegram.conftest import TOKEN, bot_api, ptb_timedelta  # noqa: F401 - Bot API server on loopback
from web.keys import telegram_options_key

CHAT_DOORS = ["webchat", "telegram", "httpchat"]


@dataclass
class Label:
    db: Any
    door: WebchatDoor | TelegramDoor | HttpChatDoor
    school: School
    commune: str
    tag: str
    room: str


@pytest.fixture(params=CHAT_DOORS)
async def label(request: pytest.FixtureRequest, db: Any, aiohttp_client: Any, bot_api: Any) -> AsyncIterator[Label]:
    """The whole desk on the demo territory, a chat door not yet used, and a labelled projector in a room."""
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=40)
        asset, school, room = (await session.execute(
            select(Asset, School, Room).join(School, Asset.school_id == School.id).join(Room, Asset.room_id == Room.id)
            .where(School.status == "public", Asset.type == "projector").order_by(Asset.id).limit(1))).one()
        await session.refresh(school, ["commune"])
        commune = school.commune.name
    values: dict[str, Any] = {"database_url": db.url, "territory": "sem", "background": False,
                              "public_url": "http://guichet.test"}
    door: WebchatDoor | TelegramDoor | HttpChatDoor
    if request.param == "telegram":
        values.update(telegram_token=TOKEN, telegram_base_url=bot_api.base_url, telegram_webhook_secret=SECRET)
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        app[telegram_options_key] = telegram_options()
        door = TelegramDoor(client=await aiohttp_client(app), app=app, api=bot_api, secret=SECRET)
    else:
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        client = await aiohttp_client(app)
        door = WebchatDoor(client=client, app=app) if request.param == "webchat" else HttpChatDoor(client=client, app=app)
    yield Label(db, door, school, commune, asset.tag, room.name)
    if isinstance(door, WebchatDoor):
        await door.close()


async def _only_ticket(db: Any) -> Ticket:
    async with db.sessions() as session:
        tickets = (await session.scalars(select(Ticket))).all()
    assert len(tickets) == 1, tickets
    return tickets[0]


async def _describe(door: Any, text: str) -> None:
    """Her one message; a tutorial may come first (primo-maintenance), never a summary to confirm."""
    await door.say(text)
    if any("Toujours en panne" in b for b, _ in door.buttons):
        await door.press("Toujours en panne")
    assert "C'est noté : votre demande 20" in door.text, f"{door.name}: {door.text}"
    assert not any(b == "Envoyer" for b, _ in door.buttons)


async def test_a_new_teacher_confirms_the_school_in_one_tap(label: Label) -> None:
    """Never seen before: the device and « Vous êtes bien à l'école … ? » (Oui/Non), her role, her message."""
    door = label.door
    await door.scan_label(label.tag)
    assert label.tag in door.text and label.room in door.text, door.text
    assert "Vous êtes bien à l'école" in door.text and f"({label.commune}) ?" in door.text
    assert "dans quelle école" not in door.text
    assert [b for b, _ in door.buttons] == ["Oui", "Non"]
    await door.press("Oui")
    await door.press("Enseignant")
    assert "Vous êtes inscrit·e" in door.text and "Que se passe-t-il" in door.text
    await _describe(door, "il ne s'allume plus du tout")
    ticket = await _only_ticket(label.db)
    assert ticket.school_id == label.school.id and ticket.room == label.room and ticket.equipment == "projector"
    assert ticket.channel == door.name


async def test_non_falls_back_to_the_school_question(label: Label) -> None:
    """« Non »: the usual question; once her school is given, the label's device is still the report's."""
    door = label.door
    await door.scan_label(label.tag)
    await door.press("Non")
    assert "dans quelle école" in door.text
    await door.onboard(label.school.uai)
    assert label.tag in door.text and "Que se passe-t-il" in door.text


async def test_a_known_teacher_reports_in_one_message(label: Label) -> None:
    """Already linked to her school: the label, then one message, and the ticket is open on that device."""
    door = label.door
    await door.start()
    await door.onboard(label.school.uai)
    await door.scan_label(label.tag)
    assert "Vous êtes bien" not in door.text and "Que se passe-t-il" in door.text
    await _describe(door, "l'image est floue et toute jaune")
    ticket = await _only_ticket(label.db)
    async with label.db.sessions() as session:
        tag = await session.scalar(select(Asset.tag).where(Asset.id == ticket.asset_id))
    assert tag == label.tag and ticket.requester_id is not None


async def test_a_teacher_notes_a_device_without_opening_a_ticket(label: Label) -> None:
    """« note TAG : … » on every chat door: a line in the device's logbook, no ticket; another
    school's device (or an unknown tag) is refused with the way to find the label."""
    from desk.models import AssetEvent

    door = label.door
    await door.start()
    await door.onboard(label.school.uai)
    await door.say(f"note {label.tag.lower()} : câble HDMI rebranché, ça remarche")
    assert f"c'est noté dans le carnet de bord du matériel {label.tag}" in door.text, door.text
    await door.say("note SEM-999999 : rien")
    assert "Je ne trouve pas le matériel SEM-999999 dans l'inventaire de votre école" in door.text
    async with label.db.sessions() as session:
        assert (await session.scalars(select(Ticket))).all() == []
        notes = (await session.scalars(select(AssetEvent).where(AssetEvent.kind == "note"))).all()
    assert [(n.body, n.actor_kind, n.channel) for n in notes] == [
        ("câble HDMI rebranché, ça remarche", "requester", door.name)]
