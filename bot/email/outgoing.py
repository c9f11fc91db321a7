"""Threading headers for outgoing mail: a reply lands in the teacher's thread for the ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.email.threading import message_id_for, subject_reference, tagged_subject
from desk.outbox import Outgoing, payload_headers
from handlers.notices import mail_thread

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["TicketThreading"]

#: How many earlier Message-IDs a References header carries (RFC 5322 allows trimming).
MAX_REFERENCES = 10


class TicketThreading:
    """Resolver for desk.outbox.EmailSender: payload headers first, else the ticket's last mail."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], our_address: str) -> None:
        self._sessions = sessions
        self.our_address = our_address.lower()
        self.domain = self.our_address.rpartition("@")[2] or "localhost"

    async def __call__(self, message: Outgoing) -> dict[str, str]:
        headers = payload_headers(message.payload)
        headers.setdefault("X-Loop", self.our_address)
        if message.ticket_id is None:
            return headers
        reference, ids = await mail_thread(self._sessions, message.ticket_id)
        if reference is None:
            return headers
        # A stable id per outbox row: a retried send carries the same Message-ID.
        headers.setdefault("Message-ID", message_id_for(reference, self.domain, unique=f"outbox-{message.id}"))
        mail_ids = [i for i in ids if i.startswith("<")]
        if mail_ids and "In-Reply-To" not in headers:
            headers["In-Reply-To"] = mail_ids[-1]
            headers["References"] = " ".join(mail_ids[-MAX_REFERENCES:])
        subject = message.subject or ""
        if subject_reference(subject) != reference:
            headers["Subject"] = tagged_subject(reference, subject)
        if (message.payload or {}).get("kind") == "reply":
            headers.setdefault("Auto-Submitted", "no")  # an agent wrote it: a person's answer
        return headers
