"""Against a real Dovecot: unseen mail is fetched, ticketed, then flagged \\Seen — only after commit."""

from __future__ import annotations

import asyncio

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import select

from bot.email import ImapConfig, ImapPoller
from desk import locks
from desk.models import InboundMessage, Ticket
from tests.email import dovecot
from tests.email.conftest import make_mail

pytestmark = [
    pytest.mark.imap,
    pytest.mark.skipif(not dovecot.available(), reason="Debian's dovecot-imapd (/usr/sbin/dovecot) is not installed"),
]

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def imap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dovecot.Dovecot]:
    server = dovecot.start(tmp_path_factory.mktemp("dovecot"))
    yield server
    server.stop()


@pytest.fixture
async def mailbox(imap_server) -> AsyncIterator[aioimaplib.IMAP4]:
    """A logged-in client on an emptied INBOX, to deliver mail and read flags."""
    client = aioimaplib.IMAP4("127.0.0.1", imap_server.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(dovecot.USER, dovecot.PASSWORD)
    for _ in range(20):  # the previous test's poller may still hold the mailbox for a moment
        if (await client.select("INBOX")).result == "OK":
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError("INBOX could not be selected")
    await client.store("1:*", "+FLAGS", "(\\Deleted)")
    await client.expunge()
    yield client
    await client.logout()


async def _flags(client: aioimaplib.IMAP4) -> list[bool]:
    """\\Seen of every message in the INBOX, in order."""
    await client.select("INBOX")
    response = await client.fetch("1:*", "(FLAGS)")
    return [b"\\Seen" in line for line in response.lines if b"FETCH" in line]


def _poller(desk, imap_server, **kwargs) -> ImapPoller:
    return ImapPoller(ImapConfig.from_url(imap_server.url), desk.intake, desk.db.sessions, **kwargs)


async def test_unseen_mail_becomes_tickets_then_seen(desk, imap_server, mailbox) -> None:
    """Two reports and a bounce: two tickets, three messages flagged \\Seen, nothing left."""
    await mailbox.append(make_mail(message_id="<i1@ac-lyon.fr>"), mailbox="INBOX")
    await mailbox.append((CORPUS / "iphone.eml").read_bytes(), mailbox="INBOX")
    await mailbox.append((CORPUS / "bounce_mailer_daemon.eml").read_bytes(), mailbox="INBOX")
    report = await _poller(desk, imap_server).poll_once()
    assert (report.fetched, report.seen, report.left_unseen) == (3, 3, 0)
    assert await _flags(mailbox) == [True, True, True]
    async with desk.db.sessions() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 2
    again = await _poller(desk, imap_server).poll_once()
    assert again.fetched == 0


async def test_failure_before_commit_leaves_the_mail_unseen(desk, imap_server, mailbox) -> None:
    """A processing failure keeps the mail unseen; the next poll, once fixed, tickets it."""
    await mailbox.append(make_mail(message_id="<i2@ac-lyon.fr>"), mailbox="INBOX")
    real_parse = desk.intake._parse
    desk.intake._parse = lambda raw: (_ for _ in ()).throw(RuntimeError("database went away"))
    report = await _poller(desk, imap_server).poll_once()
    assert report.left_unseen == 1 and await _flags(mailbox) == [False]
    async with desk.db.sessions() as session:
        assert (await session.scalar(select(Ticket))) is None
        assert (await session.scalar(select(InboundMessage))).status == "received"
    desk.intake._parse = real_parse
    report = await _poller(desk, imap_server).poll_once()
    assert report.seen == 1 and await _flags(mailbox) == [True]
    async with desk.db.sessions() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 1


async def test_a_second_poller_is_locked_out(desk, imap_server, mailbox) -> None:
    """While one poller holds the mailbox lock, another fetches nothing."""
    await mailbox.append(make_mail(message_id="<i3@ac-lyon.fr>"), mailbox="INBOX")
    first = _poller(desk, imap_server, owner="first")
    async with desk.db.sessions.begin() as session:
        assert await locks.acquire(session, first.config.lock_name, "first", timedelta(minutes=5))
    report = await _poller(desk, imap_server, owner="second").poll_once()
    assert report.locked_out and await _flags(mailbox) == [False]
    assert (await first.poll_once()).seen == 1
