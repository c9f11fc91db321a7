"""The e-mail channel in the application: SMTP intake, IMAP poller and the threading sender.

`setup_email(app)` plugs it into the application from settings: the SMTP receiver when
GUICHET_SMTP_INTAKE_PORT is set, the IMAP poller when GUICHET_IMAP_URL is set, and the
threading e-mail sender on the outbox dispatcher when GUICHET_SMTP_URL is set.

Several territories share the one intake: a mail sent to a territory's desk address
(GUICHET_MAIL_ADDRESSES) is that territory's, with its rules and calendar; its senders'
identities are qualified by the territory (`domain.addresses`), and what the desk writes them
leaves from that territory's address.
"""

from __future__ import annotations

from datetime import timedelta

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.email.notices import NoticeMailSender
from bot.email import ImapConfig, ImapPoller, MailParser, TicketThreading, message_id_for, start_smtp_intake
from desk.outbox import EmailSender, Outgoing, Sender
from domain.addresses import SEPARATOR
from guichet.settings import Settings
from handlers.context import DeskContext, context_for
from handlers.email_intake import EmailIntake
from web.keys import context_key, dispatcher_key, email_intake_key, kb_key, nlu_key, sessions_key, settings_key

__all__ = ["build_intake", "intake_key", "setup_email"]

log = logging.getLogger(__name__)

intake_key = email_intake_key

def build_intake(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], *, nlu: Any,
    tutorials: Any | None = None, ctx: DeskContext | None = None, **options: Any,
) -> EmailIntake:
    """The use case with the adapter's parser and Message-ID minting for the desk's address."""
    ours = settings.mail_from.lower()
    domain = ours.rpartition("@")[2] or "localhost"

    def mint(reference: str | None) -> str:
        if reference:
            return message_id_for(reference, domain)
        return f"<guichet-reply.{secrets.token_hex(8)}@{domain}>"

    return EmailIntake(
        sessions, ctx or context_for(settings.territory), nlu, MailParser(ours),
        our_address=ours, message_id_for=mint, tutorials=tutorials,
        public_url=settings.public_url, territories=_other_addresses(settings), **options,
    )


def _other_addresses(settings: Settings) -> dict[str, tuple[DeskContext, str]]:
    """The desk address of every served territory but the default one (whose address is
    GUICHET_MAIL_FROM), with its context and namespace."""
    default = settings.served_territories[0]
    ours = settings.mail_from.lower()
    return {address: (context_for(slug), slug) for slug, address in settings.desk_addresses().items()
            if slug != default and address != ours}


class TerritoryMailSender:
    """Sends each mail from its territory's address: a recipient `slug/address` goes to `address`
    from `slug`'s desk address, any other from the default one's."""

    def __init__(self, senders: dict[str, Sender], default: Sender) -> None:
        self._senders, self._default = senders, default

    async def send(self, message: Outgoing) -> None:
        namespace, sep, address = message.recipient.partition(SEPARATOR)
        sender = self._senders.get(namespace) if sep else None
        if sender is None:
            await self._default.send(message)
            return
        await sender.send(replace(message, recipient=address))


def setup_email(app: web.Application) -> None:
    """Register the e-mail channel's contexts for what the settings turn on.

    The intake uses the application's NLU, knowledge base and territory context: the same
    objects as the dialogue, so a mail is triaged exactly as a chat message.
    """
    settings = app[settings_key]
    if settings.smtp_url:
        app.cleanup_ctx.append(_sender_context)
    if not (settings.smtp_intake_port or settings.imap_url):
        return
    app[intake_key] = build_intake(settings, app[sessions_key], nlu=app[nlu_key],
                                   tutorials=app.get(kb_key), ctx=app.get(context_key),
                                   lease=timedelta(seconds=settings.mail_lease_seconds))
    app.cleanup_ctx.append(_intake_context)
    if settings.smtp_intake_port:
        app.cleanup_ctx.append(_smtp_context)
    if settings.imap_url:
        ImapConfig.from_url(settings.imap_url)  # fail at start on a malformed URL
        app.cleanup_ctx.append(_imap_context)


async def _sender_context(app: web.Application) -> AsyncIterator[None]:
    """The e-mail sender: threaded replies, notices in the words of every channel."""
    settings = app[settings_key]
    if dispatcher_key in app:
        threading = TicketThreading(app[sessions_key], settings.mail_from)
        smtp = EmailSender(settings.smtp_url or "", settings.mail_from, threading=threading)
        others: dict[str, Sender] = {
            slug: EmailSender(settings.smtp_url or "", address, threading=threading)
            for address, (_ctx, slug) in _other_addresses(settings).items()}
        outgoing = TerritoryMailSender(others, smtp) if others else smtp
        app[dispatcher_key].register("email", NoticeMailSender(outgoing, app[sessions_key], settings.public_url))
    else:
        log.warning("GUICHET_SMTP_URL is set but no outbox dispatcher runs: mail will wait")
    yield


async def _intake_context(app: web.Application) -> AsyncIterator[None]:
    intake = app[intake_key]
    stop = asyncio.Event()
    # Stored mails waiting for an attempt: a failure, or a process that died holding them.
    task = asyncio.create_task(_every(app[settings_key].mail_retry_seconds, intake.retry_pending, stop),
                               name="mail retries")
    yield
    stop.set()
    await _finish(task)


async def _smtp_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    server = await start_smtp_intake(app[intake_key], settings.http_host, settings.smtp_intake_port or 0)
    log.info("SMTP intake listening on %s:%s", settings.http_host, settings.smtp_intake_port)
    yield
    server.close()
    await server.wait_closed()


async def _imap_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    poller = ImapPoller(ImapConfig.from_url(settings.imap_url or ""), app[intake_key], app[sessions_key],
                        interval=settings.imap_interval_seconds,
                        lock_ttl=timedelta(seconds=settings.imap_lock_seconds))
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop), name="IMAP poller")
    yield
    stop.set()
    await _finish(task)


async def _every(interval: float, job: Callable[[], Any], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            try:
                await job()
            except Exception:  # noqa: BLE001 - logged; the next sweep tries again
                log.exception("mail retry sweep failed")


async def _finish(task: asyncio.Task[Any]) -> None:
    try:
        await asyncio.wait_for(task, 10)
    except TimeoutError:
        log.warning("%s did not stop in time: cancelled", task.get_name())
