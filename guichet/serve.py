"""`guichet serve`: the web server and, unless disabled, the background loops."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys

from aiohttp import web

from desk.db import create_engine, session_factory
from desk.migrate import upgrade
from guichet.logs import configure_logging
from guichet.settings import Settings
from web.app import AccessLogger
from guichet.wiring import build_app

log = logging.getLogger("guichet")


def serve(settings: Settings) -> int:
    """Run until interrupted; migrations are applied first on the embedded default."""
    configure_logging(settings.log_level, settings.log_format)
    # `/readyz` reads the schema revision through alembic, which says so at INFO on every probe.
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    engine = create_engine(settings.database_url)
    if settings.is_sqlite:
        asyncio.run(_migrate(settings))
    app = build_app(settings, engine, session_factory(engine))

    async def announce(_app: web.Application) -> None:
        """Said once every background context has started (after the NLU model is loaded)."""
        # What start-up built (NLU model, knowledge base, mappers) lives as long as the
        # process: out of the collector's sight, full collections stop rescanning it.
        gc.collect()
        gc.freeze()
        base = settings.public_url.rstrip("/")
        print(f"Guichet est prêt : {base}/chat (file d'attente des agents : {base}/agents)", file=sys.stderr)
        for slug in settings.served_territories[1:]:
            print(f"  territoire {slug} : {base}/t/{slug}/chat", file=sys.stderr)

    app.on_startup.append(announce)
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None,
                access_log_class=AccessLogger)
    return 0


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
