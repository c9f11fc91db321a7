"""Fixtures of the e-mail channel: a seeded desk, the intake, an SMTP sink, mail builders."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from guichet.channels.email import build_intake
from desk.models import School
from desk.repositories import ensure_requester
from guichet.demo import load_demo
from guichet.settings import load_settings
from handlers.email_intake import EmailIntake
from kb.search import KnowledgeBase
from nlu import LocalNlu

OURS = "guichet@sem.test"
TEACHER = "marie.durand@ac-lyon.fr"

_NLU = LocalNlu()
_KB = KnowledgeBase.from_directory()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_mail(
    body: str = "Bonjour, le vidéoprojecteur de la classe de CM2 ne s'allume plus.",
    *, sender: str = TEACHER, subject: str | None = "Vidéoprojecteur en panne",
    message_id: str | None = None, headers: dict[str, str] | None = None,
    to: str = OURS, cc: str | None = None,
) -> bytes:
    mail = EmailMessage()
    if sender:
        mail["From"] = sender
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    if subject is not None:
        mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return bytes(mail)


@dataclass
class Desk:
    db: Any
    intake: EmailIntake
    territory_id: int
    school: School
    teacher_id: int


@pytest.fixture
async def desk(db) -> Desk:
    """The SEM demo territory with one known teacher (TEACHER) linked to a public school."""
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=10)
        school = await session.scalar(
            select(School).where(School.status == "public").order_by(School.id).limit(1))
        teacher = await ensure_requester(session, school.territory_id, "email", TEACHER,
                                         name="Marie Durand", school_id=school.id)
        territory_id, teacher_id = school.territory_id, teacher.id
    settings = load_settings(database_url=db.url, mail_from=OURS, territory="sem")
    intake = build_intake(settings, db.sessions, nlu=_NLU, tutorials=_KB)
    return Desk(db, intake, territory_id, school, teacher_id)


@dataclass
class Sink:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    received: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    port = free_port()
    box = Sink(port)
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(box, hostname="sink"), "127.0.0.1", port)
    yield box
    server.close()
    await server.wait_closed()
