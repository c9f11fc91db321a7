"""Every object the application shares, under one typed key each (built by `guichet.wiring`).

The composition root builds the objects once and stores them here; pages, webhooks and
channels read them through these keys — no string-keyed bag, no object built twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.engine import DialogueEngine
from bot.telegram import TelegramOptions, TelegramRuntime
from desk.outbox import OutboxDispatcher
from desk.sla_watcher import SlaWatcher
from handlers.context import DeskContext
from handlers.email_intake import EmailIntake
from kb import KnowledgeBase
from nlu import NluBackend

if TYPE_CHECKING:  # types only: the objects are passed in by the composition root
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from guichet.settings import Settings
    from web.health import Loops

__all__ = [
    "context_key", "dialogue_key", "dialogues_key", "dispatcher_key", "email_intake_key", "engine_key", "kb_key", "loops_key",
    "nlu_key", "sessions_key", "settings_key", "telegram_key", "telegram_options_key", "watcher_key",
]

settings_key: web.AppKey[Settings] = web.AppKey("settings")
engine_key: web.AppKey[AsyncEngine] = web.AppKey("engine")
sessions_key: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
context_key = web.AppKey("desk_context", DeskContext)
nlu_key = web.AppKey("nlu", NluBackend)
kb_key = web.AppKey("kb", KnowledgeBase)
dialogue_key = web.AppKey("dialogue_engine", DialogueEngine)
#: The dialogue engine of each served territory by slug, the default territory's first
#: (the same object as `dialogue_key`).
dialogues_key: web.AppKey[dict[str, DialogueEngine]] = web.AppKey("dialogue_engines")
dispatcher_key = web.AppKey("outbox_dispatcher", OutboxDispatcher)
watcher_key = web.AppKey("sla_watcher", SlaWatcher)
email_intake_key = web.AppKey("email_intake", EmailIntake)
telegram_key = web.AppKey("telegram", TelegramRuntime)
telegram_options_key = web.AppKey("telegram_options", TelegramOptions)
loops_key: web.AppKey[Loops] = web.AppKey("background_loops")
