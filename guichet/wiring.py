"""Wiring: which packages plug into the web application, built from settings."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from guichet.settings import Settings
from web.app import database_context, init_app


def build_app(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> web.Application:
    """The whole application for `guichet serve` and for the tests."""
    app = init_app(settings, engine, sessions, extensions=[])
    app.cleanup_ctx.append(database_context(engine))
    return app
