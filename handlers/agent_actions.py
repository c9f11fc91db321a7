"""What an agent does to a ticket: one function per action, each owning its transaction.

Every action loads the ticket through the agent's scope (a ticket outside it is
RecordNotFound), changes statuses only through desk.lifecycle.change_status, and calls the
`on_status_change(session, ticket)` hook (by default `handlers.ticket_status`) after each status change so the SLA
clocks can be recomputed in the same transaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from desk import repositories as repo
from desk.clock import utcnow
from desk.errors import DeskError, RecordNotFound
from desk.lifecycle import ALLOWED, OPEN_STATUSES, change_status
from desk.models import Agent, ClaimLine, Organisation, Requester, Territory, Ticket
from domain.labels import CLAIM_STEP_FR
from domain.vocabulary import NOTIFIABLE_CHANNELS, Channel, Intent
from domain.vocabulary import TicketStatus as S
from handlers.agent_queue import scoped_ticket
from handlers.agent_scope import Actor
from handlers import assets
from handlers.claims import ClaimRefused, complete_line, file_ticket, install_line, record_step, territory_rules
from handlers.ticket_status import StatusHook, status_hook
from routing.claims import ClaimRules

MAX_TEXT = 20_000
#: Channels that show a message's links as buttons, so the text carries no raw URL.
LINK_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WEBCHAT})


#: A piece of work on a claim file: (session, the file's ticket, the territory's rules, today, now) -> message.
ClaimWork = Callable[[AsyncSession, Ticket, ClaimRules, date, datetime], Awaitable[str]]


class ActionRefused(DeskError):
    """The action cannot be done as asked; `message` is French, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Tutorial:
    """A knowledge-base article joined to a message: the teacher gets its title and public link."""

    slug: str
    title: str
    url: str

    @property
    def line(self) -> str:
        return f"Tutoriel : {self.title} — {self.url}"


@dataclass(frozen=True, slots=True)
class ActionResult:
    reference: str
    status: str
    message: str  # French confirmation for the agent
    outbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentActions:
    """The agent use cases, bound to a session factory and the SLA hook."""

    sessions: async_sessionmaker[AsyncSession]
    #: Runs after each status change in the same transaction: clocks and a theft's replacement.
    on_status_change: StatusHook = field(default_factory=status_hook)

    async def claim(self, actor: Actor, reference: str) -> ActionResult:
        """Take the ticket for oneself."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            _require_open(ticket)
            await _assign(session, ticket, actor, actor.id, actor.name)
            await self._move(session, ticket, S.ASSIGNED, actor, only_from={S.NEW, S.REOPENED})
            return _result(ticket, "Vous avez pris en charge la demande.")

    async def assign(self, actor: Actor, reference: str, agent_id: int) -> ActionResult:
        """Give the ticket to an active agent of the ticket's organisation."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            _require_open(ticket)
            agent = await session.scalar(select(Agent).where(
                Agent.id == agent_id, Agent.organisation_id == ticket.organisation_id,
                Agent.active.is_(True)))
            if agent is None:
                raise ActionRefused("Choisissez un agent actif de l'organisation responsable.")
            await _assign(session, ticket, actor, agent.id, agent.name)
            await self._move(session, ticket, S.ASSIGNED, actor, only_from={S.NEW, S.REOPENED})
            return _result(ticket, f"Demande attribuée à {agent.name}.")

    async def reply(self, actor: Actor, reference: str, body: str,
                    tutorial: Tutorial | None = None) -> ActionResult:
        """Answer the teacher on the channel they used, optionally with a tutorial's link."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            outbox_id = await _reply(session, ticket, actor, _text(body, "La réponse"), tutorial)
            await self._move(session, ticket, S.IN_PROGRESS, actor,
                             only_from={S.NEW, S.ASSIGNED, S.REOPENED})
            return _result(ticket, _sent(outbox_id), outbox_id)

    async def note(self, actor: Actor, reference: str, body: str) -> ActionResult:
        """Add an internal note, never shown to the teacher."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            await repo.add_event(session, ticket, "note", body=_text(body, "La note"),
                                 actor_kind="agent", actor_id=actor.id, internal=True)
            return _result(ticket, "Note interne ajoutée.")

    async def claim_step(self, actor: Actor, reference: str, step: str, done_on: str, note: str,
                         form: dict[str, object]) -> ActionResult:
        """Date and sign a step of the claim file (on the declaration, or from the replacement it follows)."""

        async def record(session: AsyncSession, target: Ticket, rules: ClaimRules, today: date, now: datetime) -> str:
            await record_step(session, target, agent_id=actor.id, step=step, done_on=done_on, note=note,
                              form=dict(form), today=today, at=now)
            return f"Étape du dossier enregistrée : {CLAIM_STEP_FR.get(step, step)}."

        return await self._on_claim_file(actor, reference, record)

    async def claim_line(self, actor: Actor, reference: str, line_id: int, tag: str, value: str,
                         acquired_on: str) -> ActionResult:
        """Complete a device of the claim file: its tag, or its value and acquisition date."""

        async def complete(session: AsyncSession, target: Ticket, rules: ClaimRules, today: date, now: datetime) -> str:
            line = await complete_line(session, target, agent_id=actor.id, line_id=line_id, tag=tag,
                                       value=value, acquired_on=acquired_on, rules=rules, at=now)
            if not line.replaced:
                return "Matériel de plus de six ans : il n'est pas remplacé et rien n'est dû."
            return "Ligne du dossier complétée : remboursement recalculé."

        return await self._on_claim_file(actor, reference, complete)

    async def claim_install(self, actor: Actor, reference: str, line_id: int, tag: str, value: str,
                            installed_on: str) -> ActionResult:
        """Record the device installed in place of one of the claim file's."""

        async def install(session: AsyncSession, target: Ticket, rules: ClaimRules, today: date, now: datetime) -> str:
            await install_line(session, target, agent_id=actor.id, line_id=line_id, tag=tag, value=value,
                               installed_on=installed_on, today=today, at=now)
            return "Matériel installé enregistré : il figure sur l'état des équipements installés."

        return await self._on_claim_file(actor, reference, install)

    async def claim_mark_stolen(self, actor: Actor, reference: str, line_id: int) -> ActionResult:
        """Mark a line's device stolen in the inventory, the claim file's reference as the reason
        (its logbook then shows the file); an event in the file's timeline too."""

        async def mark(session: AsyncSession, target: Ticket, rules: ClaimRules, today: date, now: datetime) -> str:
            line = await session.scalar(select(ClaimLine).options(selectinload(ClaimLine.asset)).where(
                ClaimLine.id == line_id, ClaimLine.ticket_id == target.id))
            if line is None:
                raise ActionRefused("Cette ligne du dossier est introuvable.")
            if line.asset is None:
                raise ActionRefused("Indiquez d'abord l'étiquette du matériel de cette ligne.")
            if target.intent != Intent.THEFT:
                raise ActionRefused("Seul le matériel d'un dossier de vol ou de perte peut être déclaré volé.")
            tag = line.asset.tag
            try:
                await assets.mark_stolen(session, actor, tag, why=f"Dossier de sinistre {target.reference}",
                                         now=now, ticket_reference=target.reference)
            except RecordNotFound:
                raise ActionRefused(f"Le matériel {tag} n'est pas dans votre périmètre.") from None
            except assets.AssetRefused as refused:
                raise ActionRefused(f"{tag} : {refused.message}") from None
            await repo.add_event(session, target, "claim_line", actor_kind="agent", actor_id=actor.id, internal=True,
                                 at=now, body=f"Matériel {tag} déclaré volé dans l'inventaire",
                                 data={"line": line.id, "stolen": tag})
            return f"Matériel {tag} déclaré volé : son carnet de bord renvoie au dossier {target.reference}."

        return await self._on_claim_file(actor, reference, mark)

    async def _on_claim_file(self, actor: Actor, reference: str, work: ClaimWork) -> ActionResult:
        """Run `work` on the claim file `reference` carries or follows, in one transaction."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            target = await file_ticket(session, ticket)
            if target is None:
                raise ActionRefused("Cette demande n'a pas de dossier de sinistre.")
            now = utcnow()
            rules, today = await territory_rules(session, target, now)
            try:
                message = await work(session, target, rules, today, now)
            except ClaimRefused as refused:
                raise ActionRefused(refused.message) from None
            return _result(ticket, message)

    async def ask(self, actor: Actor, reference: str, body: str,
                  tutorial: Tutorial | None = None) -> ActionResult:
        """Ask the teacher for information; the ticket waits (and its clock pauses)."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            _require_open(ticket)
            outbox_id = await _reply(session, ticket, actor, _text(body, "La question"), tutorial,
                                     kind="question")
            await self._move(session, ticket, S.WAITING, actor,
                             reason="Informations demandées au demandeur")
            return _result(ticket, _sent(outbox_id) + " La demande attend sa réponse.", outbox_id)

    async def reroute(self, actor: Actor, reference: str, organisation_slug: str, reason: str) -> ActionResult:
        """Send the ticket to another organisation of the territory, with a mandatory reason."""
        reason = (reason or "").strip()
        if not reason:
            raise ActionRefused("Indiquez le motif du réacheminement.")
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            _require_open(ticket)
            target = await session.scalar(select(Organisation).where(
                Organisation.territory_id == actor.territory_id,
                Organisation.slug == (organisation_slug or "").strip()))
            if target is None:
                raise ActionRefused("Choisissez une organisation du territoire.")
            if target.id == ticket.organisation_id:
                raise ActionRefused("La demande est déjà dans la file de cette organisation.")
            source = await session.get(Organisation, ticket.organisation_id)
            assert source is not None
            ticket.organisation_id = target.id
            ticket.assignee_id = None
            await repo.add_event(
                session, ticket, "reroute", body=_text(reason, "Le motif"), actor_kind="agent",
                actor_id=actor.id, data={
                    "from_organisation_id": source.id, "from": source.slug, "from_name": source.name,
                    "to_organisation_id": target.id, "to": target.slug, "to_name": target.name,
                })
            # The story changes with the queue: why this organisation now, said once, everywhere.
            ticket.reason = f"Réacheminée par {source.name} : {reason}"
            ticket.rule_id = None
            await self._move(session, ticket, S.NEW, actor, reason=f"Réacheminée vers {target.name} : {reason}")
            await self.on_status_change(session, ticket)  # the new queue's clocks, even if already `new`
            outbox_id = await _reply(session, ticket, actor, await _new_handler_text(session, ticket, target))
            return _result(ticket, f"Demande réacheminée vers {target.name}.", outbox_id)

    async def resolve(self, actor: Actor, reference: str, body: str,
                      tutorial: Tutorial | None = None) -> ActionResult:
        """Mark the ticket resolved and tell the teacher."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            _require_open(ticket)
            text = (body or "").strip() or f"Votre demande {ticket.reference} est résolue."
            outbox_id = await _reply(session, ticket, actor, _text(text, "Le message"), tutorial)
            await self._move(session, ticket, S.RESOLVED, actor)
            return _result(ticket, "Demande résolue. " + _sent(outbox_id), outbox_id)

    async def merge(self, actor: Actor, reference: str, into_reference: str) -> ActionResult:
        """Close a duplicate into another ticket of the same scope, with an event on both."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            try:
                target = await scoped_ticket(session, actor, into_reference or "", for_update=True)
            except RecordNotFound:
                raise ActionRefused("Aucune demande de votre file ne porte cette référence.") from None
            if target.id == ticket.id:
                raise ActionRefused("Une demande ne peut pas être fusionnée avec elle-même.")
            if target.merged_into_id is not None:
                raise ActionRefused("Cette demande a elle-même été fusionnée : choisissez la demande principale.")
            if S(ticket.status) in (S.CLOSED, S.CANCELLED):
                raise ActionRefused("Cette demande est déjà close : elle ne peut plus être fusionnée.")
            ticket.merged_into_id = target.id
            await repo.add_event(session, ticket, "merged", actor_kind="agent", actor_id=actor.id,
                                 body=f"Doublon de la demande {target.reference}",
                                 data={"into": target.reference})
            await repo.add_event(session, target, "merged", actor_kind="agent", actor_id=actor.id,
                                 body=f"La demande {ticket.reference} y a été fusionnée (doublon)",
                                 data={"from": ticket.reference})
            final = S.CLOSED if S(ticket.status) is S.RESOLVED else S.CANCELLED
            await self._move(session, ticket, final, actor, reason=f"Doublon de {target.reference}")
            return _result(ticket, f"Demande fusionnée dans {target.reference}.")

    async def link_asset(self, actor: Actor, reference: str, tag: str) -> ActionResult:
        """Attach the inventory device with this tag, so the ticket joins its logbook."""
        async with self.sessions.begin() as session:
            ticket = await scoped_ticket(session, actor, reference, for_update=True)
            asset = await repo.asset_by_tag(session, actor.territory_id, tag or "")
            if asset is None:
                raise ActionRefused("Aucun matériel de l'inventaire ne porte cette étiquette.")
            ticket.asset_id = asset.id
            ticket.equipment = ticket.equipment or asset.type
            await repo.add_event(session, ticket, "asset_linked", actor_kind="agent", actor_id=actor.id,
                                 body=f"Matériel {asset.tag} associé", data={"tag": asset.tag})
            return _result(ticket, f"Matériel {asset.tag} associé à la demande.")

    async def _move(self, session: AsyncSession, ticket: Ticket, target: S, actor: Actor, *,
                    only_from: set[S] | None = None, reason: str | None = None) -> None:
        """Walk the lifecycle to `target` by its shortest legal path, then run the hook."""
        current = S(ticket.status)
        if current is target or (only_from is not None and current not in only_from):
            return
        for step in _path(current, target):
            change_status(ticket, step, actor_kind="agent", actor_id=actor.id, reason=reason)
        await session.flush()
        await self.on_status_change(session, ticket)


def _path(current: S, target: S) -> list[S]:
    """Shortest sequence of allowed transitions from `current` to `target`."""
    queue: deque[tuple[S, list[S]]] = deque([(current, [])])
    seen = {current}
    while queue:
        status, path = queue.popleft()
        for nxt in sorted(ALLOWED[status]):
            if nxt in seen:
                continue
            if nxt is target:
                return [*path, nxt]
            seen.add(nxt)
            queue.append((nxt, [*path, nxt]))
    raise ActionRefused("Ce changement de statut n'est pas possible pour cette demande.")


def _require_open(ticket: Ticket) -> None:
    if S(ticket.status) not in OPEN_STATUSES:
        raise ActionRefused("Cette demande n'est plus ouverte : cette action n'est pas possible.")


def _text(body: str | None, what: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ActionRefused(f"{what} ne peut pas être vide.")
    if len(text) > MAX_TEXT:
        raise ActionRefused(f"{what} est trop long (20 000 caractères au plus).")
    return text


def _result(ticket: Ticket, message: str, outbox_id: int | None = None) -> ActionResult:
    return ActionResult(ticket.reference, ticket.status, message, outbox_id)


def _sent(outbox_id: int | None) -> str:
    if outbox_id is None:
        return "Message enregistré, mais le demandeur n'a aucun moyen de contact connu."
    return "Message envoyé au demandeur."


async def _assign(session: AsyncSession, ticket: Ticket, actor: Actor, agent_id: int, name: str) -> None:
    ticket.assignee_id = agent_id
    await repo.add_event(session, ticket, "assigned", actor_kind="agent", actor_id=actor.id,
                         body=f"Attribuée à {name}", data={"agent_id": agent_id})


async def _reply(session: AsyncSession, ticket: Ticket, actor: Actor, text: str,
                 tutorial: Tutorial | None = None, *, kind: Literal["reply", "question"] = "reply") -> int | None:
    """Record the reply (or the question, `kind="question"`) and queue it for the requester.

    It goes out on the channel of the ticket; the timeline tells a question from a reply by `kind`.

    A tutorial rides in the payload's `links`, which the chat channels show as a link button
    (no raw URL in their text); by e-mail it ends the message as a « Tutoriel : title — url » line.
    """
    requester = None
    if ticket.requester_id is not None:
        requester = await session.scalar(
            select(Requester).options(selectinload(Requester.identities))
            .where(Requester.id == ticket.requester_id))
    reachable = [i for i in (requester.identities if requester else [])
                 if not i.unreachable and i.channel in NOTIFIABLE_CHANNELS]
    identity = next((i for i in reachable if i.channel == ticket.channel), None) or (
        reachable[0] if reachable else None)
    data: dict[str, object] = {"delivered": identity is not None}
    if tutorial is not None:
        data["article"] = tutorial.slug
    event = await repo.add_event(
        session, ticket, kind, body=f"{text}\n\n{tutorial.line}" if tutorial else text,
        actor_kind="agent", actor_id=actor.id, channel=identity.channel if identity else None, data=data)
    if identity is None:
        return None
    body = f"{text}\n\n— {actor.organisation_name}, demande {ticket.reference}"
    payload: dict[str, object] = {"reference": ticket.reference, "event_id": event.id, "kind": "reply"}
    if tutorial is not None:
        payload["links"] = [{"label": tutorial.title, "url": tutorial.url}]
        if identity.channel not in LINK_CHANNELS:
            body += f"\n\n{tutorial.line}"
    row = await repo.enqueue(
        session, channel=identity.channel, recipient=identity.external_id,
        subject=f"Votre demande {ticket.reference}", body=body, payload=payload,
        ticket_id=ticket.id, dedupe_key=f"reply:{event.id}")
    return row.id if row else None


async def _new_handler_text(session: AsyncSession, ticket: Ticket, target: Organisation) -> str:
    """What the teacher reads after a re-route: who handles her request now, and by when."""
    from desk.sla_text import format_commitment_fr
    from handlers.context import calendar_for
    from handlers.teacher_tickets import due_dates

    territory = await session.get(Territory, ticket.territory_id)
    due = (await due_dates(session, [ticket])).get(ticket.id)
    text = f"Votre demande {ticket.reference} a été transmise au service compétent : {target.name}."
    if due is not None and territory is not None:
        text += f" Engagement : d'ici {format_commitment_fr(due, calendar_for(territory.slug))}."
    return text
