"""Wiring: which packages plug into the web application, built from settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.email import setup_email
from bot.telegram import setup_telegram
from desk.background import setup_background
from guichet.settings import Settings
from handlers.context import context_for
from handlers.status_hooks import status_hook
from routing import load_territory
from routing.calendar import Calendar
from web.agent_services import STATUS_HOOK
from web.agents import setup_agents
from web.api import setup_api
from web.app import database_context, init_app, services_key, sessions_key, settings_key
from web.chat import DIALOGUE_ENGINE, setup_chat
from web.kb import setup_kb
from web.kb.views import kb_key


async def dialogue_context(app: web.Application) -> AsyncIterator[None]:
    """The dialogue engine from settings (territory, NLU backend, KB), shared by every channel."""
    from bot.engine import DialogueEngine
    from handlers.context import context_for
    from kb import KnowledgeBase
    from nlu import FallbackNlu, LocalNlu, NluBackend, RasaNlu

    settings = app[settings_key]
    local = LocalNlu()
    await asyncio.to_thread(local.parse, "bonjour")  # trains or loads the cached model off the loop
    nlu: NluBackend = local
    rasa: RasaNlu | None = None
    if settings.nlu == "rasa" and settings.rasa_url:
        rasa = RasaNlu(settings.rasa_url)
        nlu = FallbackNlu(rasa, local) if settings.nlu_fallback else rasa
    kb = app[kb_key] if kb_key in app else KnowledgeBase.from_directory()
    app[services_key][DIALOGUE_ENGINE] = DialogueEngine(
        app[sessions_key], context_for(settings.territory), nlu, kb, public_url=settings.public_url,
    )
    yield
    app[services_key].pop(DIALOGUE_ENGINE, None)
    if rasa is not None:
        await rasa.close()


def setup_dialogue(app: web.Application) -> None:
    """Build the engine at start-up, before the channels that use it (Telegram, web chat)."""
    app.cleanup_ctx.append(dialogue_context)


def setup_status_hooks(app: web.Application) -> None:
    """Agents' status changes recompute the SLA clocks and start a theft's replacement."""
    app[services_key][STATUS_HOOK] = status_hook(context_for)


def calendar_for(territory: str) -> Calendar:
    return context_for(territory).calendar


def operator_for(territory: str) -> str:
    """The plan's coordinator: the operator organisation's slug."""
    return load_territory(territory).operator.slug


def build_app(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> web.Application:
    """The whole application for `guichet serve` and for the tests."""
    background = partial(setup_background, calendar_for=calendar_for, operator_for=operator_for)
    app = init_app(
        settings, engine, sessions,
        extensions=[
            setup_status_hooks, background, setup_dialogue, setup_agents, setup_api,
            setup_telegram, setup_email, setup_kb, setup_chat,
        ],
    )
    # First in, last out: the engine outlives every loop that uses it.
    app.cleanup_ctx.insert(0, database_context(engine))
    return app
