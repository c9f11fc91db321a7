"""Telegram webhook benchmark: `guichet serve` on loopback against a fake Bot API server.

    .venv/bin/python bench/webhook_bench.py                # SQLite in a temporary directory
    .venv/bin/python bench/webhook_bench.py --postgres     # a fresh PostgreSQL database, dropped after
    .venv/bin/python bench/webhook_bench.py --postgres --processes 2   # two serve processes, one database

With `--processes N`, N `guichet serve` processes share the database and the updates are
posted to their webhooks in turn, as a load balancer would; CPU is summed over them.

The desk runs as in production: `guichet serve` in its own process (Telegram's servers are
elsewhere, so this process holds only the load generator and the fake Bot API server). Every
measured update goes the whole way: webhook (secret check, JSON, stored before 200) ->
background worker -> Update -> Inbound -> dialogue engine (NLU, conversation state, tickets,
database) -> sendMessage to the Bot API server. Two measures, each also taken on a bare
aiohttp endpoint (parse JSON, answer 200) run the same way, in its own process, in the same run:

* max throughput: N updates posted by 40 concurrent connections (Telegram's default
  max_connections), as fast as they are accepted; webhook updates/s and end-to-end
  updates/s (until no stored update waits and the last reply reached the Bot API server);
* latency at a fixed rate (default 50 updates/s): webhook answer p50/p99 and end-to-end
  p50/p99 (POST sent -> first sendMessage for that chat received).

Client-side flood limits are off (GUICHET_TELEGRAM_RATE_LIMIT=false): they hold replies to
Telegram's own 30 messages/s, which would measure Telegram's limit rather than ours.
"""

from __future__ import annotations

import argparse
import base64
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bot.telegram import SECRET_HEADER, WEBHOOK_PATH  # noqa: E402
from desk.db import create_engine, session_factory  # noqa: E402
from desk.migrate import upgrade  # noqa: E402
from desk.models import School  # noqa: E402
from guichet.demo import load_demo  # noqa: E402
from tests.telegram import updates as u  # noqa: E402
from tests.telegram.fake_bot_api import BotApiServer, FakeBotApi  # noqa: E402

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
BARE_ENDPOINT = """
import sys
from aiohttp import web
async def hook(request):
    await request.json()
    return web.Response(status=200)
app = web.Application()
app.router.add_post("/telegram/webhook", hook)
app.router.add_get("/healthz", lambda request: web.Response(text="ok"))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


@dataclass
class Result:
    webhook_rate: float
    e2e_rate: float
    webhook_p50: float
    webhook_p99: float
    e2e_p50: float
    e2e_p99: float
    cpu_ms: float


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class Server:
    """A web server in its own process: `guichet serve`, or the bare endpoint."""

    def __init__(self, args: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        self.process = subprocess.Popen(args, env=env, cwd=ROOT)

    async def ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not start in time")

    def cpu(self) -> float:
        return _cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Pending:
    """How many stored Telegram updates still wait for processing (read beside the server)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = None if url.startswith("sqlite") else create_engine(url, pool_size=1)

    async def count(self) -> int:
        query = ("SELECT count(*) FROM inbound_messages WHERE channel = 'telegram' "
                 "AND status IN ('received', 'processing')")
        if self.engine is None:
            # A plain autocommit read: in WAL mode it never blocks the server's writes.
            with sqlite3.connect(self.url.split(":///", 1)[1], timeout=10) as conn:
                return int(conn.execute(query).fetchone()[0])
        async with self.engine.connect() as conn:
            return int((await conn.execute(text(query))).scalar_one())

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


class Target:
    """Where updates go (one server, or several in turn) and how to know each was answered end to end."""

    def __init__(self, servers: list[Server], api: FakeBotApi | None, pending: Pending | None) -> None:
        self.servers, self.api, self.pending = servers, api, pending
        self._turn = 0

    @property
    def url(self) -> str:
        self._turn += 1
        return self.servers[self._turn % len(self.servers)].url

    def cpu(self) -> float:
        return sum(server.cpu() for server in self.servers)

    async def wait_processed(self) -> float:
        """Wait until no update waits and replies stopped arriving; when the last one came."""
        if self.api is None or self.pending is None:
            return time.monotonic()
        while True:
            seen = len(self.api.calls)
            if await self.pending.count() == 0:
                await asyncio.sleep(0.1)
                if len(self.api.calls) == seen:
                    return self.api.calls[-1].at if self.api.calls else time.monotonic()
            await asyncio.sleep(0.02)

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


async def max_throughput(target: Target, updates: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(webhook updates/s, end-to-end updates/s, server CPU ms per update)."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for update in updates:
            queue.put_nowait(update)

        async def client() -> None:
            while not queue.empty():
                await _post(http, target.url, queue.get_nowait())

        start, cpu = time.monotonic(), target.cpu()
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        accepted = time.monotonic() - start
        done = max(await target.wait_processed(), start + accepted) - start
        cpu_ms = 1000 * (target.cpu() - cpu) / len(updates)
    return len(updates) / accepted, len(updates) / done, cpu_ms


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


def _guichet_env(url: str, bot_api: BotApiServer, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")}
    env.update(
        GUICHET_DATABASE_URL=url, GUICHET_HTTP_PORT=str(port), GUICHET_TELEGRAM_TOKEN=TOKEN,
        GUICHET_TELEGRAM_BASE_URL=bot_api.base_url, GUICHET_TELEGRAM_WEBHOOK_SECRET=SECRET,
        GUICHET_TELEGRAM_RATE_LIMIT="false", GUICHET_LOG_LEVEL="WARNING",
        GUICHET_SESSION_SECRET=base64.urlsafe_b64encode(b"bench-session-key-32-bytes-long!").decode(),
        GUICHET_NLU_CACHE=os.environ.get("GUICHET_NLU_CACHE", str(ROOT / "var" / "nlu-cache")),
    )
    return env


async def run(args: argparse.Namespace) -> None:
    url, pg_name = await _prepare_database(args.postgres, args.postgres_url)
    engine = create_engine(url)
    bot_api = BotApiServer(TOKEN)
    servers: list[Server] = []
    pending = Pending(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await load_demo(session, "sem", assets=200)
        async with sessions() as session:
            school = (await session.scalars(select(School).order_by(School.uai))).first()
            assert school is not None
        await engine.dispose()
        await bot_api.start()

        if args.processes > 1 and not args.postgres:
            raise SystemExit("--processes above 1 needs --postgres (SQLite is the one-process default)")
        for _ in range(args.processes):
            port = _free_port()
            servers.append(Server([sys.executable, "-m", "guichet.cli", "serve"],
                                  _guichet_env(url, bot_api, port), port))
        bare_ports = [_free_port() for _ in range(args.processes)]
        for bare_port in bare_ports:
            servers.append(Server([sys.executable, "-c", BARE_ENDPOINT, str(bare_port)],
                                  dict(os.environ), bare_port))
        for server in servers:
            await server.ready()
        guichet = Target(servers[:args.processes], bot_api.api, pending)
        bare = Target(servers[args.processes:], None, None)

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
            webhook_rate, e2e_rate, cpu_ms = await max_throughput(target, batch(users_max, args.updates))
            paced = batch(users_paced, len(users_paced))
            webhook, e2e = await fixed_rate(target, paced, args.rate)
            has_e2e = target.api is not None
            results[name] = Result(
                webhook_rate, e2e_rate, pct(webhook, 0.5), pct(webhook, 0.99),
                pct(e2e, 0.5) if has_e2e else pct(webhook, 0.5),
                pct(e2e, 0.99) if has_e2e else pct(webhook, 0.99), cpu_ms,
            )
            if has_e2e and len(paced) != len(e2e):
                print(f"warning: {len(paced) - len(e2e)} paced update(s) got no reply", file=sys.stderr)
        _print(results, args)
    finally:
        for server in servers:
            server.stop()
        await pending.close()
        await bot_api.stop()
        await engine.dispose()
        if pg_name:
            await _drop_database(args.postgres_url, pg_name)


def _print(results: dict[str, Result], args: argparse.Namespace) -> None:
    g, b = results["guichet"], results["bare aiohttp"]
    print(f"\nTelegram webhook benchmark — {'PostgreSQL' if args.postgres else 'SQLite'}, "
          f"{args.processes} process{'es' if args.processes > 1 else ''} each side, "
          f"{args.updates} updates for max throughput, {args.rate:g} updates/s for {args.seconds:g} s")
    print(f"{'':28}{'bare aiohttp':>14}{'guichet':>12}{'ratio':>9}")
    rows = [
        ("max webhook updates/s", b.webhook_rate, g.webhook_rate, True),
        ("max end-to-end updates/s", b.e2e_rate, g.e2e_rate, True),
        ("server CPU ms per update", b.cpu_ms, g.cpu_ms, False),
        (f"webhook p50 ms @{args.rate:g}/s", b.webhook_p50, g.webhook_p50, False),
        (f"webhook p99 ms @{args.rate:g}/s", b.webhook_p99, g.webhook_p99, False),
        (f"end-to-end p50 ms @{args.rate:g}/s", b.e2e_p50, g.e2e_p50, False),
        (f"end-to-end p99 ms @{args.rate:g}/s", b.e2e_p99, g.e2e_p99, False),
    ]
    for label, bare, ours, is_rate in rows:
        ratio = (bare / ours) if is_rate else (ours / bare)
        print(f"{label:28}{bare:>14.2f}{ours:>12.2f}{ratio:>8.1f}×")
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
    parser.add_argument("--processes", type=int, default=1,
                        help="serve processes sharing the database, posted to in turn (PostgreSQL only)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
