"""PostgreSQL restarted while teachers report problems through the Telegram webhook.

A real `guichet serve` process, a Bot API server on loopback, and a PostgreSQL server of the
test's own (`tests.faults.postgres`: restarting the machine's shared server would cut every
other connection to it). Teachers onboard and report as Telegram delivers: each update posted
again until a 2xx. The server is stopped twice for a few seconds (fast shutdown: every
connection cut) and started again while they talk. Expected: the webhook answers 503 while
the database is away (never 500: Telegram keeps the update and retries), the process recovers
by itself, every report becomes exactly one ticket, every update is answered by one committed
turn, every answer reaches the chat once, and the log says « database unavailable » / « back »
once per change instead of a traceback per request.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, text

from bot.flows.bad_input import APOLOGY
from bot.telegram import WEBHOOK_PATH
from desk.db import create_engine, session_factory
from desk.migrate import upgrade
from desk.models import InboundMessage, OutboxMessage, School, Ticket
from guichet.demo import load_demo
from tests.faults.harness import REPORTS, Teacher, Webhooks, delivered_vs_recorded
from tests.faults.postgres import PrivatePostgres
from tests.faults.test_kill_during_webhooks import ROOT, SECRET, TOKEN, Serve, _free_port
from tests.telegram.fake_bot_api import BotApiServer

TEACHERS = 24
OUTAGES = ((3.0, 4.0), (10.0, 3.0))  # (seconds after the first report, seconds down)
REPLY_LEASE = 10.0  # longer than an outage, as in production (60 s)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres.find()
    if server is None:
        pytest.skip(f"cannot run a PostgreSQL server to restart: {PrivatePostgres.why}")
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def serve_env(url: str, bot_api: BotApiServer, port: int, log: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")}
    env.update(
        GUICHET_DATABASE_URL=url, GUICHET_HTTP_PORT=str(port), GUICHET_TELEGRAM_TOKEN=TOKEN,
        GUICHET_TELEGRAM_BASE_URL=bot_api.base_url, GUICHET_TELEGRAM_WEBHOOK_SECRET=SECRET,
        GUICHET_TELEGRAM_RATE_LIMIT="false", GUICHET_LOG_LEVEL="WARNING",
        GUICHET_REPLY_LEASE_SECONDS=str(REPLY_LEASE), GUICHET_OUTBOX_INTERVAL_SECONDS="0.5",
        GUICHET_SESSION_SECRET=base64.urlsafe_b64encode(b"fault-session-key-32-bytes-long!").decode(),
        GUICHET_NLU_CACHE=os.environ.get("GUICHET_NLU_CACHE", str(ROOT / "var" / "nlu-cache")),
        GUICHET_FAULT_LOG=str(log),
    )
    env.update(extra)
    return env


async def test_postgres_restart_during_reports_loses_nothing(postgres: PrivatePostgres, tmp_path: Path) -> None:
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text('CREATE DATABASE "guichet"'))
    await admin.dispose()
    url = postgres.url("guichet")
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await load_demo(session, "sem", assets=20)
    async with sessions() as session:
        school = (await session.scalars(
            select(School).where(School.status == "public").order_by(School.uai))).first()
    assert school is not None
    await engine.dispose()  # the test's own connections would be cut too: opened again at the end

    bot_api = BotApiServer(TOKEN)
    await bot_api.start()
    port = _free_port()
    serve = Serve(serve_env(url, bot_api, port, tmp_path / "serve.log"), port)
    hooks = Webhooks([f"http://127.0.0.1:{port}{WEBHOOK_PATH}"])
    teachers = [Teacher(bot_api.api, hooks, 7_200_001 + i, REPORTS[i % len(REPORTS)]) for i in range(TEACHERS)]
    outages: list[tuple[float, float]] = []

    async def restarts() -> None:
        started = time.monotonic()
        for after, down in OUTAGES:
            await asyncio.sleep(max(0.0, started + after - time.monotonic()))
            stopped_at = time.monotonic()
            await asyncio.to_thread(postgres.stop)
            await asyncio.sleep(down)
            await asyncio.to_thread(postgres.start)
            outages.append((stopped_at, time.monotonic()))

    try:
        await serve.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=TEACHERS)) as http:
            await asyncio.gather(restarts(), *(t.run(http, school.uai, school.id) for t in teachers))
        if not postgres.running():
            postgres.start()
        engine = create_engine(url)
        sessions = session_factory(engine)
        deadline = time.monotonic() + 60
        while True:
            async with sessions() as session:
                inbound = (await session.scalars(select(InboundMessage))).all()
                outbox = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
                tickets = (await session.execute(
                    select(Ticket.reference, func.count()).group_by(Ticket.reference))).all()
            lost, repeated = delivered_vs_recorded(bot_api.api, list(outbox))
            settled = all(r.status in ("sent", "dead") for r in outbox)
            log = serve.log.read_text(errors="replace")
            told = log.count("database unavailable") == log.count("database available again")
            if (all(r.status == "processed" for r in inbound) and not lost and settled and told) or (
                    time.monotonic() > deadline):
                break
            await asyncio.sleep(0.5)
        await engine.dispose()
    finally:
        serve.stop()
        await bot_api.stop()
        if not postgres.running():
            postgres.start()

    statuses = dict(hooks.statuses)
    print(f"\nPostgreSQL restarted {len(outages)}× ({', '.join(f'{b - a:.1f} s' for a, b in outages)} down): "
          f"{hooks.posted} updates acknowledged, webhook statuses {statuses}, {len(inbound)} stored, "
          f"{len(outbox)} answers, {len(tickets)} tickets, {sum(repeated.values())} repeated")
    assert len(outages) == len(OUTAGES)
    assert set(statuses) <= {200, 503, 0}, statuses  # never a 500: Telegram would keep retrying blindly
    assert statuses.get(503, 0) + statuses.get(0, 0) > 0, "no update met the outage: the test proved nothing"
    stalled = [t.user_id for t in teachers if t.stalled or t.reference is None]
    assert not stalled, f"teachers left without an answer or a reference: {stalled}: " + repr(
        [(p.get("text", "")[:80], p.get("reply_markup")) for p in bot_api.api.sent_to(stalled[0])])
    assert Counter(r.status for r in inbound) == {"processed": len(inbound)}
    assert len(inbound) == hooks.posted  # every acknowledged update stored once
    references = {t.reference for t in teachers}
    assert len(references) == TEACHERS and {r for r, _ in tickets} == references, (references, tickets)
    assert not lost, f"answers never delivered: {sorted(lost.elements())[:5]}"
    assert {r.status for r in outbox} == {"sent"}
    assert not [c for c in bot_api.api.calls_to("sendMessage") if c.params.get("text") == APOLOGY], (
        "a teacher was told of an incident the desk recovered from by itself")
    # An answer is repeated only when the database went away between the Bot API's reply and
    # the recording of the delivery: its first sending fell in an outage (or just before one).
    sends: dict[tuple[int, str], list[float]] = {}
    for call in bot_api.api.calls_to("sendMessage"):
        sends.setdefault((int(call.params["chat_id"]), call.params["text"]), []).append(call.at)
    for answer, times in sends.items():
        for first, again in zip(times, times[1:]):
            assert any(stop - 1.0 <= first <= start for stop, start in outages), (
                f"{answer} sent at {first:.2f} and again at {again:.2f}, outages {outages}")
    assert "Traceback" not in log, log[-4000:]
    down = log.count("database unavailable")
    back = log.count("database available again")
    assert 1 <= down <= 2 * len(OUTAGES) and back == down, log[-4000:]
