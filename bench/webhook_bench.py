"""Telegram webhook benchmark: the real app on loopback against a fake Bot API server.

    .venv/bin/python bench/webhook_bench.py                # SQLite in a temporary directory
    .venv/bin/python bench/webhook_bench.py --postgres     # a fresh PostgreSQL database, dropped after

Every measured update goes the whole way: webhook (secret check, JSON, stored before 200)
-> background worker -> Update -> Inbound -> dialogue engine (NLU, conversation state,
tickets, database) -> sendMessage to the Bot API server. Two measures, each also taken on a
bare aiohttp endpoint (parse JSON, answer 200) in the same run:

* max throughput: N updates posted by 40 concurrent connections (Telegram's default
  max_connections), as fast as they are accepted; webhook updates/s and end-to-end
  updates/s (until the last reply reached the Bot API server);
* latency at a fixed rate (default 50 updates/s): webhook answer p50/p99 and end-to-end
  p50/p99 (POST sent -> first sendMessage for that chat received).

PTB's AIORateLimiter is off here: it holds replies to Telegram's own 30 messages/s, which
would measure Telegram's limit rather than ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "true")

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bot.telegram import TELEGRAM_OPTIONS, PipelineOptions, TelegramOptions, telegram_key  # noqa: E402
from bot.telegram.app import SECRET_HEADER  # noqa: E402
from desk.db import create_engine, session_factory  # noqa: E402
from desk.migrate import upgrade  # noqa: E402
from desk.models import School  # noqa: E402
from guichet.demo import load_demo  # noqa: E402
from guichet.settings import load_settings  # noqa: E402
from guichet.wiring import build_app  # noqa: E402
from tests.telegram import updates as u  # noqa: E402
from tests.telegram.fake_bot_api import BotApiServer  # noqa: E402
from web.app import services_key  # noqa: E402

TOKEN = "123456:BENCH-token"
SECRET = "bench-secret"
CONCURRENCY = 40
REPORTS = [
    "le vidéoprojecteur de la classe de CM2 ne s'allume plus",
    "plus d'internet depuis ce matin dans toute l'école",
    "l'imprimante affiche une erreur papier",
    "je n'arrive plus à me connecter à l'ENT",
    "plus d'encre dans l'imprimante de la salle 3",
    "la tablette ne charge plus",
    "comment brancher mon portable au vidéoprojecteur ?",
    "où en est ma demande ?",
    "merci beaucoup",
    "le wifi ne marche pas en salle info",
]


@dataclass
class Result:
    webhook_rate: float
    e2e_rate: float
    webhook_p50: float
    webhook_p99: float
    e2e_p50: float
    e2e_p99: float


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class Target:
    """Where updates go and how to know each was answered end to end."""

    def __init__(self, url: str, api: Any | None, app: web.Application | None) -> None:
        self.url, self.api, self.app = url, api, app

    async def wait_processed(self) -> None:
        if self.app is not None:
            pipeline = self.app[telegram_key].pipeline
            assert pipeline is not None
            await pipeline.drain()

    def first_reply_at(self, chat: int, after: float) -> float | None:
        if self.api is None:
            return None
        for call in self.api.calls:
            if call.method == "sendMessage" and call.at >= after and int(call.params["chat_id"]) == chat:
                return call.at
        return None


async def _post(http: aiohttp.ClientSession, url: str, update: dict[str, Any]) -> float:
    start = time.monotonic()
    async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
    return time.monotonic() - start


async def max_throughput(target: Target, updates: list[dict[str, Any]]) -> tuple[float, float]:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for update in updates:
            queue.put_nowait(update)

        async def client() -> None:
            while not queue.empty():
                await _post(http, target.url, queue.get_nowait())

        start, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        accepted = time.monotonic() - start
        await target.wait_processed()
        done = time.monotonic() - start
        print(f"CPU {1000 * (time.process_time() - cpu) / len(updates):.2f} ms/update over {done:.1f} s",
              file=sys.stderr)
    return len(updates) / accepted, len(updates) / done


async def fixed_rate(
    target: Target, updates: list[dict[str, Any]], rate: float
) -> tuple[list[float], list[float]]:
    webhook: list[float] = []
    sent_at: list[tuple[int, float]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:
        start = time.monotonic()
        tasks = []
        for index, update in enumerate(updates):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chat = int(update["message"]["chat"]["id"])
            sent_at.append((chat, time.monotonic()))
            tasks.append(asyncio.create_task(_post(http, target.url, update)))
        webhook = list(await asyncio.gather(*tasks))
    await target.wait_processed()
    e2e = []
    for chat, at in sent_at:
        reply = target.first_reply_at(chat, at)
        if reply is not None:
            e2e.append(reply - at)
    return webhook, e2e


async def _prepare_database(postgres: bool, base: str) -> tuple[str, str | None]:
    if not postgres:
        directory = tempfile.mkdtemp(prefix="guichet-bench-")
        return f"sqlite+aiosqlite:///{directory}/guichet.db", None
    name = f"guichet_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name, name


async def _drop_database(base: str, name: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def _onboard(url: str, users: range, uai: str, school_id: int) -> None:
    """Link every bench user to a school (start, UAI, school button, role button), unmeasured."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(user: int) -> None:
            async with gate:
                steps = [
                    u.text_update(user * 10 + 1, user, "/start"),
                    u.text_update(user * 10 + 2, user, uai),
                    u.callback_update(user * 10 + 3, user, f"school:{school_id}"),
                    u.callback_update(user * 10 + 4, user, "role:teacher"),
                ]
                for update in steps:
                    await _post(http, url, update)
                    await asyncio.sleep(0.25)  # a person reads before tapping

        await asyncio.gather(*(one(user) for user in users))


async def run(args: argparse.Namespace) -> None:
    os.environ.setdefault("GUICHET_NLU_CACHE", str(Path("var/nlu-cache").resolve()))
    url, pg_name = await _prepare_database(args.postgres, args.postgres_url)
    engine = create_engine(url)
    bot_api = BotApiServer(TOKEN)
    runners: list[web.AppRunner] = []
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await load_demo(session, "sem", assets=200)
        async with sessions() as session:
            school = (await session.scalars(select(School).order_by(School.uai))).first()
            assert school is not None
        await bot_api.start()
        settings = load_settings(
            database_url=url, telegram_token=TOKEN, telegram_base_url=bot_api.base_url,
            telegram_webhook_secret=SECRET, log_level="WARNING",
        )
        app = build_app(settings, engine, sessions)
        app[services_key][TELEGRAM_OPTIONS] = TelegramOptions(
            rate_limit=False, pipeline=PipelineOptions(shards=16, queue_size=4096),
        )
        runner, base = await _serve(app)
        runners.append(runner)
        guichet = Target(base + "/telegram/webhook", bot_api.api, app)

        async def bare_handler(request: web.Request) -> web.Response:
            await request.json()
            return web.Response(status=200)

        bare_app = web.Application()
        bare_app.router.add_post("/telegram/webhook", bare_handler)
        bare_runner, bare_base = await _serve(bare_app)
        runners.append(bare_runner)
        bare = Target(bare_base + "/telegram/webhook", None, None)

        users_max = range(1_000_001, 1_000_001 + args.users)
        users_paced = range(2_000_001, 2_000_001 + int(args.rate * args.seconds))
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; onboarding "
              f"{len(users_max) + len(users_paced)} teachers (unmeasured)…", file=sys.stderr)
        await _onboard(guichet.url, users_max, school.uai, school.id)
        await _onboard(guichet.url, users_paced, school.uai, school.id)
        await guichet.wait_processed()

        next_id = iter(range(50_000_000, 60_000_000))

        def batch(users: range, count: int) -> list[dict[str, Any]]:
            users_list = list(users)
            return [
                u.text_update(next(next_id), users_list[i % len(users_list)], REPORTS[i % len(REPORTS)])
                for i in range(count)
            ]

        results: dict[str, Result] = {}
        for name, target in (("bare aiohttp", bare), ("guichet", guichet)):
            webhook_rate, e2e_rate = await max_throughput(target, batch(users_max, args.updates))
            paced = batch(users_paced, len(users_paced))
            webhook, e2e = await fixed_rate(target, paced, args.rate)
            results[name] = Result(
                webhook_rate, e2e_rate if target.app else webhook_rate,
                pct(webhook, 0.5), pct(webhook, 0.99),
                pct(e2e, 0.5) if target.app else pct(webhook, 0.5),
                pct(e2e, 0.99) if target.app else pct(webhook, 0.99),
            )
            if target.app:
                missing = len(paced) - len(e2e)
                if missing:
                    print(f"warning: {missing} paced update(s) got no reply", file=sys.stderr)
        _print(results, args)
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        await bot_api.stop()
        await engine.dispose()
        if pg_name:
            await _drop_database(args.postgres_url, pg_name)


def _print(results: dict[str, Result], args: argparse.Namespace) -> None:
    g, b = results["guichet"], results["bare aiohttp"]
    print(f"\nTelegram webhook benchmark — {'PostgreSQL' if args.postgres else 'SQLite'}, "
          f"{args.updates} updates for max throughput, {args.rate:g} updates/s for {args.seconds:g} s")
    print(f"{'':28}{'bare aiohttp':>14}{'guichet':>12}{'ratio':>9}")
    rows = [
        ("max webhook updates/s", b.webhook_rate, g.webhook_rate, True),
        ("max end-to-end updates/s", b.e2e_rate, g.e2e_rate, True),
        (f"webhook p50 ms @{args.rate:g}/s", b.webhook_p50, g.webhook_p50, False),
        (f"webhook p99 ms @{args.rate:g}/s", b.webhook_p99, g.webhook_p99, False),
        (f"end-to-end p50 ms @{args.rate:g}/s", b.e2e_p50, g.e2e_p50, False),
        (f"end-to-end p99 ms @{args.rate:g}/s", b.e2e_p99, g.e2e_p99, False),
    ]
    for label, bare, ours, is_rate in rows:
        ratio = (bare / ours) if is_rate else (ours / bare)
        print(f"{label:28}{bare:>14.1f}{ours:>12.1f}{ratio:>8.1f}×")
    print("(ratio: how many times slower guichet is than the bare endpoint; "
          "the bare endpoint has no processing, so its end-to-end equals its webhook figure)")
    print(f"targets: ≥ 200 updates/s end to end -> {'met' if g.e2e_rate >= 200 else 'NOT met'}; "
          f"p99 < 100 ms @{args.rate:g}/s end to end -> {'met' if g.e2e_p99 < 100 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "GUICHET_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--updates", type=int, default=2000, help="updates for the max-throughput run")
    parser.add_argument("--users", type=int, default=500, help="distinct teachers in that run")
    parser.add_argument("--rate", type=float, default=50.0, help="updates/s of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the latency run")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
