"""`/healthz` says the process is alive; `/readyz` says it can work, and names what it cannot."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from desk.db import create_engine, session_factory
from desk.migrate import current, downgrade, upgrade
from guichet.background import loop_context
from tests.web.world import make_settings
from web.app import init_app
from web.keys import loops_key


async def test_ready_on_a_migrated_database(db, aiohttp_client) -> None:
    """A migrated, reachable database and no background loop asked for: 200, alive too."""
    client = await aiohttp_client(init_app(make_settings(background=False), db.engine, db.sessions))
    response = await client.get("/readyz")
    assert response.status == 200, await response.text()
    assert (await response.json())["ok"] == {"database": "ok", "migrations": "ok"}
    assert (await client.get("/healthz")).status == 200


async def test_not_ready_when_the_schema_is_behind(tmp_path: Path, aiohttp_client) -> None:
    """A database one migration behind the code: 503 naming the migrations and both revisions."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    head = await current(engine)
    await downgrade(engine, "-1")
    behind = await current(engine)
    client = await aiohttp_client(init_app(make_settings(background=False), engine, session_factory(engine)))
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert set(body["failed"]) == {"migrations"}
    assert f"base à la révision {behind}, code à la révision {head}" in body["failed"]["migrations"]
    await engine.dispose()


async def test_not_ready_when_the_database_is_unreachable(aiohttp_client) -> None:
    """A database server that refuses connections (a closed port on loopback): 503 naming the database."""
    engine = create_engine("postgresql+asyncpg://guichet@127.0.0.1:9/guichet")
    client = await aiohttp_client(init_app(make_settings(background=False), engine, session_factory(engine)))
    response = await client.get("/readyz")
    assert response.status == 503
    assert set((await response.json())["failed"]) == {"database"}
    assert (await client.get("/healthz")).status == 503
    await engine.dispose()


async def test_not_ready_when_a_background_loop_died(db, aiohttp_client) -> None:
    """A background loop whose task ended while the app runs: 503 naming it."""

    async def ends(stop: asyncio.Event) -> None:
        return None

    async def waits(stop: asyncio.Event) -> None:
        await stop.wait()

    app = init_app(make_settings(background=True), db.engine, db.sessions)
    app.cleanup_ctx.append(loop_context("outbox dispatcher", waits))
    app.cleanup_ctx.append(loop_context("SLA watcher", ends))
    client = await aiohttp_client(app)
    for _ in range(50):
        if app[loops_key].dead():
            break
        await asyncio.sleep(0.01)
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert body["failed"] == {"background": "arrêtées : SLA watcher"}
    assert body["ok"]["migrations"] == "ok"


async def test_every_answer_carries_a_request_id(db, aiohttp_client) -> None:
    """A proxy's well-formed X-Request-ID is kept; a missing or odd one is replaced by a fresh id."""
    client = await aiohttp_client(init_app(make_settings(background=False), db.engine, db.sessions))
    kept = await client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})
    assert kept.headers["X-Request-ID"] == "proxy-1234abcd"
    odd = await client.get("/healthz", headers={"X-Request-ID": "<script>\u00e9"})
    fresh = await client.get("/no-such-page")
    assert fresh.status == 404
    for response in (odd, fresh):
        assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])
