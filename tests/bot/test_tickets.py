"""Following tickets: status, scoping, a new problem is a new ticket, add, cancel, resolution, rating."""

from __future__ import annotations

from tests.typo import plain

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desk.lifecycle import change_status
from desk.models import Agent, OutboxMessage, Ticket, TicketEvent
from desk.outbox import Outgoing
from desk.security import hash_password
from bot.flows import status as status_flow
from bot.notifications import render
from handlers.agent_actions import AgentActions
from handlers.agent_scope import load_actor
from handlers.notices import ticket_status
from tests.bot.conftest import Chat
from tests.web.test_labels import written_kinds


async def _report_projector(chat: Chat) -> str:
    await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    if "Toujours en panne" in chat.labels:
        await chat.press("Toujours en panne")
    if "Passer" in chat.labels:
        await chat.press("Passer")
    await chat.press("Envoyer")
    return chat.text.split("votre demande ", 1)[1].split(" ", 1)[0]


async def _ticket(db, reference: str) -> Ticket:
    async with db.sessions() as session:
        return await session.scalar(select(Ticket).options(selectinload(Ticket.events))
                                    .where(Ticket.reference == reference))


async def test_status_lists_open_tickets_with_label_and_date(chat: Chat, desk_db) -> None:
    """« où en est ma demande ? » lists references, French statuses and due dates."""
    await chat.onboard()
    assert (await chat.say("où en est ma demande ?")) and "aucune demande en cours" in chat.text
    reference = await _report_projector(chat)
    await chat.say("où en est ma demande ?")
    assert reference in chat.text and "Nouvelle" in chat.text and "le mardi 24 novembre avant 12 h" in chat.text
    await chat.say(f"où en est la demande {reference} ?")
    assert "Historique" in chat.text and "Demande enregistrée" in chat.text
    assert "Ajouter un message" in chat.labels


def test_every_event_the_teacher_may_see_has_a_french_label() -> None:
    """Her history names every non-internal event kind in French (status changes and notes have their own line)."""
    shown = written_kinds() - {"status", "note"}
    assert sorted(kind for kind in shown if kind not in status_flow.EVENT_FR) == []


async def test_an_agents_question_is_quoted_as_a_question(chat: Chat, desk_db) -> None:
    """The teacher's history quotes the agent's question under « Question du support »."""
    await chat.onboard()
    reference = await _report_projector(chat)
    async with desk_db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == reference))
        agent = Agent(organisation_id=ticket.organisation_id, email="agent@sem.test", name="Agent SEM",
                      password_hash=hash_password("x"), role="agent")
        session.add(agent)
        await session.flush()
        actor = await load_actor(session, agent.id)
    await AgentActions(desk_db.sessions).ask(actor, reference, "Quelle est l'étiquette de l'appareil ?")
    await chat.say(f"où en est la demande {reference} ?")
    assert "Question du support : « Quelle est l'étiquette de l'appareil ? »" in chat.text


async def test_status_is_scoped_to_the_requester(chat: Chat, engine, desk_db) -> None:
    """Another teacher's reference is not shown."""
    await chat.onboard()
    reference = await _report_projector(chat)
    other = Chat(engine, sender="teacher-2")
    await other.onboard()
    await other.say(f"où en est ma demande {reference} ?")
    assert f"Je ne trouve pas de demande {reference} à votre nom" in other.text
    assert "Historique" not in other.text


async def test_new_problem_on_same_equipment_is_asked_not_appended(chat: Chat, desk_db) -> None:
    """With an open projector ticket, a new projector report asks « same or new? »; « new » opens a second ticket."""
    await chat.onboard()
    first = await _report_projector(chat)
    await chat.say("le vidéoprojecteur fait un bruit bizarre maintenant")
    if "Je veux être sûr" in chat.text:
        await chat.press("Panne matérielle")
    assert f"S'agit-il de votre demande {first}" in chat.text and "ou d'un nouveau problème ?" in chat.text
    await chat.press("Un nouveau problème")
    while "Envoyer" not in chat.labels:
        await chat.press("Toujours en panne" if "Toujours en panne" in chat.labels else "Passer")
    await chat.press("Envoyer")
    assert "2026-00002" in chat.text
    assert [e.kind for e in (await _ticket(desk_db, first)).events].count("message") == 1  # nothing appended


async def test_same_problem_is_added_to_the_open_ticket(chat: Chat, desk_db) -> None:
    """« Ma demande … » adds the message to that ticket instead of opening another."""
    await chat.onboard()
    first = await _report_projector(chat)
    await chat.say("le vidéoprojecteur ne s'allume toujours pas, le voyant clignote")
    await chat.press(f"Ma demande {first}")
    assert f"ajouté votre message à la demande {first}" in chat.text
    ticket = await _ticket(desk_db, first)
    assert [e.body for e in ticket.events if e.kind == "message"][-1].startswith("le vidéoprojecteur ne s'allume toujours")


async def test_cancel_by_text_then_confirm(chat: Chat, desk_db) -> None:
    """« annuler ma demande X » asks for confirmation, then cancels through the lifecycle."""
    await chat.onboard()
    reference = await _report_projector(chat)
    await chat.say(f"annuler ma demande {reference}")
    assert "Voulez-vous vraiment annuler" in chat.text
    await chat.press("Oui, l'annuler")
    assert "est annulée" in chat.text
    ticket = await _ticket(desk_db, reference)
    assert ticket.status == "cancelled"
    assert any(e.kind == "status" and e.to_status == "cancelled" and e.actor_kind == "requester" for e in ticket.events)


async def test_add_text_and_photo_to_a_ticket(chat: Chat, desk_db) -> None:
    """« Ajouter un message » then a photo: an attachment and a message event on that ticket."""
    await chat.onboard()
    reference = await _report_projector(chat)
    await chat.say(f"où en est ma demande {reference}")
    await chat.press("Ajouter un message")
    await chat.photo(caption="voici le voyant")
    assert f"ajouté à votre demande {reference}" in chat.text
    ticket = await _ticket(desk_db, reference)
    message = [e for e in ticket.events if e.kind == "message"][-1]
    assert "voici le voyant" in message.body and "photo.jpg" in message.body


async def test_resolution_confirmed_then_rated(chat: Chat, desk_db, clock) -> None:
    """After an agent resolves, « Oui » closes the ticket and the 1–5 rating is stored once."""
    await chat.onboard()
    reference = await _report_projector(chat)
    async with desk_db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)).where(Ticket.reference == reference))
        change_status(ticket, "resolved", actor_kind="agent", at=clock.now)
        session.add(OutboxMessage(channel="webchat", recipient=chat.sender, body="Lampe changée.", ticket_id=ticket.id))
        ticket_id = ticket.id
    notice = render(Outgoing(1, "webchat", chat.sender, None, "Lampe changée.", None, ticket_id, 1),
                    await ticket_status(desk_db.sessions, ticket_id))
    assert "Le problème est-il résolu ?" in plain(notice.text)
    assert [b.payload for b in notice.buttons] == [f"resolved:yes:{ticket_id}", f"resolved:no:{ticket_id}"]
    chat.last = [notice]
    await chat.press("Oui")
    assert "est close" in chat.text and len(chat.labels) == 5
    await chat.press("5")
    assert "Merci pour votre avis" in chat.text
    await chat.payload(f"rate:2:{ticket_id}")
    assert "déjà donné votre avis" in chat.text
    async with desk_db.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        scores = (await session.scalars(select(TicketEvent.data).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "satisfaction"))).all()
    assert ticket.status == "closed" and scores == [{"score": 5}]


async def test_resolution_denied_reopens(chat: Chat, desk_db, clock) -> None:
    """« Non » reopens the ticket and the next message is added to it."""
    await chat.onboard()
    reference = await _report_projector(chat)
    async with desk_db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)).where(Ticket.reference == reference))
        change_status(ticket, "resolved", actor_kind="agent", at=clock.now)
        ticket_id = ticket.id
    await chat.payload(f"resolved:no:{ticket_id}")
    assert f"Je rouvre la demande {reference}" in chat.text
    await chat.say("l'image est toujours floue")
    ticket = await _ticket(desk_db, reference)
    assert ticket.status == "reopened"
    assert ticket.events[-1].kind == "message" and ticket.events[-1].body == "l'image est toujours floue"


async def test_buttons_on_someone_elses_ticket_are_refused(chat: Chat, engine, desk_db) -> None:
    """A forged button on another requester's ticket is stale, and changes nothing."""
    await chat.onboard()
    reference = await _report_projector(chat)
    ticket_id = (await _ticket(desk_db, reference)).id
    other = Chat(engine, sender="intruder")
    await other.onboard()
    await other.payload(f"cancel:ask:{ticket_id}")
    assert "plus valable" in other.text
    assert (await _ticket(desk_db, reference)).status == "new"


async def test_a_lately_closed_ticket_reopens_when_the_teacher_writes(chat: Chat, desk_db, clock) -> None:
    """Closed yesterday: the status view offers « Ajouter un message », and her message reopens the ticket."""
    from datetime import timedelta

    await chat.onboard()
    reference = await _report_projector(chat)
    async with desk_db.sessions.begin() as session:
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)).where(Ticket.reference == reference))
        change_status(ticket, "resolved", actor_kind="agent", at=clock.now - timedelta(days=2))
        change_status(ticket, "closed", at=clock.now - timedelta(days=1))
    await chat.say(f"où en est ma demande {reference}")
    await chat.press("Ajouter un message")
    await chat.say("la lampe a encore grillé")
    assert f"ajouté à votre demande {reference}, que je rouvre" in plain(chat.text)
    ticket = await _ticket(desk_db, reference)
    assert ticket.status == "reopened" and ticket.closed_at is None
    assert [e for e in ticket.events if e.kind == "message"][-1].body == "la lampe a encore grillé"
