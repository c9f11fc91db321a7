"""The e-mail use case: one transaction per mail — thread it, open a ticket, or hold it.

The adapter (bot.email) persists the raw bytes first, then calls `EmailIntake.process`.
A row of `inbound_messages` (channel "email") goes `received` -> `processing` -> one of
`processed` (joined or opened a ticket, or answered a how-to), `held` (waits for an agent),
`ignored` (machine mail that belongs to no ticket), or, after `max_attempts` failures or a
mail that can never be read (no sender), `quarantined` with the error. Nothing is retried
forever and nothing is dropped: the raw mail stays in an Attachment row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk import repositories as repo
from desk.clock import utcnow
from desk.errors import DeskError, RecordNotFound
from desk.models import (
    Attachment, InboundMessage, OutboxMessage, Requester, RequesterIdentity, School, Ticket, TicketEvent,
)
from domain.addresses import qualify
from domain.formats import REFERENCE_PATTERN, UAI_TYPED_RE
from domain.uai import is_valid_uai, normalise_uai
from domain.vocabulary import (
    TICKET_INTENTS, Channel, Equipment, InboundStatus, Intent, SchoolStatus, SlaPolicy, TicketStatus,
)
from handlers.context import DeskContext
from desk import inbox
from desk.inbox import Inbox, NotQuarantined, Receipt
from handlers import teacher_tickets as tickets
from handlers.replies import Meaning, read_reply
from handlers.satisfaction import rating_link
from handlers.assets import parse_device_note, teacher_note
from handlers.theft import GUIDE_SLUG, GUIDE_TITLE, theft_checklist
from handlers.email_bounces import Bounce, record_bounce
from handlers import other_problems
from handlers.problems import find_problems, find_problems_beside_question, not_covered, reading_of, without
from handlers.report import NotATicket, ReportDraft, ReportOutcome, open_report
from nlu import ParseResult

__all__ = [
    "EmailIntake", "IncomingMail", "InboundStatus", "MailAttachment", "NotQuarantined",
    "Receipt", "SkippedAttachment", "held", "quarantined", "replay",
]

log = logging.getLogger(__name__)

CHANNEL = Channel.EMAIL.value
SCHOOL_QUESTION = "Pouvez-vous nous indiquer le nom ou le code UAI de votre école ?"
SIGNATURE = "Bien cordialement,\nL'équipe du guichet unique SVP-m@intenanceEcole"
_ACADEMIC = re.compile(r"(^|\.)ac-[a-z]+(-[a-z]+)*\.fr$")
_UAI = UAI_TYPED_RE


@dataclass(frozen=True, slots=True)
class MailAttachment:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class SkippedAttachment:
    """A file over the size limit: named in the ticket and in the acknowledgement, not kept."""

    filename: str
    size: int


@dataclass(frozen=True)
class IncomingMail:
    """One mail as the adapter read it: addresses lower-cased, text decoded, threading keys found."""

    message_id: str
    sender: str | None
    sender_name: str | None
    subject: str
    text: str
    triage_text: str
    html: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    thread_refs: tuple[str, ...] = ()
    subject_ref: str | None = None
    automated: str | None = None
    attachments: tuple[MailAttachment, ...] = ()
    skipped: tuple[SkippedAttachment, ...] = ()
    defects: tuple[str, ...] = ()
    bounce: Bounce | None = None
    #: Why no sender could be read (for the quarantine), when `sender` is None.
    unreadable: str | None = None

    @property
    def participants(self) -> list[str]:
        seen: list[str] = []
        for address in ((self.sender,) if self.sender else ()) + self.to + self.cc:
            if address not in seen:
                seen.append(address)
        return seen


class Nlu(Protocol):
    async def aparse(self, text: str) -> ParseResult: ...


class Tutorials(Protocol):
    def best_for(self, text: str, intent: str | None = None, equipment: str | None = None) -> list[Any]: ...


class Unreadable(DeskError):
    """A mail that no retry can fix (no sender address): quarantined at once."""


#: The territory of the mail being handled, per task: (its context, its namespace of addresses).
_CURRENT: ContextVar[tuple[DeskContext, str] | None] = ContextVar("mail_territory", default=None)


class EmailIntake:
    """Stores raw mail, then turns each into a ticket message, a new ticket, or a held mail."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ctx: DeskContext,
        nlu: Nlu,
        parse: Callable[[bytes], IncomingMail],
        *,
        our_address: str,
        message_id_for: Callable[[str | None], str],
        tutorials: Tutorials | None = None,
        public_url: str | None = None,
        max_attempts: int = 3,
        replies_per_hour: int = 5,
        lease: timedelta = timedelta(minutes=5),
        now: Callable[[], datetime] = utcnow,
        territories: Mapping[str, tuple[DeskContext, str]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._default_ctx = ctx
        #: Another territory's desk address -> (its context, its namespace of addresses): a mail
        #: to that address is that territory's (`domain.addresses`); any other, the default's.
        self._territories = {address.lower(): value for address, value in (territories or {}).items()}
        self._territory_ids: dict[str, int] = {}
        self._nlu = nlu
        self._parse = parse
        self.our_address = our_address.lower()
        self._message_id_for = message_id_for
        self._tutorials = tutorials
        self._public_url = (public_url or "").rstrip("/")
        self.max_attempts = max_attempts
        self.replies_per_hour = replies_per_hour
        self.lease = lease
        self._now = now
        self.inbox = Inbox(sessions, Channel.EMAIL, max_attempts=max_attempts, lease=lease)

    # --- storage and retries ----------------------------------------------------------------

    async def store(self, raw: bytes, *, external_id: str, source: str, claim: bool = False) -> Receipt:
        """Persist the raw mail (commit) before anyone acknowledges it; duplicates are found by key.

        With `claim`, a new row is stored already claimed for its first attempt (one commit less).
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            blob = Attachment(filename="message.eml", content_type="message/rfc822", size=len(raw), content=raw)
            session.add(blob)
            await session.flush()
            row_id = await self.inbox.insert(
                session, external_id=external_id,
                payload={"source": source, "size": len(raw), "raw_attachment_id": blob.id}, received_at=now,
            )
            if row_id is not None:
                if claim:
                    row = await Inbox.row(session, row_id)
                    assert row is not None
                    row.status, row.attempts, row.processed_at = InboundStatus.PROCESSING.value, 1, now
                return Receipt(row_id, True, (InboundStatus.PROCESSING if claim else InboundStatus.RECEIVED).value)
            await session.delete(blob)  # a redelivery: the first copy is kept
        existing = await self.inbox.receipt(external_id)
        assert existing is not None
        return existing

    async def receive(self, raw: bytes, *, external_id: str, source: str) -> Receipt:
        """Store then process; a processing failure is recorded on the row, never raised."""
        receipt = await self.store(raw, external_id=external_id, source=source, claim=True)
        status = await self.process(receipt.inbound_id, claimed=receipt.created)
        return Receipt(receipt.inbound_id, receipt.created, status)

    async def process(self, inbound_id: int, *, claimed: bool = False) -> str:
        """One attempt at one stored mail, in one transaction; returns the row's status after it.

        `claimed` says the caller stored the row already claimed (`store(claim=True)`).
        """
        if not claimed and not await self.inbox.claim(inbound_id):
            return str(await self.inbox.status(inbound_id))
        try:
            async with self._sessions.begin() as session:
                row = await session.get(InboundMessage, inbound_id)
                assert row is not None
                await self._handle(session, row)
                return row.status
        except Unreadable as exc:
            log.warning("mail %s quarantined: %s", inbound_id, exc)
            return (await self.inbox.quarantine(inbound_id, str(exc))).value
        except Exception as exc:  # noqa: BLE001 - counted and bounded, then quarantined
            log.exception("mail %s: processing failed", inbound_id)
            status = await self.inbox.release(inbound_id, f"{type(exc).__name__}: {exc}", counted=True)
            if status is InboundStatus.QUARANTINED:
                log.warning("mail %s quarantined after %s attempt(s)", inbound_id, self.max_attempts)
            return status.value

    async def retry_pending(self, limit: int = 50) -> int:
        """Process stored mails that are due for another attempt; returns how many were tried."""
        ids = await self.inbox.due_for_retry(limit=limit)
        for inbound_id in ids:
            await self.process(inbound_id)
        return len(ids)

    async def replay(self, inbound_id: int) -> str:
        """Give a quarantined mail a fresh set of attempts and process it now."""
        async with self._sessions.begin() as session:
            await self.inbox.replay(session, inbound_id)
        return await self.process(inbound_id)

    # --- the decision -----------------------------------------------------------------------

    async def _handle(self, session: AsyncSession, row: InboundMessage) -> None:
        blob = await session.get(Attachment, (row.payload or {}).get("raw_attachment_id"))
        if blob is None:
            raise Unreadable("raw message missing")
        mail = self._parse(blob.content)
        ctx, namespace = self._territory_of(mail)
        token = _CURRENT.set((ctx, namespace))
        try:
            await self._handle_for(session, row, mail, ctx)
        finally:
            _CURRENT.reset(token)

    @property
    def _ctx(self) -> DeskContext:
        """The context of the territory of the mail being handled (the default one otherwise)."""
        current = _CURRENT.get()
        return current[0] if current is not None else self._default_ctx

    @property
    def _namespace(self) -> str:
        current = _CURRENT.get()
        return current[1] if current is not None else ""

    def _territory_of(self, mail: IncomingMail) -> tuple[DeskContext, str]:
        """The territory whose desk address the mail was sent to (To first, then Cc)."""
        for address in mail.to + mail.cc:
            if address in self._territories:
                return self._territories[address]
        return self._default_ctx, ""

    def _address(self, sender: str) -> str:
        """The sender's identity on this territory's mail door."""
        return qualify(self._namespace, sender)

    async def _handle_for(self, session: AsyncSession, row: InboundMessage, mail: IncomingMail,
                          ctx: DeskContext) -> None:
        name = ctx.territory.name
        if name not in self._territory_ids:
            self._territory_ids[name] = (await repo.get_territory(session, name)).id
        territory_id = self._territory_ids[name]
        if mail.bounce is not None:  # before the sender check: a bare MAILER-DAEMON has no address
            row.sender = self._address(mail.sender) if mail.sender else None
            row.payload = {**row.payload, "subject": mail.subject, "automated": mail.automated}
            ticket = await record_bounce(session, territory_id, mail.bounce, mail.thread_refs)
            self._done(row, InboundStatus.IGNORED, ticket.id if ticket else None,
                       note=mail.automated or "bounce")
            return
        if mail.sender is None:
            raise Unreadable(mail.unreadable or "no sender address (From header missing or unreadable)")
        row.sender = self._address(mail.sender)  # the territory's identity: exports and purges stay in it
        row.payload = {**row.payload, "subject": mail.subject, "automated": mail.automated,
                       "defects": list(mail.defects)}
        ticket = await self._thread(session, territory_id, mail)
        if ticket is not None:
            await self._join(session, row, ticket, mail)
            self._done(row, InboundStatus.PROCESSED, ticket.id)
        elif mail.automated:
            self._done(row, InboundStatus.IGNORED, None, note=mail.automated)
        else:
            await self._new_mail(session, row, territory_id, mail)

    def _done(self, row: InboundMessage, status: InboundStatus, ticket_id: int | None,
              note: str | None = None) -> None:
        row.status = status.value
        row.ticket_id = ticket_id
        row.processed_at = utcnow()
        row.error = note

    async def _thread(self, session: AsyncSession, territory_id: int, mail: IncomingMail) -> Ticket | None:
        """Headers first (our Message-IDs, or a mail already on a ticket); the subject tag only from participants."""
        for reference in mail.thread_refs:
            ticket = await self._ticket(session, territory_id, reference)
            if ticket is not None:
                return ticket
        ids = [i for i in mail.references + ((mail.in_reply_to,) if mail.in_reply_to else ()) if i]
        if ids:
            reference = await session.scalar(
                select(Ticket.reference).join(InboundMessage, InboundMessage.ticket_id == Ticket.id)
                .where(InboundMessage.channel == CHANNEL, InboundMessage.external_id.in_(ids),
                       Ticket.territory_id == territory_id)
                .order_by(InboundMessage.id.desc()).limit(1)
            )
            if reference:
                return await self._ticket(session, territory_id, reference)
        if mail.subject_ref:
            ticket = await self._ticket(session, territory_id, mail.subject_ref)
            if ticket is not None and await _is_participant(session, ticket, mail.sender or "",
                                                                   self._address(mail.sender or "")):
                return ticket
        return None

    @staticmethod
    async def _ticket(session: AsyncSession, territory_id: int, reference: str) -> Ticket | None:
        try:
            return await repo.ticket_by_reference(session, territory_id, reference)
        except RecordNotFound:
            return None

    async def _join(self, session: AsyncSession, row: InboundMessage, ticket: Ticket, mail: IncomingMail) -> None:
        """The reply becomes a message on its ticket; a ticket waiting on the teacher resumes.

        The teacher's short written answers do what the chat's buttons do: « oui » / « non »
        to « Le problème est-il résolu ? », « annulez ma demande », a note from 1 to 5.
        """
        from_requester = await _is_requester(session, ticket, self._address(mail.sender or ""))
        event = await repo.add_event(
            session, ticket, "message", body=_full_text(mail),
            actor_kind="requester" if from_requester else "participant",
            actor_id=ticket.requester_id if from_requester else None, channel=CHANNEL,
            data=_event_data(mail), internal=bool(mail.automated),
        )
        await self._keep_attachments(session, ticket, event, mail)
        if from_requester and not mail.automated and await self._answer(session, row, ticket, mail):
            return
        if not mail.automated:
            await tickets.resume_on_message(
                session, self._ctx, ticket, from_requester=from_requester,
                actor_id=ticket.requester_id if from_requester else None, channel=CHANNEL,
                now=self._ctx.now(), reason="Réponse reçue par courriel.")

    async def _answer(self, session: AsyncSession, row: InboundMessage, ticket: Ticket, mail: IncomingMail) -> bool:
        """A written answer standing for a button; False when the mail is a plain message."""
        reply = read_reply(mail.triage_text or mail.text)
        who = {"requester_id": ticket.requester_id, "channel": CHANNEL, "now": self._ctx.now()}
        if reply.meaning in (Meaning.SOLVED, Meaning.NOT_SOLVED) and ticket.status == TicketStatus.RESOLVED:
            solved = reply.meaning is Meaning.SOLVED
            await tickets.answer_resolution(session, self._ctx, ticket, solved=solved, **who)
            link = await rating_link(session, ticket.id, self._public_url) if solved else None
            body = (f"Merci ! La demande {ticket.reference} est close. Vous pouvez nous dire si vous êtes "
                    "satisfait·e de son traitement en répondant par une note de 1 à 5"
                    + (f", ou en un clic : {link}" if link else ".") if solved else
                    f"Je rouvre la demande {ticket.reference} : l'équipe reprend son traitement. "
                    "Décrivez en répondant à ce message ce qui ne va toujours pas.")
        elif reply.meaning in (Meaning.SOLVED, Meaning.NOT_SOLVED) and await other_problems.pending_offer(session, ticket):
            if reply.meaning is Meaning.SOLVED:
                await self._accept_offer(session, row, ticket, mail)
                return True
            await other_problems.decline_offer(session, ticket)
            body = f"D'accord : nous n'ouvrons pas d'autre demande. La demande {ticket.reference} suit son cours."
        elif reply.meaning is Meaning.CANCEL:
            if await tickets.cancel(session, self._ctx, ticket, **who) is not tickets.Done.DONE:
                body = f"La demande {ticket.reference} n'est plus en cours : elle ne peut pas être annulée."
            else:
                body = f"C'est fait : la demande {ticket.reference} est annulée. Le service concerné en est informé."
        elif reply.meaning is Meaning.RATING and reply.score is not None:
            done = await tickets.rate(session, ticket, score=reply.score, **who)
            if done in (tickets.Done.NOT_CLOSED, tickets.Done.INVALID):
                return False
            body = ("Merci pour votre avis ! Il aide les équipes à s'améliorer." if done is tickets.Done.DONE
                    else "Vous avez déjà donné votre avis sur cette demande : merci !")
        else:
            return False
        await self._reply(session, row, mail, reference=ticket.reference, ticket_id=ticket.id,
                          body="\n\n".join([_greeting(mail), body, SIGNATURE]))
        return True

    async def _new_mail(self, session: AsyncSession, row: InboundMessage, territory_id: int,
                        mail: IncomingMail) -> None:
        sender = mail.sender or ""
        requester = await repo.requester_by_identity(session, CHANNEL, self._address(sender))
        if requester is None and not _ACADEMIC.search(sender.rpartition("@")[2]):
            self._done(row, InboundStatus.HELD, None, note="unknown sender")
            await self._reply(session, row, mail, body=_unknown_sender_text(mail))
            return
        if requester is None:
            requester = Requester(territory_id=territory_id, name=mail.sender_name)
            requester.identities = [RequesterIdentity(channel=CHANNEL, external_id=self._address(sender))]
            session.add(requester)
            await session.flush()
        text = _triage_text(mail)
        note = parse_device_note(mail.triage_text or mail.text) or parse_device_note(text)
        if note is not None and requester.school_id is not None:
            # « note SEM-000123 : … »: a line in the device's logbook, no ticket (as on the chat doors).
            result = await teacher_note(session, territory_id=territory_id, requester=requester, note=note,
                                        channel=CHANNEL, now=self._now())
            self._done(row, InboundStatus.PROCESSED, None, note=f"device note {result.outcome.value}")
            await self._reply(session, row, mail, body="\n\n".join([_greeting(mail), result.message, SIGNATURE]))
            return
        parsed = await self._nlu.aparse(text)
        school_id = requester.school_id or await _school_in(session, text, parsed)
        if requester.school_id is None and school_id is not None:
            requester.school_id = school_id
        if parsed.intent is Intent.HOWTO and await self._answer_howto(session, row, mail, parsed):
            return
        status = await _status_of(session, school_id)
        # « la souris est HS, et où en est la demande 2024-0318 ? »: the mouse's ticket, the question in it.
        beside = await find_problems_beside_question(self._nlu, self._ctx.territory, text, school_status=status) \
            if parsed.intent is Intent.TICKET_STATUS else []
        if parsed.intent not in TICKET_INTENTS and not beside:
            self._done(row, InboundStatus.HELD, None, note=f"intent {parsed.intent}")
            await self._reply(session, row, mail, body=_held_text(mail))
            return
        problems = beside or await find_problems(self._nlu, self._ctx.territory, text, school_status=status)
        intent, equipment = parsed.intent, _equipment(parsed)
        if problems and not parsed.first("asset_tag"):
            first_intent, device = reading_of(problems, intent.value, equipment.value if equipment else None)
            intent, equipment = Intent(first_intent), Equipment(device) if device else None
        pending = [p.to_pending(parsed.first("room"))
                   for p in not_covered(problems, intent.value, equipment.value if equipment else None)]
        try:
            outcome = await open_report(session, self._ctx, ReportDraft(
                text=text, intent=intent, channel=Channel.EMAIL, requester_id=requester.id,
                school_id=school_id, equipment=equipment, asset_tag=parsed.first("asset_tag"),
                room=parsed.first("room"), confidence=parsed.confidence, subject=mail.subject,
                routing_text=without(text, pending) if pending else None,
            ))
        except NotATicket:
            self._done(row, InboundStatus.HELD, None, note=f"no ticket for {parsed.intent}")
            await self._reply(session, row, mail, body=_held_text(mail))
            return
        ticket = await session.get(Ticket, outcome.tickets[0].ticket_id)
        assert ticket is not None
        event = await self._first_message(session, ticket, mail)
        await self._keep_attachments(session, ticket, event, mail)
        self._done(row, InboundStatus.PROCESSED, ticket.id)
        # A mail has no button: the other problems are offered, and « oui » in her reply opens the next one.
        offer = None
        if pending:
            await other_problems.keep_offer(session, ticket, pending, channel=CHANNEL)
            offer = await _offer_text(session, self._ctx, pending[0], school_id)
        if beside:
            asked = ("Vous nous demandez aussi où en est une autre demande : votre question est jointe à "
                     "ce nouveau signalement, l'agent qui le traite la lira.")
            offer = f"{asked}\n\n{offer}" if offer else asked
        await self._reply(session, row, mail, reference=ticket.reference, ticket_id=ticket.id,
                          body=await self._ack(session, mail, outcome, intent, parsed.first("asset_tag"),
                                               requester, territory_id, ask_school=school_id is None,
                                               offer=offer))

    async def _accept_offer(self, session: AsyncSession, row: InboundMessage, ticket: Ticket,
                            mail: IncomingMail) -> None:
        """« oui » to the offer of a separate ticket: open it, and answer on its own thread."""
        try:
            accepted = await other_problems.accept_offer(session, self._ctx, ticket, channel=Channel.EMAIL)
        except NotATicket:
            await other_problems.decline_offer(session, ticket)
            await self._reply(session, row, mail, reference=ticket.reference, ticket_id=ticket.id, body="\n\n".join([
                _greeting(mail), "Ce problème ne donne pas lieu à une demande d'intervention : décrivez-nous une "
                "panne précise dans un nouveau message si besoin.", SIGNATURE]))
            return
        assert accepted is not None
        problem, outcome = accepted
        opened = outcome.tickets[0]
        new = await session.get(Ticket, opened.ticket_id)
        requester = await session.get(Requester, ticket.requester_id) if ticket.requester_id else None
        assert new is not None
        parts = [_greeting(mail), f"C'est noté : nous avons ouvert une demande séparée pour « {problem['text']} ».",
                 await self._ack_body(session, outcome, Intent(problem["intent"]), None, requester, ticket.territory_id)]
        rest = await other_problems.pending_offer(session, new)
        if rest:
            parts.append(await _offer_text(session, self._ctx, rest[0], new.school_id))
        parts += [f"Pour compléter cette demande, répondez à ce message en gardant la référence "
                  f"{opened.reference} dans l'objet.", SIGNATURE]
        await self._reply(session, row, mail, reference=opened.reference, ticket_id=opened.ticket_id,
                          body="\n\n".join(parts))

    async def _ack_body(self, session: AsyncSession, outcome: ReportOutcome, intent: Intent, asset_tag: str | None,
                        requester: Requester | None, territory_id: int) -> str:
        """Who handles the ticket and by when, and the art. 6 checklist for a theft or damage."""
        if outcome.tickets[0].sla != SlaPolicy.DECLARATION:
            return outcome.message
        steps = await theft_checklist(session, self._ctx, outcome, intent=intent, territory_id=territory_id,
                                      asset_tag=asset_tag, today=self._ctx.now().date(),
                                      requester_role=requester.role if requester else None)
        guide = f"\n\n{GUIDE_TITLE} : {self._public_url}/kb/{GUIDE_SLUG}" if self._public_url else ""
        return outcome.message + "\n\n" + steps.text + guide

    async def _ack(self, session: AsyncSession, mail: IncomingMail, outcome: ReportOutcome, intent: Intent,
                   asset_tag: str | None, requester: Requester, territory_id: int, *, ask_school: bool,
                   offer: str | None = None) -> str:
        parts = [_greeting(mail), f"Nous avons bien reçu votre message « {_strip_tag(mail.subject)} ».",
                 await self._ack_body(session, outcome, intent, asset_tag, requester, territory_id)]
        if offer:
            parts.append(offer)
        if ask_school:
            parts.append(SCHOOL_QUESTION + " Il vous suffit de répondre à ce message.")
        for skipped in mail.skipped:
            parts.append(
                f"La pièce jointe « {skipped.filename} » ({_size_fr(skipped.size)}) dépasse la taille "
                "maximale de 10 Mo : elle n'a pas été conservée. Vous pouvez la compresser ou "
                "l'envoyer en plusieurs fichiers plus petits."
            )
        parts.append(f"Pour compléter votre demande, répondez simplement à ce message en gardant "
                     f"la référence {outcome.reference} dans l'objet.")
        parts.append(SIGNATURE)
        return "\n\n".join(parts)

    async def _first_message(self, session: AsyncSession, ticket: Ticket, mail: IncomingMail) -> TicketEvent:
        """The ticket's first message keeps the whole mail (quotes, signature) and its participants."""
        if "events" in inspect(ticket).unloaded:
            await session.refresh(ticket, ["events"])
        for event in ticket.events:
            if event.kind == "message":
                event.body = _full_text(mail)
                event.data = _event_data(mail)
                return event
        return await repo.add_event(session, ticket, "message", body=_full_text(mail),
                                    actor_kind="requester", actor_id=ticket.requester_id,
                                    channel=CHANNEL, data=_event_data(mail))

    async def _keep_attachments(self, session: AsyncSession, ticket: Ticket, event: TicketEvent,
                                mail: IncomingMail) -> None:
        for part in mail.attachments:
            session.add(Attachment(ticket_id=ticket.id, event_id=event.id, filename=part.filename[:255],
                                   content_type=part.content_type[:127] or "application/octet-stream",
                                   size=part.size, content=part.content))
        if mail.skipped:
            await repo.add_event(
                session, ticket, "note", internal=True, channel=CHANNEL,
                body="Pièce(s) jointe(s) non conservée(s), au-delà de 10 Mo : "
                + ", ".join(f"{s.filename} ({_size_fr(s.size)})" for s in mail.skipped) + ".",
                data={"skipped": [{"filename": s.filename, "size": s.size} for s in mail.skipped]},
            )

    async def _answer_howto(self, session: AsyncSession, row: InboundMessage, mail: IncomingMail,
                            parsed: ParseResult) -> bool:
        """A how-to question gets the best tutorial and no ticket; False when none fits."""
        if self._tutorials is None:
            return False
        hits = self._tutorials.best_for(parsed.text, intent=str(parsed.intent), equipment=parsed.equipment)
        if not hits:
            return False
        self._done(row, InboundStatus.PROCESSED, None, note="tutorial")
        row.payload = {**row.payload, "tutorials": [h.article.slug for h in hits]}
        await self._reply(session, row, mail, body=_howto_text(mail, hits, self._public_url))
        return True

    async def _reply(self, session: AsyncSession, row: InboundMessage, mail: IncomingMail, *,
                     body: str, reference: str | None = None, ticket_id: int | None = None) -> None:
        """Queue one automatic answer, unless the mail is automatic itself or the sender had enough."""
        if mail.automated or mail.sender is None:
            return
        since = utcnow() - timedelta(hours=1)
        recent = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.channel == CHANNEL, OutboxMessage.recipient == self._address(mail.sender),
                OutboxMessage.dedupe_key.like("mail-reply:%"), OutboxMessage.created_at >= since)
        ) or 0
        if recent >= self.replies_per_hour:
            log.warning("mail %s: no automatic answer, %s already sent to its sender this hour",
                        row.id, recent)
            row.payload = {**row.payload, "reply_suppressed": "rate limit"}
            return
        from_ticket_subject = reference is not None
        subject = f"[Guichet {reference}] {_strip_tag(mail.subject)}" if from_ticket_subject else (
            mail.subject if mail.subject.lower().startswith("re:") else f"Re: {mail.subject}")
        references = [i for i in mail.references if i != mail.message_id]
        if mail.message_id.startswith("<"):
            references.append(mail.message_id)
        # One answer per stored mail: the dedupe key is unique, and a retry rolls back first.
        session.add(OutboxMessage(
            channel=CHANNEL, recipient=self._address(mail.sender), subject=subject[:300], body=body,
            ticket_id=ticket_id, dedupe_key=f"mail-reply:{row.id}",
            payload={
                "kind": "mail-reply",
                "reference": reference,
                "message_id": self._message_id_for(reference),
                "in_reply_to": mail.message_id if mail.message_id.startswith("<") else None,
                "references": references[-20:],
                "auto_submitted": "auto-replied",
                "x_loop": self.our_address,
            },
        ))


# --- agents' and administrators' views ----------------------------------------------------------


async def quarantined(session: AsyncSession, *, limit: int = 100, offset: int = 0) -> Sequence[InboundMessage]:
    """Mails given up on (with their error), most recent first."""
    return await inbox.by_status(session, Channel.EMAIL, InboundStatus.QUARANTINED, limit=limit, offset=offset)


async def held(session: AsyncSession, *, limit: int = 100, offset: int = 0) -> Sequence[InboundMessage]:
    """Mails waiting for an agent (unknown senders, small talk, questions without a ticket)."""
    return await inbox.by_status(session, Channel.EMAIL, InboundStatus.HELD, limit=limit, offset=offset)


async def replay(session: AsyncSession, inbound_id: int) -> InboundMessage:
    """Put a quarantined mail back in line with a fresh set of attempts (its last error is kept)."""
    return await inbox.replay(session, Channel.EMAIL, inbound_id)


# --- small pure helpers -------------------------------------------------------------------------


async def _is_requester(session: AsyncSession, ticket: Ticket, address: str) -> bool:
    if ticket.requester_id is None or not address:
        return False
    requester = await repo.requester_by_identity(session, CHANNEL, address)
    return requester is not None and requester.id == ticket.requester_id


async def _is_participant(session: AsyncSession, ticket: Ticket, address: str, identity: str) -> bool:
    """The requester (by their `identity` on the territory's door), or someone in From/To/Cc of an
    earlier mail of this ticket."""
    if await _is_requester(session, ticket, identity):
        return True
    events = (await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.channel == CHANNEL)
    )).all()
    return any(address in ((e.data or {}).get("participants") or []) for e in events)


async def _school_in(session: AsyncSession, text: str, parsed: ParseResult) -> int | None:
    """A school named by its UAI code in the mail (the NLU's entity first, then any valid code)."""
    candidates = [parsed.first("school") or ""] + [m.group(1) for m in _UAI.finditer(text)]
    for candidate in candidates:
        code = normalise_uai(candidate)
        if is_valid_uai(code):
            school = await repo.school_by_uai(session, code)
            if school is not None:
                return school.id
    return None


async def _status_of(session: AsyncSession, school_id: int | None) -> SchoolStatus:
    school = await session.get(School, school_id) if school_id is not None else None
    return SchoolStatus(school.status) if school is not None else SchoolStatus.PUBLIC


async def _offer_text(session: AsyncSession, ctx: DeskContext, pending: dict[str, Any], school_id: int | None) -> str:
    sentence = await other_problems.offer_sentence(session, ctx, pending, school_id)
    return (f"{sentence} Pour que nous ouvrions une demande séparée pour ce problème, répondez simplement "
            "« oui » à ce message (ou « non » si ce n'est pas nécessaire).")


def _equipment(parsed: ParseResult) -> Equipment | None:
    value = parsed.equipment
    try:
        return Equipment(value) if value else None
    except ValueError:
        return None


def _triage_text(mail: IncomingMail) -> str:
    subject = "" if mail.subject == "(sans objet)" else re.sub(
        r"^((re|tr|fw|fwd)\s?:\s?)+", "", _strip_tag(mail.subject), flags=re.I)
    body = mail.triage_text or mail.text
    return (subject + "\n" + body).strip()[:20_000] or mail.subject


def _full_text(mail: IncomingMail) -> str:
    return (mail.text or "(message sans texte)")[:200_000]


def _event_data(mail: IncomingMail) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_id": mail.message_id, "from": mail.sender, "subject": mail.subject,
        "participants": mail.participants, "in_reply_to": mail.in_reply_to,
    }
    if mail.html:
        data["html"] = mail.html[:500_000]
    if mail.automated:
        data["automated"] = mail.automated
    if mail.defects:
        data["defects"] = list(mail.defects)
    return data


def _strip_tag(subject: str) -> str:
    return re.sub(rf"\[Guichet {REFERENCE_PATTERN}\]\s*", "", subject, flags=re.I).strip() or "(sans objet)"


def _size_fr(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def _greeting(mail: IncomingMail) -> str:
    return f"Bonjour {mail.sender_name}," if mail.sender_name else "Bonjour,"


def _howto_text(mail: IncomingMail, hits: Sequence[Any], public_url: str) -> str:
    lines = [_greeting(mail), "Voici un tutoriel qui devrait vous aider :"]
    for hit in hits:
        link = f"\n{public_url}/kb/{hit.article.slug}" if public_url else ""
        lines.append(f"« {hit.article.title} » — {hit.article.summary}{link}")
    lines.append("Si cela ne résout pas votre problème, répondez à ce message en décrivant "
                 "ce que vous avez essayé : nous ouvrirons une demande.")
    lines.append(SIGNATURE)
    return "\n\n".join(lines)


def _held_text(mail: IncomingMail) -> str:
    return "\n\n".join([
        _greeting(mail),
        "Merci pour votre message. Il a été transmis à un agent du guichet, qui vous répondra "
        "dès que possible.",
        "Pour signaler une panne, décrivez le matériel concerné, ce qui ne fonctionne pas et "
        "le nom de votre école : nous ouvrirons une demande aussitôt.",
        SIGNATURE,
    ])


def _unknown_sender_text(mail: IncomingMail) -> str:
    return "\n\n".join([
        _greeting(mail),
        "Merci pour votre message. Votre adresse n'est pas encore connue du guichet : un agent "
        "va examiner votre demande et reviendra vers vous.",
        "Si vous êtes enseignant·e ou directeur·rice d'école, le plus simple est de nous écrire "
        "depuis votre adresse académique (…@ac-….fr) en indiquant le nom ou le code UAI de "
        "votre école.",
        SIGNATURE,
    ])
