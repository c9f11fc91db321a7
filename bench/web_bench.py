"""Agents' queue under load: 50 000 tickets in a fresh PostgreSQL, 20 signed-in agents, ~20 s.

    .venv/bin/python bench/web_bench.py [--tickets 50000] [--agents 20] [--seconds 20] [--interval 1]

Creates a throw-away database next to GUICHET_BENCH_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), seeds it, runs `guichet serve` on a free
loopback port in a subprocess, drives the queue page and ticket pages with a bounded
aiohttp load loop (each agent one request per `--interval` seconds, one in flight), prints p50/p95/p99 and their ratio to GET /healthz measured in the same
run, then drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk.db import create_engine, session_factory  # noqa: E402
from desk.migrate import upgrade  # noqa: E402
from desk.models import (  # noqa: E402
    Agent, Commune, Organisation, School, SlaClock, Territory, Ticket, TicketCounter, TicketEvent,
)
from desk.security import hash_password  # noqa: E402
from domain.uai import make_uai  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password"
OPEN = ["new", "assigned", "in_progress", "waiting"]
INTENTS = ["hardware_failure", "network_outage", "software_issue", "consumables", "building_works",
           "theft", "damage", "account_access"]
EQUIPMENT = ["projector", "laptop", "tablet", "printer", "desktop", "router", None]
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
REF = re.compile(r'href="/agents/tickets/(\d{4}-\d{5})"')


async def create_database(base: str) -> str:
    name = f"guichet_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


async def drop_database(base: str, url: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    await admin.dispose()


async def seed(url: str, tickets: int, agents: int) -> list[str]:
    """A territory of 45 communes and 300 schools; ~8 % of tickets open; returns agents' e-mails."""
    rng = random.Random(7)
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with sessions.begin() as s:
        territory = Territory(slug="sem", name="Saint-Étienne Métropole")
        s.add(territory)
        await s.flush()
        sem = Organisation(territory_id=territory.id, kind="sem", slug="sem", name="Saint-Étienne Métropole")
        rectorat = Organisation(territory_id=territory.id, kind="rectorat", slug="rectorat", name="Rectorat")
        s.add_all([sem, rectorat])
        communes, orgs = [], []
        for n in range(45):
            org = Organisation(territory_id=territory.id, kind="commune", slug=f"commune-{n}", name=f"Commune {n}")
            s.add(org)
            await s.flush()
            commune = Commune(territory_id=territory.id, insee_code=f"42{n:03d}", name=f"Commune {n}",
                              organisation_id=org.id)
            s.add(commune)
            communes.append(commune)
            orgs.append(org)
        await s.flush()
        schools = [School(territory_id=territory.id, uai=make_uai(f"042{n:04d}"), name=f"École {n}",
                          commune_id=communes[n % 45].id) for n in range(300)]
        s.add_all(schools)
        await s.flush()
        password = hash_password(PASSWORD)
        emails = []
        for n in range(agents):
            org = sem if n % 2 == 0 else orgs[n % 45]
            email = f"agent{n}@bench.test"
            s.add(Agent(organisation_id=org.id, email=email, name=f"Agent {n}", password_hash=password))
            emails.append(email)
        s.add(TicketCounter(territory_id=territory.id, year=2026, last=tickets))
        await s.flush()
        school_commune_org = {sc.id: orgs[i % 45].id for i, sc in enumerate(schools)}
        territory_id, sem_id, rectorat_id = territory.id, sem.id, rectorat.id
    rows, clocks, events = [], [], []
    for n in range(1, tickets + 1):
        school = rng.choice(schools)
        draw = rng.random()
        org_id = sem_id if draw < 0.6 else rectorat_id if draw < 0.7 else school_commune_org[school.id]
        opened = now - timedelta(hours=rng.uniform(1, 24 * 700))
        is_open = rng.random() < 0.08
        status = rng.choice(OPEN) if is_open else rng.choice(["resolved", "closed", "closed"])
        rows.append(dict(id=n, territory_id=territory_id, reference=f"2026-{n:05d}", intent=rng.choice(INTENTS),
                         equipment=rng.choice(EQUIPMENT), school_id=school.id, organisation_id=org_id,
                         role="operator", status=status, channel="telegram", subject=f"Demande {n} : panne",
                         description="Le matériel de la classe ne fonctionne plus. " * 3, opened_at=opened,
                         updated_at=opened, priority=3,
                         resolved_at=None if is_open else opened + timedelta(hours=rng.uniform(2, 200))))
        for threshold, hours in (("target", 48), ("breach", 72)):
            due = opened + timedelta(hours=hours)
            clocks.append(dict(ticket_id=n, policy="replacement", threshold=threshold, due_at=due, deadline=due,
                               fired=(not is_open) or due < now))
        events.append(dict(ticket_id=n, kind="created", at=opened, actor_kind="system", to_status="new"))
        events.append(dict(ticket_id=n, kind="message", at=opened, actor_kind="requester",
                           body="Le matériel de la classe ne fonctionne plus."))
    async with sessions.begin() as s:
        for table, data in ((Ticket, rows), (SlaClock, clocks), (TicketEvent, events)):
            for start in range(0, len(data), 5000):
                await s.execute(insert(table), data[start:start + 5000])
        await s.execute(text("SELECT setval('tickets_id_seq', :n)"), {"n": tickets})
    async with engine.connect() as conn:
        await conn.execute(text("COMMIT"))
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return emails


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def sign_in(base: str, email: str) -> aiohttp.ClientSession:
    client = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get("/agents/login") as r:
        token = CSRF.search(await r.text()).group(1)
    async with client.post("/agents/login", data={"email": email, "password": PASSWORD, "_csrf": token},
                           headers={"Origin": base}, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
    return client


async def drive(clients: list[aiohttp.ClientSession], seconds: float, interval: float, paths) -> dict[str, list[float]]:
    """Each agent sends one request every `interval` seconds (jittered), never more than one in flight.

    A late answer delays the agent's next request instead of queueing a burst, so the loop
    is bounded: at most len(clients) / interval requests per second.
    """
    timings: dict[str, list[float]] = {}
    deadline = time.perf_counter() + seconds

    async def worker(n: int, client: aiohttp.ClientSession) -> None:
        rng = random.Random(n)
        await asyncio.sleep(rng.uniform(0, interval))
        while time.perf_counter() < deadline:
            kind, path = paths(n, rng)
            start = time.perf_counter()
            async with client.get(path) as r:
                await r.read()
                assert r.status == 200, (path, r.status)
            elapsed = time.perf_counter() - start
            timings.setdefault(kind, []).append(elapsed * 1000)
            if interval > 0:
                await asyncio.sleep(max(0.0, rng.uniform(0.5, 1.5) * interval - elapsed))

    await asyncio.gather(*(worker(n, c) for n, c in enumerate(clients)))
    return timings


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between two requests of one agent (0: as fast as answers come)")
    args = parser.parse_args()
    base_url = os.environ.get("GUICHET_BENCH_POSTGRES_URL", DEFAULT_URL)
    url = await create_database(base_url)
    server = None
    clients: list[aiohttp.ClientSession] = []
    try:
        started = time.perf_counter()
        emails = await seed(url, args.tickets, args.agents)
        print(f"seeded {args.tickets} tickets in {time.perf_counter() - started:.1f} s")
        port = free_port()
        env = {**os.environ, "GUICHET_DATABASE_URL": url, "GUICHET_HTTP_PORT": str(port),
               "GUICHET_HTTP_HOST": "127.0.0.1", "GUICHET_BACKGROUND": "false", "GUICHET_LOG_LEVEL": "WARNING",
               "GUICHET_SESSION_SECRET": Fernet.generate_key().decode(), "GUICHET_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        server = subprocess.Popen([sys.executable, "-m", "guichet.cli", "serve"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as probe:
            for _ in range(200):
                try:
                    async with probe.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        clients = [await sign_in(base, email) for email in emails]
        # Each agent opens tickets of its own queue only: another organisation's would be a 404
        # (scoping), and an agent whose queue is empty (few tickets) only reads the queue.
        refs_by_client = {}
        for n, client in enumerate(clients):
            async with client.get("/agents") as r:
                refs_by_client[n] = REF.findall(await r.text())

        def mixed(n: int, rng: random.Random) -> tuple[str, str]:
            if rng.random() < 0.5 or not refs_by_client[n]:
                page = rng.choice([1, 1, 1, 2, 3])
                return "queue", f"/agents?page={page}"
            return "ticket", f"/agents/tickets/{rng.choice(refs_by_client[n])}"

        health = await drive(clients, min(10.0, args.seconds / 2), args.interval, lambda n, rng: ("healthz", "/healthz"))
        timings = await drive(clients, args.seconds, args.interval, mixed)
        timings["healthz"] = health["healthz"]
        total = sum(len(timings[k]) for k in ("queue", "ticket"))
        print(f"{args.agents} agents, one request every {args.interval:g} s each, {args.seconds:.0f} s "
              f"({total / args.seconds:.1f} pages/s), {args.tickets} tickets (8 % open), PostgreSQL, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"{'endpoint':10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/healthz':>12}")
        h95 = pct(timings["healthz"], 95)
        for kind in ("healthz", "queue", "ticket"):
            values = timings[kind]
            p95 = pct(values, 95)
            print(f"{kind:10} {len(values):8d} {pct(values, 50):8.1f} {p95:8.1f} {pct(values, 99):8.1f} {p95 / h95:12.1f}")
        worst = max(pct(timings[k], 95) for k in ("queue", "ticket"))
        print(f"target p95 < 150 ms: {'met' if worst < 150 else 'NOT met'} (worst p95 {worst:.1f} ms)")
        return 0 if worst < 150 else 1
    finally:
        for client in clients:
            await client.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await drop_database(base_url, url)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
