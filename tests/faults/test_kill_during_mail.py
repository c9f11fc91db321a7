"""`kill -9` of `guichet serve` in the middle of incoming mail, through SMTP and through IMAP.

A real `guichet serve` on loopback with its SMTP intake (mail handed over as a sending server
does: the same message again until it is accepted with a 250) or its IMAP poller (Debian's
Dovecot on loopback), the acknowledgements sent to an SMTP sink on loopback, and the process
killed twice (SIGKILL: no clean-up) and restarted on the same database while mail arrives.
Afterwards every mail is one stored message and one ticket — none twice, none missing — and
every acknowledgement the desk recorded reached the sink. An acknowledgement may be repeated
only when a kill fell between the sink's 250 and the recording of the delivery; the test checks
each repeat had a kill within one dispatcher lease after its first delivery.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from desk.models import InboundMessage, OutboxMessage, School, Ticket
from desk.repositories import ensure_requester
from guichet.demo import load_demo
from tests.email import dovecot
from tests.email.conftest import OURS, make_mail
from tests.faults.test_kill_during_webhooks import ROOT, Serve, _free_port

MAILS = 36
KILL_AFTER = (10, 24)  # mails accepted (SMTP) or ticketed (IMAP) before each kill -9
LEASE = 2.0
OUTBOX_LEASE = 5.0  # the dispatcher's hold on the acknowledgements it claimed (sends take ms here)


class Sink:
    """The relay the desk sends its acknowledgements to: keeps each message and when it came."""

    def __init__(self) -> None:
        self.received: list[tuple[float, email.message.EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((time.monotonic(), message))  # type: ignore[arg-type]
        return "250 OK"


def _teacher(i: int) -> str:
    return f"enseignant{i:02d}@ac-lyon.fr"


def _mail(i: int) -> bytes:
    return make_mail(f"Bonjour, le vidéoprojecteur de la classe {i} ne s'allume plus depuis ce matin.",
                     sender=_teacher(i), subject=f"Vidéoprojecteur en panne, classe {i}",
                     message_id=f"<panne-{i}@ac-lyon.fr>")


async def _hand_over(port: int, i: int) -> None:
    """What a sending server does: the same message again until it is accepted."""
    while True:
        try:
            errors, _ = await aiosmtplib.send(_mail(i), hostname="127.0.0.1", port=port, sender=_teacher(i),
                                              recipients=[OURS], timeout=10)
            if not errors:
                return
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.2)


async def _tickets(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.fixture(scope="module")
def imap_server():  # type: ignore[no-untyped-def]
    """Outside pytest's own temporary root: another pytest starting on the machine resets that
    root to 0700, and Dovecot's unprivileged processes could no longer reach the mailbox."""
    if not dovecot.available():
        pytest.skip("Dovecot (dovecot-imapd) is not installed")
    root = Path(tempfile.mkdtemp(prefix="guichet-dovecot-"))
    server = dovecot.start(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("door", ["smtp", "imap"])
async def test_kill_9_during_mail_loses_no_mail_and_no_acknowledgement(db, tmp_path: Path, door: str,
                                                                      request) -> None:
    url, sessions = db.url, db.sessions
    async with sessions.begin() as session:
        await load_demo(session, "sem", assets=10)
        school = await session.scalar(select(School).where(School.status == "public").order_by(School.id).limit(1))
        for i in range(MAILS):
            await ensure_requester(session, school.territory_id, "email", _teacher(i), name=f"Enseignant {i}",
                                   school_id=school.id)
    sink = Sink()
    sink_port = _free_port()
    relay = await asyncio.get_running_loop().create_server(lambda: SMTP(sink, hostname="relay"), "127.0.0.1",
                                                          sink_port)
    port, intake_port = _free_port(), _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUICHET_")}
    env.update(
        GUICHET_DATABASE_URL=url, GUICHET_HTTP_PORT=str(port), GUICHET_MAIL_FROM=OURS,
        GUICHET_SMTP_URL=f"smtp://127.0.0.1:{sink_port}", GUICHET_LOG_LEVEL="WARNING",
        GUICHET_REPLY_LEASE_SECONDS=str(LEASE), GUICHET_OUTBOX_INTERVAL_SECONDS="0.5",
        GUICHET_OUTBOX_LEASE_SECONDS=str(OUTBOX_LEASE), GUICHET_MAIL_LEASE_SECONDS="5",
        GUICHET_MAIL_RETRY_SECONDS="1",
        GUICHET_SESSION_SECRET=base64.urlsafe_b64encode(b"fault-session-key-32-bytes-long!").decode(),
        GUICHET_NLU_CACHE=os.environ.get("GUICHET_NLU_CACHE", str(ROOT / "var" / "nlu-cache")),
        GUICHET_FAULT_LOG=str(tmp_path / "serve.log"),
    )
    mailbox = None
    if door == "smtp":
        env["GUICHET_SMTP_INTAKE_PORT"] = str(intake_port)
    else:
        server = request.getfixturevalue("imap_server")
        env.update(GUICHET_IMAP_URL=server.url, GUICHET_IMAP_INTERVAL_SECONDS="1", GUICHET_IMAP_LOCK_SECONDS="5")
        import aioimaplib

        mailbox = aioimaplib.IMAP4("127.0.0.1", server.port, timeout=10)
        await mailbox.wait_hello_from_server()
        await mailbox.login(dovecot.USER, dovecot.PASSWORD)
        await mailbox.select("INBOX")
        await mailbox.store("1:*", "+FLAGS", "(\\Deleted)")
        await mailbox.expunge()
        for i in range(MAILS):
            await mailbox.append(_mail(i), mailbox="INBOX")
    serve = Serve(env, port)
    killed_at: list[float] = []
    try:
        await serve.start()
        kills = list(KILL_AFTER)
        if door == "smtp":
            accepted = 0
            restart = asyncio.Lock()
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(MAILS):
                queue.put_nowait(i)

            async def sender() -> None:
                nonlocal accepted
                while not queue.empty():
                    await _hand_over(intake_port, queue.get_nowait())
                    accepted += 1
                    async with restart:
                        if kills and accepted >= kills[0]:
                            kills.pop(0)
                            killed_at.append(time.monotonic())
                            serve.kill()
                            await serve.start()

            await asyncio.gather(*(sender() for _ in range(4)))
        else:
            deadline = time.monotonic() + 120
            while kills and time.monotonic() < deadline:
                if await _tickets(sessions) >= kills[0]:
                    kills.pop(0)
                    killed_at.append(time.monotonic())
                    serve.kill()
                    await serve.start()
                await asyncio.sleep(0.05)
            assert not kills, ("the poller did not get far enough to be killed",
                               await _tickets(sessions), [line for line in serve.log.read_text(errors="replace").splitlines()
                                                         if "IMAP" in line][-4:],
                               (server.root / "dovecot.log").read_text(errors="replace")[-1500:])

        # Every mail stored once and ticketed once, every recorded acknowledgement delivered.
        deadline = time.monotonic() + 90
        while True:
            async with sessions() as session:
                inbound = (await session.scalars(select(InboundMessage).where(InboundMessage.channel == "email"))).all()
                tickets = (await session.scalars(select(Ticket))).all()
                outbox = (await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email"))).all()
            delivered = Counter((str(m["To"]), str(m["Subject"])) for _, m in sink.received)
            recorded = Counter((r.recipient, r.subject) for r in outbox)
            lost = recorded - delivered
            settled = all(r.status in ("sent", "dead") for r in outbox) and len(outbox) >= MAILS
            if (len(tickets) >= MAILS and not lost and settled
                    and all(r.status == "processed" for r in inbound)) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        serve.stop()
        relay.close()
        await relay.wait_closed()
        if mailbox is not None:
            await mailbox.logout()

    assert sorted(r.external_id for r in inbound) == sorted(f"<panne-{i}@ac-lyon.fr>" for i in range(MAILS))
    assert Counter(r.status for r in inbound) == {"processed": MAILS}
    assert len(tickets) == MAILS and len({t.requester_id for t in tickets}) == MAILS  # one each, none twice
    assert not lost, f"acknowledgements never delivered: {sorted(lost.elements())[:5]}"
    assert {r.status for r in outbox} == {"sent"}
    assert {r.recipient for r in outbox} == {_teacher(i) for i in range(MAILS)}
    repeated = sum((delivered - recorded).values())
    print(f"\n{db.dialect} {door}: {MAILS} mails, {len(outbox)} acknowledgements, {len(killed_at)} kills: "
          f"0 lost, {repeated} repeated")
    arrivals: dict[tuple[str, str], list[float]] = {}
    for at, message in sink.received:
        arrivals.setdefault((str(message["To"]), str(message["Subject"])), []).append(at)
    for answer, times in arrivals.items():
        for first, again in zip(times, times[1:]):
            assert any(first - 0.5 <= kill <= min(first + OUTBOX_LEASE, again) for kill in killed_at), (
                f"{answer} delivered at {first:.2f} and again at {again:.2f}, kills at {killed_at}")
