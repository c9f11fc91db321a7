"""The built-in SMTP receiver: a mail gets its 250 only once it is committed to the database."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.email.parse import external_id
from desk.db import STORAGE_ERRORS, storage
from handlers.email_intake import EmailIntake

__all__ = ["IntakeHandler", "LenientSMTP", "start_smtp_intake", "MAX_LINE_BYTES", "MAX_MESSAGE_BYTES"]

log = logging.getLogger(__name__)

#: Larger than a 20 MB attachment once base64-encoded; aiosmtpd answers 552 above it.
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
#: Longest line taken in DATA. RFC 5321 says 1 000 octets, but real mail (GMX and Amazon SES
#: bounces, webmail HTML) has longer ones and Postfix, Exim and Sendmail accept them.
MAX_LINE_BYTES = 1024 * 1024


class LenientSMTP(SMTP):
    """aiosmtpd's protocol taking lines up to MAX_LINE_BYTES instead of answering 500."""

    line_length_limit = MAX_LINE_BYTES


class IntakeHandler:
    """aiosmtpd handler: persist (commit), then process, then answer; 451 when the database fails."""

    def __init__(self, intake: EmailIntake) -> None:
        self.intake = intake

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        key = external_id(content)
        # Like a final delivery agent, record the envelope sender (empty for bounces).
        mail_from = (envelope.mail_from or "").strip().strip("<>")
        raw = b"Return-Path: <" + mail_from.encode("utf-8", "replace") + b">\r\n" + content
        try:
            receipt = await self.intake.store(raw, external_id=key, source="smtp", claim=True)
        except (*STORAGE_ERRORS, asyncio.TimeoutError) as exc:
            if not storage.failed(exc, "the SMTP intake"):  # an outage is logged once
                log.warning("mail not stored, sender asked to retry: %s", type(exc).__name__)
            return "451 4.3.0 Temporary failure, please try again later"
        try:
            await self.intake.process(receipt.inbound_id, claimed=receipt.created)
        except Exception as exc:  # noqa: BLE001 - stored: the retry sweep will try again
            if not storage.failed(exc, "the SMTP intake"):
                log.exception("mail %s stored but not processed yet", receipt.inbound_id)
        return f"250 2.0.0 OK queued as {receipt.inbound_id}"


async def start_smtp_intake(intake: EmailIntake, host: str, port: int, **smtp_kwargs: Any) -> asyncio.Server:
    """Listen in the running loop (aiosmtpd's protocol on asyncio's server, no thread)."""
    handler = IntakeHandler(intake)
    loop = asyncio.get_running_loop()
    smtp_kwargs.setdefault("data_size_limit", MAX_MESSAGE_BYTES)
    smtp_kwargs.setdefault("hostname", "guichet")
    return await loop.create_server(lambda: LenientSMTP(handler, **smtp_kwargs), host=host, port=port)
