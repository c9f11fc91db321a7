"""Two territories, two bots, one application: SEM's bot and Saint-Denis's, on the local Bot API server.

Telegram numbers updates per bot and a person's chat id is the same for every bot: the same
update id and the same chat on both bots are two updates of two conversations, each answered
by its own bot from its own territory; a notice goes out through the bot of its territory.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.telegram import PipelineOptions, TelegramOptions
from desk.models import Commune, Conversation, InboundMessage, Organisation, OutboxMessage, School
from domain.uai import make_uai
from domain.vocabulary import Channel
from guichet.bootstrap import ensure_territory_from_preset
from guichet.channels.telegram import telegram_bots_key
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.telegram.conftest import SECRET, TOKEN
from tests.telegram.updates import text_update
from tests.typo import plain
from web.keys import dispatcher_key

SD_TOKEN = "654321:TEST-saint-denis-token"
SD_SCHOOL = make_uai("9740001")
CHAT = 4242


async def _saint_denis(db: Any) -> None:
    async with db.sessions.begin() as s:
        territory = await ensure_territory_from_preset(s, "saint-denis")
        ville = await s.scalar(select(Organisation).where(Organisation.territory_id == territory.id,
                                                          Organisation.slug == "commune-saint-denis"))
        commune = Commune(territory_id=territory.id, insee_code="97411", name="Saint-Denis", organisation_id=ville.id)
        s.add(commune)
        await s.flush()
        s.add(School(territory_id=territory.id, uai=SD_SCHOOL, name="École Lislet Geoffroy", commune_id=commune.id))


async def _app(demo: Any, bot_api: Any, aiohttp_client: Any) -> Any:
    await _saint_denis(demo)
    bot_api.api.other_tokens.add(SD_TOKEN)
    settings = load_settings(
        database_url=demo.url, territories="sem,saint-denis", telegram_token=TOKEN,
        telegram_tokens=f"saint-denis:{SD_TOKEN}", telegram_base_url=bot_api.base_url,
        telegram_webhook_secret=SECRET, background=False)
    app = build_app(settings, demo.engine, demo.sessions)
    from web.keys import telegram_options_key

    app[telegram_options_key] = TelegramOptions(pipeline=PipelineOptions(sweep_interval=0.2,
                                                                         sweep_grace=timedelta(0)))
    return await aiohttp_client(app)


async def _say(client: Any, bot_api: Any, path: str, update: dict[str, Any], token: str) -> list[str]:
    before = len(bot_api.api.sent_to(CHAT, token))
    response = await client.post(path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status == 200, await response.text()
    for runtime in client.app[telegram_bots_key].values():
        await runtime.pipeline.drain()
    return [plain(p["text"]) for p in bot_api.api.sent_to(CHAT, token)[before:]]


async def test_two_bots_keep_two_conversations_apart(demo: Any, bot_api: Any, aiohttp_client: Any) -> None:
    client = await _app(demo, bot_api, aiohttp_client)
    async with demo.sessions() as s:
        sem_uai = await s.scalar(select(School.uai).join(Organisation, Organisation.territory_id == School.territory_id)
                                 .where(Organisation.slug == "sem").order_by(School.uai).limit(1))
    # The same update id and the same chat, to each bot.
    sd = await _say(client, bot_api, "/t/saint-denis/telegram/webhook", text_update(1, CHAT, "/start"), SD_TOKEN)
    sem = await _say(client, bot_api, "/telegram/webhook", text_update(1, CHAT, "/start"), TOKEN)
    assert sd and sem  # each bot greeted the person
    # Saint-Denis's bot knows Saint-Denis's schools, not SEM's; SEM's bot the reverse.
    sd_found = await _say(client, bot_api, "/t/saint-denis/telegram/webhook", text_update(2, CHAT, SD_SCHOOL), SD_TOKEN)
    sd_sem = await _say(client, bot_api, "/t/saint-denis/telegram/webhook", text_update(3, CHAT, sem_uai), SD_TOKEN)
    sem_found = await _say(client, bot_api, "/telegram/webhook", text_update(2, CHAT, sem_uai), TOKEN)
    assert "École Lislet Geoffroy (Saint-Denis" in " ".join(sd_found)
    assert "Saint-Étienne" in " ".join(sem_found) and "Lislet" not in " ".join(sem_found)
    assert "Je ne trouve pas d'école" in " ".join(sd_sem)
    async with demo.sessions() as s:
        keys = set((await s.scalars(select(InboundMessage.external_id).where(
            InboundMessage.channel == Channel.TELEGRAM.value))).all())
        conversations = {c.external_id: c for c in (await s.scalars(select(Conversation))).all()}
    assert {"update:1", "update:2", "saint-denis/update:1", "saint-denis/update:2", "saint-denis/update:3"} <= keys
    assert {str(CHAT), f"saint-denis/{CHAT}"} <= set(conversations)
    # A notice for the Saint-Denis conversation goes out through Saint-Denis's bot.
    async with demo.sessions.begin() as s:
        s.add(OutboxMessage(channel=Channel.TELEGRAM.value, recipient=f"saint-denis/{CHAT}",
                            body="Votre demande avance.", payload=None, dedupe_key="test:sd-notice"))
    await client.app[dispatcher_key].run_once()
    sent = bot_api.api.sent_to(CHAT, SD_TOKEN)
    assert any("Votre demande avance" in plain(p["text"]) for p in sent)
    assert not any("Votre demande avance" in plain(p["text"]) for p in bot_api.api.sent_to(CHAT, TOKEN))
    # An unknown territory has no webhook.
    response = await client.post("/t/vienne-condrieu/telegram/webhook", json=text_update(9, CHAT, "x"),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status == 404
