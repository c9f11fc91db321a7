"""Mail intake benchmark: SMTP receipt -> committed ticket + queued acknowledgement, on SQLite.

    python bench/mail_bench.py [--mails 300] [--connections 4]

Both rates are measured in the same run over loopback with the same client: aiosmtpd with a
bare handler that only answers 250 (the ceiling), then Guichet's intake, which answers 250
only after the mail, its ticket and its acknowledgement are committed.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from aiosmtpd.smtp import SMTP  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.email import start_smtp_intake
from guichet.channels.email import build_intake  # noqa: E402
from desk.db import create_engine, session_factory  # noqa: E402
from desk.migrate import upgrade  # noqa: E402
from desk.models import OutboxMessage, Ticket  # noqa: E402
from guichet.demo import load_demo  # noqa: E402
from guichet.settings import load_settings  # noqa: E402
from kb.search import KnowledgeBase  # noqa: E402
from nlu import LocalNlu  # noqa: E402

OURS = "guichet@sem.test"
REPORTS = [
    "Le vidéoprojecteur de la classe de CM2 ne s'allume plus.",
    "Plus d'internet depuis ce matin, la box clignote rouge.",
    "L'imprimante affiche une erreur et n'imprime plus.",
    "Word plante au démarrage sur le poste de la salle 3.",
    "La tablette ne charge plus dans le chariot.",
]


def _mail(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Enseignant {n} <prof{n}@ac-lyon.fr>"
    mail["To"] = OURS
    mail["Subject"] = f"Panne n° {n}"
    mail["Message-ID"] = f"<bench-{n}@ac-lyon.fr>"
    mail.set_content(f"Bonjour,\n\n{REPORTS[n % len(REPORTS)]}\n\nCordialement,\nEnseignant {n}\n")
    return bytes(mail)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _send_all(port: int, mails: list[bytes], connections: int) -> float:
    """Seconds to deliver every mail over `connections` persistent SMTP sessions."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in mails:
        queue.put_nowait(raw)

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await client.connect()
        while not queue.empty():
            raw = queue.get_nowait()
            await client.sendmail("prof@ac-lyon.fr", [OURS], raw)
        await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - start


class Bare:
    async def handle_DATA(self, server: SMTP, session: object, envelope: object) -> str:
        return "250 OK"


async def main(mails: int, connections: int) -> None:
    loop = asyncio.get_running_loop()
    payloads = [_mail(n) for n in range(mails)]

    port = _port()
    bare = await loop.create_server(lambda: SMTP(Bare()), "127.0.0.1", port)
    bare_seconds = await _send_all(port, payloads, connections)
    bare.close()
    await bare.wait_closed()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        engine = create_engine(url)
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await load_demo(session, "sem", assets=50)
        nlu = LocalNlu()
        nlu.parse("échauffement")  # load the model before the clock starts
        settings = load_settings(database_url=url, mail_from=OURS, territory="sem")
        intake = build_intake(settings, sessions, nlu=nlu, tutorials=KnowledgeBase.from_directory())
        port = _port()
        server = await start_smtp_intake(intake, "127.0.0.1", port)
        intake_seconds = await _send_all(port, payloads, connections)
        server.close()
        await server.wait_closed()
        async with sessions() as session:
            tickets = await session.scalar(select(func.count()).select_from(Ticket))
            acks = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.dedupe_key.like("mail-reply:%")))
        await engine.dispose()

    bare_rate, intake_rate = mails / bare_seconds, mails / intake_seconds
    print(f"mails: {mails}, SMTP connections: {connections}, database: SQLite (WAL)")
    print(f"aiosmtpd bare 250 handler : {bare_rate:8.1f} mails/s ({bare_seconds:.2f} s)")
    print(f"Guichet intake (committed): {intake_rate:8.1f} mails/s ({intake_seconds:.2f} s)")
    print(f"ratio intake / bare       : {intake_rate / bare_rate:8.3f}")
    print(f"tickets opened: {tickets}, acknowledgements queued: {acks}")
    if tickets < mails or acks < mails:
        raise SystemExit("some mails did not end as a ticket with an acknowledgement")
    if intake_rate < 50:
        raise SystemExit(f"below the 50 mails/s target: {intake_rate:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.mails, args.connections))
