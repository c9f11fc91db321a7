"""Scale-out: two `guichet serve` processes on one PostgreSQL, every background loop in both.

Telegram updates are spread over the two webhooks in turn (as a load balancer does), mail is
delivered to the two SMTP intakes in turn, and both outbox dispatchers and both SLA watchers
run. Then both processes are stopped, every ticket's breach clock is made due, and both are
started again at the same moment, so their first SLA passes and outbox passes race for the
same rows. Checked: one ticket per report, every update answered by one turn, every reply and
notice delivered once (Bot API server and SMTP relay on loopback), each breach fired once —
nothing done twice, nothing skipped.
"""

from __future__ import annotations

import asyncio
import email
import time
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import func, select, update

from bot.telegram import WEBHOOK_PATH
from desk.clock import utcnow
from desk.models import InboundMessage, OutboxMessage, SlaClock, School, Ticket, TicketEvent
from desk.repositories import ensure_requester
from guichet.demo import load_demo
from tests.email.conftest import Sink
from tests.faults.harness import REPORTS, Teacher, Webhooks, delivered_vs_recorded
from tests.faults.test_kill_during_webhooks import Serve, _free_port
from tests.faults.test_postgres_restart import serve_env
from tests.telegram.fake_bot_api import BotApiServer

TEACHERS = 16
MAILS = 12
OURS = "guichet@sem.test"


def _mail(sender: str, index: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, OURS
    mail["Subject"] = f"Panne n° {index}"
    mail["Message-ID"] = f"<panne-{index}@ac-lyon.fr>"
    mail.set_content(f"Bonjour, {REPORTS[index % len(REPORTS)]}. Merci d'avance.")
    return mail


async def _await_start(serves: list[Serve]) -> None:
    await asyncio.gather(*(serve.start() for serve in serves))


async def test_two_processes_do_nothing_twice_and_skip_nothing(db, tmp_path: Path) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several processes share one PostgreSQL; SQLite is the one-process default")
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=20)
        school = (await session.scalars(
            select(School).where(School.status == "public").order_by(School.uai))).first()
        assert school is not None
        senders = [f"enseignant{i}@ac-lyon.fr" for i in range(MAILS)]
        for i, address in enumerate(senders):
            await ensure_requester(session, school.territory_id, "email", address,
                                   name=f"Enseignant {i}", school_id=school.id)
    uai, school_id = school.uai, school.id

    bot_api = BotApiServer("123456:FAULT-token")
    await bot_api.start()
    sink = Sink(_free_port())
    relay = await asyncio.get_running_loop().create_server(lambda: SMTP(sink, hostname="relay"), "127.0.0.1", sink.port)
    serves: list[Serve] = []
    intake_ports: list[int] = []
    for name in ("a", "b"):
        port, intake = _free_port(), _free_port()
        intake_ports.append(intake)
        serves.append(Serve(serve_env(
            db.url, bot_api, port, tmp_path / f"serve-{name}.log", GUICHET_SMTP_INTAKE_PORT=str(intake),
            GUICHET_SMTP_URL=f"smtp://127.0.0.1:{sink.port}", GUICHET_MAIL_FROM=OURS,
        ), port))
    hooks = Webhooks([f"http://127.0.0.1:{s.port}{WEBHOOK_PATH}" for s in serves])
    teachers = [Teacher(bot_api.api, hooks, 7_300_001 + i, REPORTS[i % len(REPORTS)]) for i in range(TEACHERS)]

    async def mails() -> None:
        for i, sender in enumerate(senders):
            await aiosmtplib.send(_mail(sender, i), hostname="127.0.0.1", port=intake_ports[i % 2], timeout=30)

    async def wait_settled(deadline: float) -> None:
        while time.monotonic() < deadline:
            async with db.sessions() as session:
                waiting = await session.scalar(select(func.count()).select_from(InboundMessage).where(
                    InboundMessage.status.in_(("received", "processing"))))
                unsent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status.in_(("pending", "sending"))))
            if not waiting and not unsent:
                return
            await asyncio.sleep(0.5)

    try:
        await _await_start(serves)
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(mails(), *(t.run(http, uai, school_id) for t in teachers))
        await wait_settled(time.monotonic() + 60)
        for serve in serves:
            serve.stop()

        # Every open ticket's breach made due while both are down: both first passes race for them.
        async with db.sessions.begin() as session:
            breached = (await session.execute(
                update(SlaClock).where(SlaClock.threshold == "breach", SlaClock.fired.is_(False))
                .values(due_at=utcnow() - timedelta(minutes=1), deadline=utcnow() - timedelta(minutes=1))
                .returning(SlaClock.id))).scalars().all()
        await _await_start(serves)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with db.sessions() as session:
                fired = await session.scalar(select(func.count()).select_from(SlaClock).where(
                    SlaClock.id.in_(breached), SlaClock.fired.is_(True)))
            if fired == len(breached):
                break
            await asyncio.sleep(0.5)
        await wait_settled(time.monotonic() + 60)
        async with db.sessions() as session:
            inbound = (await session.scalars(select(InboundMessage))).all()
            outbox = (await session.scalars(select(OutboxMessage))).all()
            tickets = (await session.scalars(select(Ticket))).all()
            clock_events = (await session.scalars(select(TicketEvent).where(TicketEvent.kind == "clock"))).all()
        logs = [s.log.read_text(errors="replace") for s in serves]
    finally:
        for serve in serves:
            serve.stop()
        relay.close()
        await relay.wait_closed()
        await bot_api.stop()

    statuses = dict(hooks.statuses)
    per_channel = Counter(t.channel for t in tickets)
    print(f"\ntwo processes: {hooks.posted} updates ({statuses}), {MAILS} mails, tickets {dict(per_channel)}, "
          f"{len(outbox)} outbox rows, {len(sink.received)} e-mails relayed, {len(breached)} breaches")
    assert set(statuses) == {200}, statuses
    # Both processes took part (their logs say they served; each stored updates).
    assert all("Guichet est prêt" in log for log in logs)
    assert not [log for log in logs if "Traceback" in log], [log[-3000:] for log in logs if "Traceback" in log]
    stalled = [t.user_id for t in teachers if t.reference is None]
    assert not stalled, stalled
    assert Counter(r.status for r in inbound) == {"processed": len(inbound)}
    assert len([r for r in inbound if r.channel == "telegram"]) == hooks.posted
    # One ticket per report, whichever process took it.
    assert per_channel == {"telegram": TEACHERS, "email": MAILS}, per_channel
    assert {t.reference for t in teachers} == {t.reference for t in tickets if t.channel == "telegram"}
    mail_tickets = Counter(r.ticket_id for r in inbound if r.channel == "email")
    assert len(mail_tickets) == MAILS and set(mail_tickets.values()) == {1}
    # Every reply and notice delivered once.
    lost, repeated = delivered_vs_recorded(bot_api.api, list(outbox))
    assert not lost and not repeated, (lost, repeated)
    assert {r.status for r in outbox} == {"sent"}, Counter(r.status for r in outbox)
    relayed = Counter()
    for envelope in sink.received:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        for rcpt in envelope.rcpt_tos:
            relayed[(rcpt.lower(), str(message["Subject"]))] += 1
    recorded = Counter((r.recipient.lower(), r.subject) for r in outbox if r.channel == "email")
    assert relayed == recorded, (recorded - relayed, relayed - recorded)
    # Each breach fired once: one clock event per breached clock row, each notice once.
    assert breached and fired == len(breached)
    breach_events = [e for e in clock_events if (e.data or {}).get("threshold") == "breach"]
    assert len(breach_events) == len(breached), (len(breach_events), len(breached))
    assert [r for r in outbox if (r.dedupe_key or "").startswith("sla") and r.channel == "email"]
