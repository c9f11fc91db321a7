"""Agents' queue under load at several table sizes: fresh PostgreSQL databases, 20 signed-in agents.

    .venv/bin/python bench/web_bench.py [--tickets 50000,500000,5000000] [--agents 20] [--seconds 20]
                                        [--interval 1] [--explain]

For each size: creates a throw-away database next to GUICHET_BENCH_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), migrates it, generates the tickets in
PostgreSQL itself (INSERT … SELECT over generate_series, secondary indexes and foreign-key
triggers off during the load, rebuilt after, then VACUUM ANALYZE), runs `guichet serve` on a free
loopback port in a subprocess, drives the queue (first page, and the next two through their
« Suivantes » cursors) and ticket pages with a bounded aiohttp load loop (each agent one request
per `--interval` seconds, one in flight), prints p50/p95/p99 and their ratio to GET /healthz
measured in the same run, then drops the database. At the end, the p95 of each size against the
smallest one. `--explain` prints the plan of one agent's first queue page at each size.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk.db import create_engine, session_factory  # noqa: E402
from desk.migrate import upgrade  # noqa: E402
from desk.models import Agent, Commune, Organisation, School, Territory, Ticket, TicketCounter  # noqa: E402
from desk.sla_store import queue_deadline_of  # noqa: E402
from desk.security import hash_password  # noqa: E402
from domain.uai import make_uai  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password"
OPEN = ["new", "assigned", "in_progress", "waiting"]
INTENTS = ["hardware_failure", "network_outage", "software_issue", "consumables", "building_works",
           "theft", "damage", "account_access"]
EQUIPMENT = ["projector", "laptop", "tablet", "printer", "desktop", "router", None]
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
REF = re.compile(r'href="/agents/tickets/(\d{4}-\d{5,})"')
NEXT = re.compile(r'href="/agents\?apres=([^"&]+)" rel="next"')


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


TABLES = ("tickets", "sla_clocks", "ticket_events")
CHUNK = 500_000


def _pick(values: list[str | None], draw: str) -> str:
    """SQL choosing one of `values` (constants of this file) with the uniform draw `draw`."""
    items = ", ".join("NULL" if v is None else f"'{v}'" for v in values)
    return f"(ARRAY[{items}]::text[])[1 + floor({draw} * {len(values)})::int]"


TICKETS_SQL = f"""
INSERT INTO tickets (id, territory_id, reference, intent, equipment, quantity, school_id, organisation_id, role,
                     status, priority, channel, subject, description, sla_policy, opened_at, updated_at,
                     resolved_at, sla_deadline)
SELECT g, CAST(:territory AS int), '2026-' || lpad(g::text, greatest(5, length(g::text)), '0'), {_pick(INTENTS, 'r_intent')}, {_pick(EQUIPMENT, 'r_equipment')},
       1, s.school_id,
       CASE WHEN r_org < 0.6 THEN CAST(:sem AS int) WHEN r_org < 0.7 THEN CAST(:rectorat AS int) ELSE s.org_id END,
       'operator', status, CASE WHEN r_priority < 0.05 THEN 1 WHEN r_priority < 0.2 THEN 2 ELSE 3 END,
       'telegram', 'Demande ' || g || ' : panne', 'Le matériel de la classe ne fonctionne plus.', 'replacement',
       opened, opened, CASE WHEN is_open THEN NULL ELSE opened + r_age * interval '200 hours' END,
       -- desk.sla_store.queue_deadline_of over the clock rows inserted below (checked on a sample):
       CASE WHEN status = 'waiting' THEN NULL
            WHEN is_open AND opened + interval '48 hours' >= CAST(:now AS timestamptz) THEN opened + interval '48 hours'
            ELSE opened + interval '72 hours' END
FROM (
    SELECT g, r_intent, r_equipment, r_org, r_priority, r_age, r_school, is_open,
           CASE WHEN is_open THEN {_pick(OPEN, 'r_status')} ELSE {_pick(['resolved', 'closed', 'closed'], 'r_status')} END
               AS status,
           -- open tickets opened in the last ten days (breached, at risk and on time); the others over two years
           CASE WHEN is_open THEN CAST(:now AS timestamptz) - interval '1 hour' - r_age * interval '239 hours'
                ELSE CAST(:now AS timestamptz) - interval '1 hour' - r_age * interval '700 days' END AS opened
    FROM (SELECT g, random() AS r_intent, random() AS r_equipment, random() AS r_org, random() AS r_priority,
                 random() AS r_age, random() AS r_status, floor(random() * 300)::int AS r_school,
                 random() < 0.08 AS is_open
          FROM generate_series(CAST(:low AS int), CAST(:high AS int)) AS g) AS draws
) AS t
JOIN bench_schools s ON s.n = t.r_school
"""

CLOCKS_SQL = """
INSERT INTO sla_clocks (ticket_id, policy, threshold, due_at, deadline, fired)
SELECT t.id, 'replacement', th.name,
       CASE WHEN t.status = 'waiting' THEN NULL ELSE t.opened_at + th.hours END,
       CASE WHEN t.status = 'waiting' THEN NULL ELSE t.opened_at + th.hours END,
       t.resolved_at IS NOT NULL OR (t.status <> 'waiting' AND t.opened_at + th.hours < CAST(:now AS timestamptz))
FROM tickets t
CROSS JOIN (VALUES ('target', interval '48 hours'), ('breach', interval '72 hours')) AS th(name, hours)
WHERE t.id BETWEEN :low AND :high
"""

EVENTS_SQL = """
INSERT INTO ticket_events (ticket_id, at, kind, actor_kind, to_status, body, internal)
SELECT t.id, t.opened_at, e.kind, e.actor_kind, e.to_status, e.body, false
FROM tickets t
CROSS JOIN (VALUES ('created', 'system', 'new', NULL),
                   ('message', 'requester', NULL, 'Le matériel de la classe ne fonctionne plus.'))
    AS e(kind, actor_kind, to_status, body)
WHERE t.id BETWEEN :low AND :high
"""


async def seed(url: str, tickets: int, agents: int) -> list[str]:
    """A territory of 45 communes and 300 schools; ~8 % of tickets open; returns agents' e-mails."""
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
        await s.execute(text("CREATE TABLE bench_schools (n int PRIMARY KEY, school_id int, org_id int)"))
        await s.execute(insert(BENCH_SCHOOLS),
                        [{"n": i, "school_id": sc.id, "org_id": orgs[i % 45].id} for i, sc in enumerate(schools)])
        ids = {"territory": territory.id, "sem": sem.id, "rectorat": rectorat.id}
    async with engine.connect() as conn:
        # Secondary indexes are rebuilt once after the load, and the rows' foreign keys are ours.
        indexes = (await conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) AND indexname LIKE 'ix_%'"),
            {"t": list(TABLES)})).all()
        for name, _ in indexes:
            await conn.execute(text(f'DROP INDEX "{name}"'))
        await conn.commit()
        await conn.execute(text("SET session_replication_role = replica"))
        await conn.execute(text("SET synchronous_commit = off"))
        await conn.execute(text("SELECT setseed(0.7)"))
        for low in range(1, tickets + 1, CHUNK):
            bounds = {"low": low, "high": min(tickets, low + CHUNK - 1), "now": now}
            await conn.execute(text(TICKETS_SQL), {**ids, **bounds})
            await conn.execute(text(CLOCKS_SQL), bounds)
            await conn.execute(text(EVENTS_SQL), bounds)
            await conn.commit()
        await conn.execute(text("SET session_replication_role = DEFAULT"))
        await conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for _, definition in indexes:
            await conn.execute(text(definition))
        await conn.execute(text("DROP TABLE bench_schools"))
        await conn.execute(text("SELECT setval('tickets_id_seq', :n)"), {"n": tickets})
        await conn.commit()
        # The generated sla_deadline must be what the clock code computes from the rows.
        wrong = await conn.scalar(
            select(func.count()).select_from(Ticket.__table__)
            .where(Ticket.__table__.c.id % max(1, tickets // 2000) == 0,
                   Ticket.__table__.c.sla_deadline.is_distinct_from(queue_deadline_of(Ticket.__table__.c.id))))
        assert wrong == 0, f"{wrong} generated deadlines differ from desk.sla_store.queue_deadline_of"
    autocommit = create_engine(url, isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as conn:
        await conn.execute(text("VACUUM ANALYZE"))
    await autocommit.dispose()
    await engine.dispose()
    return emails


BENCH_SCHOOLS = Table("bench_schools", MetaData(), Column("n", Integer), Column("school_id", Integer),
                      Column("org_id", Integer))


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


def sizes(raw: str) -> list[int]:
    values = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("--tickets: one or more positive sizes, comma-separated")
    return values


async def explain(url: str, email: str) -> list[str]:
    """The plan of this agent's first queue page, as the server runs it (handlers.agent_queue)."""
    from desk.models import Agent as AgentRow
    from handlers.agent_queue import QueueFilters, _page_ids
    from handlers.agent_scope import load_actor

    engine = create_engine(url)
    async with session_factory(engine)() as session:
        agent_id = await session.scalar(select(AgentRow.id).where(AgentRow.email == email))
        actor = await load_actor(session, agent_id)
        stmt = _page_ids(actor, QueueFilters(), datetime.now(UTC), None, 0, 51)
        compiled = stmt.compile(dialect=engine.dialect)
        params = compiled.construct_params()
        raw = await (await session.connection()).get_raw_connection()
        rows = await raw.driver_connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + compiled.string,
            *[params[name] for name in compiled.positiontup])
    await engine.dispose()
    return [row[0] for row in rows]


async def measure(url: str, emails: list[str], tickets: int, args: argparse.Namespace) -> dict[str, list[float]]:
    """Serve one seeded database, drive it, print its table; the timings of each endpoint."""
    server = None
    clients: list[aiohttp.ClientSession] = []
    try:
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
                if server.poll() is not None:
                    raise SystemExit("guichet serve stopped:\n" + server.stderr.read().decode(errors="replace"))
        clients = [await sign_in(base, email) for email in emails]
        # Each agent reads its own queue: the first page, then the next two through their cursors,
        # and opens tickets of its own queue only (another organisation's would be a 404, scoping).
        queue_paths: dict[int, list[str]] = {}
        refs_by_client: dict[int, list[str]] = {}
        for n, client in enumerate(clients):
            paths, refs, path = [], [], "/agents"
            for _ in range(3):
                async with client.get(path) as r:
                    body = await r.text()
                paths.append(path)
                refs += REF.findall(body)
                cursor = NEXT.search(body)
                if cursor is None:
                    break
                path = "/agents?apres=" + html.unescape(cursor.group(1))
            queue_paths[n], refs_by_client[n] = paths, refs

        def mixed(n: int, rng: random.Random) -> tuple[str, str]:
            if rng.random() < 0.5 or not refs_by_client[n]:
                paths = queue_paths[n]
                return "queue", paths[min(len(paths) - 1, rng.choice([0, 0, 0, 1, 2]))]
            return "ticket", f"/agents/tickets/{rng.choice(refs_by_client[n])}"

        health = await drive(clients, min(10.0, args.seconds / 2), args.interval, lambda n, rng: ("healthz", "/healthz"))
        timings = await drive(clients, args.seconds, args.interval, mixed)
        timings["healthz"] = health["healthz"]
        total = sum(len(timings.get(k, [])) for k in ("queue", "ticket"))
        print(f"\n== {tickets} tickets: {args.agents} agents, one request every {args.interval:g} s each, {args.seconds:.0f} s "
              f"({total / args.seconds:.1f} pages/s), {tickets} tickets (8 % open), PostgreSQL, "
              f"{os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        table(timings)
        return timings
    finally:
        for client in clients:
            await client.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


def table(timings: dict[str, list[float]]) -> None:
    print(f"{'endpoint':10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/healthz':>12}")
    h95 = pct(timings["healthz"], 95)
    for kind in ("healthz", "queue", "ticket"):
        values = timings[kind]
        p95 = pct(values, 95)
        print(f"{kind:10} {len(values):8d} {pct(values, 50):8.1f} {p95:8.1f} {pct(values, 99):8.1f} {p95 / h95:12.1f}",
              flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=sizes, default=[50_000],
                        help="table sizes, comma-separated (e.g. 50000,500000,5000000), each in its own database")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between two requests of one agent (0: as fast as answers come)")
    parser.add_argument("--explain", action="store_true", help="print the plan of the first queue page per size")
    args = parser.parse_args()
    base_url = os.environ.get("GUICHET_BENCH_POSTGRES_URL", DEFAULT_URL)
    databases: dict[int, tuple[str, list[str]]] = {}
    try:
        for size in args.tickets:
            url = await create_database(base_url)
            databases[size] = (url, [])
            started = time.perf_counter()
            databases[size] = (url, await seed(url, size, args.agents))
            print(f"seeded {size} tickets in {time.perf_counter() - started:.1f} s", flush=True)
            if args.explain:
                print("\n".join("   " + line for line in await explain(url, databases[size][1][0])), flush=True)
        # Every size is driven twice, in order then in reverse order, so that a change of the
        # machine's load during the run weighs on every size alike; each size's samples are pooled.
        pooled: dict[int, dict[str, list[float]]] = {size: {} for size in args.tickets}
        order = args.tickets + args.tickets[::-1] if len(args.tickets) > 1 else args.tickets
        for size in order:
            url, emails = databases[size]
            for kind, values in (await measure(url, emails, size, args)).items():
                pooled[size].setdefault(kind, []).extend(values)
    finally:
        for url, _ in databases.values():
            await drop_database(base_url, url)
    results = {size: {kind: pct(values, 95) for kind, values in timings.items()} for size, timings in pooled.items()}
    if len(order) > 1:
        for size in args.tickets:
            print(f"\n== {size} tickets, both rounds pooled")
            table(pooled[size])
    first = args.tickets[0]
    print(f"\n{'tickets':>10} {'healthz p95':>12} {'queue p95':>10} {'ticket p95':>11} "
          f"{'queue/healthz':>14} {'ticket/healthz':>15} {'queue ×':>8} {'ticket ×':>9}")
    for size, r in results.items():
        print(f"{size:10d} {r['healthz']:12.1f} {r['queue']:10.1f} {r['ticket']:11.1f} "
              f"{r['queue'] / r['healthz']:14.1f} {r['ticket'] / r['healthz']:15.1f} "
              f"{r['queue'] / results[first]['queue']:8.2f} {r['ticket'] / results[first]['ticket']:9.2f}")
    worst = max(max(r["queue"] / results[first]["queue"], r["ticket"] / results[first]["ticket"])
                for r in results.values())
    met = worst <= 2.0
    print(f"target: queue and ticket p95 within 2x of the {first}-ticket run at every size: "
          f"{'met' if met else 'NOT met'} (worst {worst:.2f}x)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
