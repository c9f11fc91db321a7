"""SLA clocks at national scale on PostgreSQL: the due-clock claim query and one watcher pass.

    .venv/bin/python bench/sla_bench.py [--sizes 10000,100000,1000000] [--runs 50]

Creates a fresh database next to GUICHET_BENCH_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), migrates it, and drops it at the end.

1. Query (printed first, run second): tickets (10 % open) and their three clock rows are loaded with COPY, growing the
   same tables to each size; `--due-now` open tickets (200) have a threshold due, the other
   open thresholds fall due over the next three weeks; closed tickets' rows are fired. The watcher's claim
   (`... WHERE fired = false AND due_at <= now ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP
   LOCKED`) is timed `--runs` times per size, each in a transaction rolled back; EXPLAIN
   shows the plan at each size.
2. Watcher (run first): in a second fresh database, 10 000 open tickets each have one threshold due now
   (a third warnings, a third targets, a third breaches) across 50 communes; one
   `SlaWatcher.run_until_idle()` fires them all, then every (clock, recipient) notice is
   counted in the outbox (single mails and digests) to prove each was queued exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import text

from desk.db import create_engine, session_factory
from desk.migrate import upgrade
from desk.sla_watcher import SlaWatcher
from routing.calendar import Calendar
from routing.territory import load_territory

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: A Tuesday 10:00 in Paris: inside opening hours, so warnings and targets are not held.
NOW = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
THRESHOLDS = ("warning", "target", "breach")
CLAIM = (
    "SELECT id, ticket_id, policy, threshold, due_at, deadline FROM sla_clocks "
    "WHERE fired = false AND due_at <= $1 ORDER BY due_at, id LIMIT 1000 FOR UPDATE SKIP LOCKED"
)
TICKET_COLUMNS = ("id", "territory_id", "reference", "intent", "organisation_id", "role", "status", "priority",
                  "channel", "subject", "description", "sla_policy", "opened_at", "updated_at")
CLOCK_COLUMNS = ("id", "ticket_id", "policy", "threshold", "due_at", "deadline", "fired", "fired_at")


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(base_url: str) -> str:
    name = f"guichet_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(plain_dsn(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(base_url: str, url: str) -> None:
    conn = await asyncpg.connect(plain_dsn(base_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def seed_organisations(conn: asyncpg.Connection, communes: int) -> tuple[list[int], int]:
    """One territory, the SEM operator with two supervisors, communes with two agents and a supervisor each."""
    await conn.execute("INSERT INTO territories (id, slug, name, timezone) VALUES (1, 'sem', 'SEM', 'Europe/Paris')")
    orgs = [(1, 1, "sem", "sem", "Saint-Étienne Métropole", "support@sem.test")]
    orgs += [(i + 2, 1, "commune", f"commune-{i}", f"Commune {i}", f"mairie{i}@commune.test") for i in range(communes)]
    await conn.copy_records_to_table("organisations", records=orgs,
                                     columns=("id", "territory_id", "kind", "slug", "name", "email"))
    agents, next_id = [], 1
    for org_id, *_ in orgs:
        roles = ("supervisor", "supervisor") if org_id == 1 else ("agent", "agent", "supervisor")
        for role in roles:
            agents.append((next_id, org_id, f"a{next_id}@org{org_id}.test", f"Agent {next_id}", "x", role, True, NOW))
            next_id += 1
    await conn.copy_records_to_table(
        "agents", records=agents,
        columns=("id", "organisation_id", "email", "name", "password_hash", "role", "active", "created_at"))
    await conn.execute("SELECT setval(pg_get_serial_sequence('organisations', 'id'), $1)", len(orgs))
    await conn.execute("SELECT setval(pg_get_serial_sequence('agents', 'id'), $1)", next_id)
    return [o[0] for o in orgs[1:]], next_id - 1


def ticket_record(i: int, org_id: int, status: str, opened: datetime) -> tuple:
    reference = f"{2000 + i // 90_000}-{i % 90_000 + 1:05d}"
    return (i, 1, reference, "hardware_failure", org_id, "school_authority", status, 3, "web",
            f"Panne {i}", "", "replacement", opened, opened)


async def fill(conn: asyncpg.Connection, start: int, stop: int, communes: list[int], due_now: int) -> None:
    """Tickets start..stop-1 (one in ten open) and their three clock rows, by COPY.

    The first `due_now` open tickets have their warning due; every other open threshold falls
    in the next three weeks, so each size claims the same number of rows and the timings
    compare the cost of finding them, not of locking more of them.
    """
    tickets, clocks = [], []
    for i in range(start, stop):
        org = communes[i % len(communes)]
        is_open = i % 10 == 0
        if is_open:
            if i < 10 * due_now:
                first = NOW - timedelta(minutes=1 + i % 120)
            else:
                first = NOW + timedelta(minutes=1 + (i * 7919) % (21 * 24 * 60))
            tickets.append(ticket_record(i, org, "in_progress", first - timedelta(days=1)))
            for k, threshold in enumerate(THRESHOLDS):
                at = first + timedelta(hours=12 * k)
                clocks.append((3 * i + k, i, "replacement", threshold, at, at, False, None))
        else:
            opened = NOW - timedelta(days=30 + i % 700)
            tickets.append(ticket_record(i, org, "closed", opened))
            for k, threshold in enumerate(THRESHOLDS):
                at = opened + timedelta(hours=36 + 12 * k)
                clocks.append((3 * i + k, i, "replacement", threshold, at, at, True, at))
    await conn.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
    await conn.copy_records_to_table("sla_clocks", records=clocks, columns=CLOCK_COLUMNS)


async def time_claim(conn: asyncpg.Connection, runs: int) -> tuple[float, float, int]:
    """p50 and p95 in ms of the claim query, each run in its own transaction, rolled back."""
    samples, found = [], 0
    stmt = await conn.prepare(CLAIM)
    for _ in range(runs):
        tx = conn.transaction()
        await tx.start()
        began = time.perf_counter()
        rows = await stmt.fetch(NOW)
        samples.append((time.perf_counter() - began) * 1000)
        await tx.rollback()
        found = len(rows)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], found


async def query_bench(base_url: str, sizes: list[int], runs: int, due_now: int) -> list[dict]:
    url = await create_database(base_url)
    results = []
    try:
        await migrate(url)
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            communes, _ = await seed_organisations(conn, 300)
            loaded = 0
            for size in sizes:
                began = time.perf_counter()
                step = 200_000
                for start in range(loaded, size, step):
                    await fill(conn, start, min(start + step, size), communes, due_now)
                await conn.execute("ANALYZE tickets; ANALYZE sla_clocks")
                fill_s = time.perf_counter() - began
                loaded = size
                p50, p95, found = await time_claim(conn, runs)
                due = await conn.fetchval("SELECT count(*) FROM sla_clocks WHERE fired = false AND due_at <= $1", NOW)
                rows = await conn.fetchval("SELECT count(*) FROM sla_clocks")
                plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + CLAIM, NOW)
                await conn.execute("ROLLBACK") if conn.is_in_transaction() else None
                results.append({"size": size, "rows": rows, "due": due, "claimed": found, "fill_s": fill_s,
                                "p50": p50, "p95": p95, "plan": [r[0] for r in plan]})
                print(f"  {size:>9,} tickets: filled in {fill_s:.1f} s, p50 {p50:.3f} ms", file=sys.stderr)
        finally:
            await conn.close()
    finally:
        await drop_database(base_url, url)
    return results


async def watcher_bench(base_url: str, due_clocks: int) -> dict:
    url = await create_database(base_url)
    try:
        await migrate(url)
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            communes, _ = await seed_organisations(conn, 50)
            tickets, clocks = [], []
            for i in range(due_clocks):
                tickets.append(ticket_record(i, communes[i % len(communes)], "in_progress", NOW - timedelta(days=3)))
                due_k = i % 3  # this ticket's threshold due now; earlier ones fired, later ones ahead
                for k, threshold in enumerate(THRESHOLDS):
                    at = NOW - timedelta(minutes=1 + i % 600) + timedelta(hours=12 * (k - due_k))
                    fired = k < due_k
                    clocks.append((3 * i + k, i, "replacement", threshold, at, at, fired, at if fired else None))
            await conn.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
            await conn.copy_records_to_table("sla_clocks", records=clocks, columns=CLOCK_COLUMNS)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        engine = create_engine(url)
        sem = load_territory("sem")
        calendar = Calendar.from_dict(sem.timezone, sem.calendar)
        watcher = SlaWatcher(session_factory(engine), calendar_for=lambda _slug: calendar,
                             operator_for=lambda _slug: sem.operator.slug, now=lambda: NOW)
        began = time.perf_counter()
        report = await watcher.run_until_idle()
        elapsed = time.perf_counter() - began
        async with engine.connect() as c:
            outbox = (await c.execute(text("SELECT dedupe_key, recipient, payload FROM outbox"))).all()
            events = await c.scalar(text("SELECT count(*) FROM ticket_events WHERE kind = 'clock'"))
            unfired = await c.scalar(text("SELECT count(*) FROM sla_clocks WHERE fired = false AND due_at <= :n"),
                                     {"n": NOW})
            expected = await expected_notices(c)
        await engine.dispose()
        pairs: Counter[tuple[int, str]] = Counter()
        for _key, recipient, payload in outbox:
            ids = payload["clock_ids"] if payload["kind"] == "sla_digest" else [payload["clock_id"]]
            pairs.update((clock_id, recipient) for clock_id in ids)
        return {
            "due": due_clocks, "seconds": elapsed, "report": report, "outbox_rows": len(outbox),
            "digests": sum(1 for r in outbox if r[0].startswith("sla-digest:")),
            "notices": sum(pairs.values()), "duplicates": sum(n - 1 for n in pairs.values() if n > 1),
            "expected": len(expected), "missing": len(expected - set(pairs)), "events": events, "unfired": unfired,
        }
    finally:
        await drop_database(base_url, url)


async def expected_notices(conn) -> set[tuple[int, str]]:
    """(clock, recipient) pairs the rules of DOMAIN.md §5 call for, computed independently in SQL."""
    result = await conn.execute(text("""
        SELECT c.id, a.email FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id
          JOIN agents a ON a.active AND (
               (c.threshold = 'warning' AND a.organisation_id = t.organisation_id)
            OR (c.threshold = 'target' AND a.organisation_id = t.organisation_id AND a.role = 'supervisor')
            OR (c.threshold = 'breach' AND a.role = 'supervisor'
                AND a.organisation_id IN (t.organisation_id, (SELECT id FROM organisations WHERE slug = 'sem'))))
         WHERE c.fired AND c.fired_at = :now
    """), {"now": NOW})
    return {(clock_id, email) for clock_id, email in result.all()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="ticket counts, ascending (default 10000,100000,1000000; drop 1000000 for a quick run)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of the claim query per size")
    parser.add_argument("--due-now", type=int, default=200, help="rows due at every size in the query bench")
    parser.add_argument("--due", type=int, default=10_000, help="clocks due at once for the watcher pass")
    args = parser.parse_args()
    base_url = os.environ.get("GUICHET_BENCH_POSTGRES_URL", DEFAULT_URL)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    print(f"PostgreSQL: {base_url}", file=sys.stderr)
    # The watcher pass first: after a 1 M fill the server is still writing checkpoints.
    watch = asyncio.run(watcher_bench(base_url, args.due))
    results = asyncio.run(query_bench(base_url, sizes, args.runs, args.due_now))

    base = results[0]["p50"]
    print("\n## Due-clock claim query (LIMIT 1000, FOR UPDATE SKIP LOCKED)\n")
    print("| tickets | clock rows | due now | rows claimed | fill of the step (s) | p50 (ms) | p95 (ms) | p50 / p50 at first size |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['size']:,} | {r['rows']:,} | {r['due']:,} | {r['claimed']} | {r['fill_s']:.1f} | "
              f"{r['p50']:.3f} | {r['p95']:.3f} | {r['p50'] / base:.2f} |")
    print(f"\nPlan at {results[-1]['size']:,} tickets:\n")
    print("```\n" + "\n".join(results[-1]["plan"]) + "\n```")
    print("\n## One watcher pass over simultaneously due clocks\n")
    print(f"- {watch['due']:,} clocks due at once, fired in {watch['seconds']:.2f} s "
          f"({watch['report'].claimed:,} claimed, {watch['report'].fired:,} fired, {watch['report'].held} held)")
    print(f"- {watch['events']:,} clock events; {watch['unfired']} due rows left unfired")
    print(f"- {watch['notices']:,} notices expected by the rules: {watch['expected']:,}; missing {watch['missing']}, "
          f"duplicated {watch['duplicates']}")
    print(f"- {watch['outbox_rows']:,} outbox rows, of which {watch['digests']:,} digests")
    ok = (watch["missing"] == 0 and watch["duplicates"] == 0 and watch["unfired"] == 0
          and all("ix_sla_clocks_due" in "\n".join(r["plan"]) for r in results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
