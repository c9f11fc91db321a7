"""Fixtures: a Bot API server on loopback, the demo territory, the real app behind aiohttp_client."""

from __future__ import annotations

import os
from datetime import timedelta
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.messages import Button, Inbound, Outbound
from bot.telegram import SECRET_HEADER, PipelineOptions, TelegramOptions
from guichet.demo import load_demo
from guichet.settings import load_settings
from guichet.wiring import build_app
from tests.conftest import Database
from tests.typo import plain
from tests.telegram.fake_bot_api import BotApiServer, FakeBotApi
from web.keys import dialogue_key, telegram_key, telegram_options_key

TOKEN = "123456:TEST-guichet-token"
SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="session", autouse=True)
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One NLU model cache for the whole run: the classifier is fitted once."""
    previous = os.environ.get("GUICHET_NLU_CACHE")
    os.environ["GUICHET_NLU_CACHE"] = str(tmp_path_factory.mktemp("nlu-cache"))
    yield
    if previous is None:
        os.environ.pop("GUICHET_NLU_CACHE", None)
    else:
        os.environ["GUICHET_NLU_CACHE"] = previous


@pytest.fixture(scope="session", autouse=True)
def ptb_timedelta() -> Iterator[None]:
    """Opt in to PTB's timedelta durations: PTB 22.8 itself warns in RetryAfter() otherwise."""
    previous = os.environ.get("PTB_TIMEDELTA")
    os.environ["PTB_TIMEDELTA"] = "true"
    yield
    if previous is None:
        os.environ.pop("PTB_TIMEDELTA", None)
    else:
        os.environ["PTB_TIMEDELTA"] = previous


@pytest.fixture
async def bot_api() -> AsyncIterator[BotApiServer]:
    server = BotApiServer(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def demo(db: Database) -> Database:
    """The demo SEM territory (schools, 20 assets, agents)."""
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=20)
    return db


@dataclass
class RecordingEngine:
    """A dialogue engine that remembers what it was given and answers with one button."""

    seen: list[Inbound] = field(default_factory=list)
    fail: bool = False
    #: A fake: the pipeline closes the update's row after it (the real engine does it itself).
    closes_stored_rows = False

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        if self.fail:
            raise RuntimeError("engine down")
        self.seen.append(inbound)
        return [Outbound(f"reçu : {inbound.kind}", buttons=(Button("Oui", "kb:ok"),))]


@dataclass
class Telegram:
    """The app under test as Telegram sees it: webhook POSTs in, Bot API calls out."""

    client: TestClient[Any, Any]
    api: FakeBotApi
    app: web.Application

    async def post(self, update: dict[str, Any] | str | bytes, *, secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        if isinstance(update, dict):
            response = await self.client.post("/telegram/webhook", json=update, headers=headers)
        else:
            response = await self.client.post("/telegram/webhook", data=update, headers=headers)
        return response.status

    async def settle(self) -> None:
        """Wait until every stored update was processed."""
        pipeline = self.app[telegram_key].pipeline
        assert pipeline is not None
        await pipeline.drain()

    async def say(self, update: dict[str, Any]) -> list[str]:
        """Post an update, wait for its processing; the texts sent to its chat in response."""
        chat = _chat_of(update)
        before = len(self.api.sent_to(chat))
        assert await self.post(update) == 200
        await self.settle()
        return [plain(p["text"]) for p in self.api.sent_to(chat)[before:]]


def _chat_of(update: dict[str, Any]) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    for key in ("message", "edited_message", "my_chat_member"):
        if key in update:
            return int(update[key]["chat"]["id"])
    raise KeyError("no chat in update")


MakeTelegram = Callable[..., Awaitable[Telegram]]


@pytest.fixture
def make_telegram(
    demo: Database, bot_api: BotApiServer, aiohttp_client: Any
) -> MakeTelegram:
    """Build the real app (guichet.wiring.build_app) wired to the Bot API server on loopback."""

    async def make(
        *, secret: str | None = SECRET, engine: Any = None, options: TelegramOptions | None = None,
        **overrides: Any,
    ) -> Telegram:
        values: dict[str, Any] = {
            "database_url": demo.url, "telegram_token": TOKEN,
            "telegram_base_url": bot_api.base_url, "telegram_webhook_secret": secret,
        }
        settings = load_settings(**{**values, **overrides})
        app = build_app(settings, demo.engine, demo.sessions)
        app[telegram_options_key] = options or TelegramOptions(
            pipeline=PipelineOptions(sweep_interval=0.2, sweep_grace=timedelta(0)),
        )
        if engine is not None:
            app[dialogue_key] = engine  # read by the Telegram channel when it starts
        client = await aiohttp_client(app)
        return Telegram(client=client, api=bot_api.api, app=app)

    return make
