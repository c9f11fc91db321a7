"""`guichet serve` stopped by SIGTERM (an orchestrator) or SIGINT (Ctrl-C) in the middle of traffic:
exit 0, no traceback in its log, and every update it had taken either answered or left to be taken
again — none stuck half done."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.telegram import WEBHOOK_PATH
from desk.models import InboundMessage, OutboxMessage
from guichet.demo import load_demo
from tests.faults.test_kill_during_webhooks import ROOT, SECRET, TOKEN, Serve, _free_port, _post_until_acknowledged
from tests.telegram import updates as u
from tests.telegram.fake_bot_api import BotApiServer

UPDATES = 40


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_serve_cleanly(db, tmp_path: Path, signum: signal.Signals) -> None:
    """Stopped with updates in flight: rc 0, no traceback, every taken update answered or released."""
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=20)
    bot_api = BotApiServer(TOKEN)
    await bot_api.start()
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")}
    env.update(
        GUICHET_DATABASE_URL=db.url, GUICHET_HTTP_PORT=str(port), GUICHET_TELEGRAM_TOKEN=TOKEN,
        GUICHET_TELEGRAM_BASE_URL=bot_api.base_url, GUICHET_TELEGRAM_WEBHOOK_SECRET=SECRET,
        GUICHET_TELEGRAM_RATE_LIMIT="false", GUICHET_LOG_LEVEL="INFO", GUICHET_LOG_FORMAT="json",
        GUICHET_OUTBOX_INTERVAL_SECONDS="0.5", GUICHET_REPLY_LEASE_SECONDS="2",
        GUICHET_NLU_CACHE=os.environ.get("GUICHET_NLU_CACHE", str(ROOT / "var" / "nlu-cache")),
        GUICHET_FAULT_LOG=str(tmp_path / "serve.log"),
    )
    serve = Serve(env, port)
    webhook = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    updates = [u.text_update(950_000 + i, 7_100_001 + i, "le vidéoprojecteur ne s'allume plus") for i in range(UPDATES)]
    try:
        await serve.start()
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(_post_until_acknowledged(http, webhook, update) for update in updates))
        assert serve.process is not None
        serve.process.send_signal(signum)  # turns are still running: the webhook answers once stored
        started = time.monotonic()
        rc = await asyncio.to_thread(serve.process.wait, 60)
        took = time.monotonic() - started
        log = serve.log.read_text(errors="replace")
        async with db.sessions() as session:
            at_stop = [row.status for row in (await session.scalars(select(InboundMessage))).all()]

        # The next process takes up what this one left: every update answered, every reply sent.
        await serve.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            async with db.sessions() as session:
                inbound = (await session.scalars(select(InboundMessage))).all()
                outbox = (await session.scalars(select(OutboxMessage))).all()
            if all(r.status == "processed" for r in inbound) and all(m.status == "sent" for m in outbox):
                break
            await asyncio.sleep(0.5)
    finally:
        serve.stop()
        await bot_api.stop()

    assert rc == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert '"level": "error"' not in log and '"level": "critical"' not in log, log[-3000:]
    assert took < 30, f"stopping took {took:.1f} s"
    assert len(at_stop) == UPDATES  # every acknowledged update was stored
    assert set(at_stop) <= {"processed", "received"}, at_stop  # answered, or released for the next process
    assert [r.status for r in inbound] == ["processed"] * UPDATES
    assert {m.status for m in outbox} == {"sent"} and {int(m.recipient) for m in outbox} == {
        7_100_001 + i for i in range(UPDATES)}
    print(f"\n{db.dialect} {signum.name}: stopped in {took:.1f} s, {at_stop.count('received')} of {UPDATES} "
          "updates released, all answered by the next process")
