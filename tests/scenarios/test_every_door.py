"""One scenario suite, every door: the same teacher stories through the web chat (websocket),
Telegram (webhook + Bot API on loopback) and e-mail (SMTP), ending in the same desk state —
ticket status and queue, the status history, the SLA clock rows (due instants set, or paused
while the ticket waits on the teacher: DOMAIN.md §5), satisfaction — whatever the door.

Regressions it holds: an answer by e-mail to a waiting ticket left its clocks without a due
instant; Telegram's resolution notice had no « Le problème est-il résolu ? » buttons; the theft
checklist was never sent by e-mail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from desk.models import Organisation, SlaClock, Ticket, TicketEvent
from tests.scenarios.conftest import World

PROJECTOR = "le vidéoprojecteur de la classe de CM2 ne s'allume plus, le voyant reste éteint"


async def state(world: World, ticket: Ticket) -> dict[str, Any]:
    """What the desk holds about a ticket, without what naturally differs by door (ids, times)."""
    async with world.db.sessions() as session:
        row = await session.get(Ticket, ticket.id)
        org = await session.get(Organisation, row.organisation_id)
        events = (await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))).all()
        clocks = (await session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id))).all()
    return {
        "status": row.status,
        "organisation": org.kind,
        "equipment": row.equipment,
        "history": [(e.from_status, e.to_status) for e in events if e.kind == "status"],
        "requester_messages": sum(1 for e in events if e.kind == "message" and e.actor_kind == "requester"),
        "clocks": sorted({(c.policy, c.threshold, c.due_at is not None) for c in clocks if not c.fired}),
        "satisfaction": [e.data["score"] for e in events if e.kind == "satisfaction"],
    }


async def _report(world: World, text: str = PROJECTOR) -> Ticket:
    await world.door.report(text)
    ticket = await world.only_ticket()
    assert ticket.reference in world.door.text
    return ticket


async def test_report_in_one_message_opens_the_ticket_with_its_clocks(world: World) -> None:
    ticket = await _report(world)
    assert await state(world, ticket) == {
        "status": "new", "organisation": "sem", "equipment": "projector", "history": [],
        "requester_messages": 1,
        "clocks": [("replacement", "breach", True), ("replacement", "target", True),
                   ("replacement", "warning", True)],
        "satisfaction": [],
    }


async def test_report_with_the_asset_tag_links_the_device(world: World) -> None:
    await world.door.report(f"l'appareil {world.asset_tag} ne s'allume plus du tout")
    ticket = await world.only_ticket()
    async with world.db.sessions() as session:
        row = await session.get(Ticket, ticket.id)
    assert row.asset_id is not None and row.equipment == "projector" and row.school_id == world.school.id


async def test_information_added_to_a_ticket(world: World) -> None:
    ticket = await _report(world)
    await world.actions().reply(await world.agent_for(ticket), ticket.reference,
                                "Nous passons jeudi matin.")
    await world.door.deliver()
    assert "jeudi matin" in world.door.text
    await world.door.add_message("La classe sera ouverte dès 8 h, la clé est chez la directrice.")
    after = await state(world, ticket)
    assert after["requester_messages"] == 2 and after["status"] == "in_progress"  # the agent's reply took it


async def test_answer_to_an_agents_question_resumes_the_clocks(world: World) -> None:
    ticket = await _report(world)
    await world.actions().ask(await world.agent_for(ticket), ticket.reference, "Quel est le numéro de l'étiquette ?")
    await world.door.deliver()
    assert "étiquette" in world.door.text
    paused = await state(world, ticket)
    assert paused["status"] == "waiting" and not any(due for *_, due in paused["clocks"])
    await world.door.answer_question(f"C'est le {world.asset_tag}, collé sous l'appareil.")
    resumed = await state(world, ticket)
    assert resumed["status"] == "in_progress"
    assert resumed["clocks"] and all(due for *_, due in resumed["clocks"])
    assert resumed["history"] == [("new", "waiting"), ("waiting", "in_progress")]


async def test_cancel(world: World) -> None:
    ticket = await _report(world)
    await world.door.cancel(ticket.reference)
    assert "annulée" in world.door.text
    after = await state(world, ticket)
    assert after["status"] == "cancelled" and after["history"] == [("new", "cancelled")] and after["clocks"] == []


async def test_resolution_confirmed_then_rated(world: World) -> None:
    ticket = await _report(world)
    await world.actions().resolve(await world.agent_for(ticket), ticket.reference, "Lampe changée.")
    await world.door.deliver()
    assert "Le problème est-il résolu ?" in world.door.text
    await world.door.answer_resolution(solved=True)
    await world.door.rate(5)
    after = await state(world, ticket)
    assert after["status"] == "closed" and after["satisfaction"] == [5]
    assert after["history"][-2:] == [("in_progress", "resolved"), ("resolved", "closed")] or \
        after["history"][-2:] == [("new", "resolved"), ("resolved", "closed")]


async def test_resolution_rejected_reopens_the_ticket(world: World) -> None:
    ticket = await _report(world)
    await world.actions().resolve(await world.agent_for(ticket), ticket.reference, "Lampe changée.")
    await world.door.deliver()
    await world.door.answer_resolution(solved=False)
    after = await state(world, ticket)
    assert after["status"] == "reopened" and after["history"][-1] == ("resolved", "reopened")
    assert after["clocks"] and all(due for *_, due in after["clocks"])


async def test_theft_declaration_then_replacement(world: World) -> None:
    await world.door.report("On nous a volé deux tablettes cette nuit dans la classe de CE1, la porte a été fracturée.")
    text = world.door.text
    assert "déclarer le sinistre à son assureur dans les 48 h" in text and "police ou de la gendarmerie" in text
    declaration, replacement = await world.tickets()
    before = await state(world, replacement)
    assert (await state(world, declaration))["organisation"] == "commune"
    assert before["status"] == "on_hold" and before["organisation"] == "sem"  # not on the teacher
    assert not any(due for *_, due in before["clocks"])  # waits for the declaration
    await world.actions().resolve(await world.agent_for(declaration), declaration.reference,
                                  "Déclaration faite à l'assureur, plainte déposée.")
    after = await state(world, replacement)
    assert after["status"] == "new" and after["clocks"] and all(due for *_, due in after["clocks"])


async def test_reroute_tells_the_teacher_who_handles_it_now(world: World) -> None:
    """Re-routed to the school's commune: the teacher is told who and by when; the ticket's story
    no longer gives the first organisation's reason; the timeline says why it is `new` again."""
    ticket = await _report(world, "la prise électrique murale de la classe de CP est arrachée, elle pend au mur")
    async with world.db.sessions() as session:
        commune = await session.scalar(select(Organisation).where(Organisation.kind == "commune").order_by(Organisation.id))
        sem = await session.scalar(select(Organisation).where(Organisation.kind == "sem"))
    actor = await world.agent_for(ticket)
    destination = commune if ticket.organisation_id != commune.id else sem
    await world.actions().reroute(actor, ticket.reference, destination.slug, "Électricité des locaux : la commune (art. 2)")
    await world.door.deliver()
    assert f"transmise au service compétent : {destination.name}" in world.door.text
    async with world.db.sessions() as session:
        row = await session.get(Ticket, ticket.id)
        events = (await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))).all()
    assert row.organisation_id == destination.id and row.assignee_id is None and row.status == "new"
    assert row.reason.startswith("Réacheminée par ") and "art. 2" in row.reason
    assert any(e.kind == "reroute" and "art. 2" in (e.body or "") for e in events)


TWO_PROBLEMS = ("Le vidéoprojecteur de la classe de CM2 ne s'allume plus, le voyant reste éteint. "
                "Par ailleurs la prise électrique murale près du tableau est arrachée.")


async def test_two_problems_in_one_message_become_two_tickets_each_routed_on_its_own(world: World) -> None:
    """The projector is the SEM's (art. 1), the wall socket the commune's premises (art. 2): one
    message, two tickets, each in its own queue with its own clocks, the second one on her « oui »."""
    await world.door.report(TWO_PROBLEMS)
    [first] = await world.tickets()
    assert "signale aussi un autre problème" in world.door.text and "la prise" in world.door.text
    await world.door.accept_other_problem()
    tickets = await world.tickets()
    assert len(tickets) == 2 and tickets[0].id == first.id
    states = [await state(world, t) for t in tickets]
    assert {(s["organisation"], s["equipment"]) for s in states} == {("commune", None), ("sem", "projector")}, states
    assert all(s["status"] == "new" and s["clocks"] and all(due for *_, due in s["clocks"]) for s in states)
    assert tickets[1].reference in world.door.text


async def test_two_problems_declined_is_one_ticket_and_says_so(world: World) -> None:
    await world.door.report(TWO_PROBLEMS)
    await world.door.decline_other_problem()
    assert "pas d'autre demande" in world.door.text
    ticket = await world.only_ticket()
    assert (await state(world, ticket))["organisation"] == "sem"


async def test_one_problem_said_in_two_sentences_is_one_ticket(world: World) -> None:
    """A detail in a second sentence (« on l'a éteint et rallumé ») offers nothing more."""
    await world.door.report("Le vidéoprojecteur de la classe de CM2 ne s'allume plus. On l'a débranché et rebranché, rien.")
    await world.only_ticket()
    assert "signale aussi" not in world.door.text


async def test_a_report_beside_a_status_question_is_not_lost(world: World) -> None:
    """« La souris … ne marche plus, et svp où en est la demande … ? » reads as a status question,
    which opens no ticket: the mouse gets its own (SEM, art. 3), the first demand is left as it was."""
    first = await _report(world)
    await world.door.report(f"La souris du poste 5 en salle info ne marche plus, et svp où en est la demande "
                            f"{first.reference} ?")
    tickets = await world.tickets()
    assert len(tickets) == 2 and tickets[0].id == first.id, world.door.text
    mouse = await state(world, tickets[1])
    assert (mouse["organisation"], mouse["equipment"], mouse["status"]) == ("sem", "keyboard_mouse", "new")
    assert mouse["clocks"] and all(due for *_, due in mouse["clocks"])
    assert tickets[1].reference in world.door.text
    assert (await state(world, first))["requester_messages"] == 1
