"""The composition root: every shared object built once from settings, then the app's parts plugged in.

Order matters and is the only place it is written down: the objects first (settings,
database, territory context, NLU, knowledge base, dialogue engine, outbox dispatcher and SLA
watcher), then each door (agents' pages, API, Telegram, e-mail, knowledge base pages, web
chat), which registers its outbox sender with the dispatcher, and last the background loops,
so every sender is known before the dispatcher's first pass.
"""

from __future__ import annotations

from datetime import timedelta

import asyncio
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.engine import DialogueEngine
from guichet.background import setup_background, start_background
from guichet.channels.email import setup_email
from guichet.channels.httpchat import setup_httpchat
from guichet.channels.telegram import setup_telegram
from guichet.components import Nlu, build_context, build_kb, build_nlu
from guichet.settings import Settings
from domain.addresses import qualify
from handlers.context import context_for
from nlu import NluBackend
from routing import load_territory
from routing.calendar import Calendar
from web.agents import setup_agents
from web.api import setup_api
from web.app import database_context, init_app
from web.chat import setup_chat
from web.kb import setup_kb
from web.rating import setup_rating
from web.metrics import MeasuredNlu
from web.keys import context_key, dialogue_key, dialogues_key, kb_key, nlu_key, sessions_key, settings_key

nlu_owner_key = web.AppKey("nlu_owner", Nlu)


def setup_desk(app: web.Application, *, nlu_backend: NluBackend | None = None) -> None:
    """The territories' contexts, the NLU, the knowledge base and one dialogue engine per served
    territory (sharing the NLU and the knowledge base), built once.

    `nlu_backend` replaces the NLU the settings choose (tests give a scripted one).
    """
    settings = app[settings_key]
    nlu = build_nlu(settings)
    kb = build_kb()
    backend = MeasuredNlu(nlu_backend or nlu.backend)
    app[context_key] = build_context(settings)
    app[nlu_owner_key] = nlu
    app[nlu_key] = backend
    app[kb_key] = kb
    engines = {
        slug: DialogueEngine(app[sessions_key], context_for(slug), backend, kb, public_url=settings.public_url,
                             reply_lease=timedelta(seconds=settings.reply_lease_seconds))
        for slug in settings.served_territories
    }
    app[dialogues_key] = engines
    app[dialogue_key] = engines[settings.served_territories[0]]
    app.cleanup_ctx.append(_nlu_context)


async def _nlu_context(app: web.Application) -> AsyncIterator[None]:
    """Train or load the local model off the loop before the first message; close Rasa's client."""
    nlu = app[nlu_owner_key]
    await asyncio.to_thread(nlu.warm_up)
    yield
    await nlu.close()


def calendar_for(territory: str) -> Calendar:
    return context_for(territory).calendar


def operator_for(territory: str) -> str:
    """The plan's coordinator: the operator organisation's slug."""
    return load_territory(territory).operator.slug


def build_app(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
    *, nlu: NluBackend | None = None,
) -> web.Application:
    """The whole application for `guichet serve` and for the tests (`nlu` replaces the NLU)."""
    default = settings.served_territories[0]

    def telegram_address_for(territory: str, chat: str) -> str:
        """An agents' group is reached by its territory's bot (`domain.addresses`)."""
        return qualify("" if territory == default else territory, chat)

    background = partial(setup_background, calendar_for=calendar_for, operator_for=operator_for,
                         defer_loops=True, telegram_address_for=telegram_address_for)
    app = init_app(
        settings, engine, sessions,
        extensions=[
            background, partial(setup_desk, nlu_backend=nlu), setup_agents, setup_api,
            setup_telegram, setup_email, setup_httpchat, setup_kb, setup_rating, setup_chat, start_background,
        ],
    )
    # First in, last out: the engine outlives every loop that uses it.
    app.cleanup_ctx.insert(0, database_context(engine))
    return app
