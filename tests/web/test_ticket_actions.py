"""The ticket page and each agent action through the real forms."""

from __future__ import annotations

from tests.typo import plain

from sqlalchemy import select

from desk.models import OutboxMessage, Ticket, TicketEvent
from handlers.agent_actions import AgentActions
from handlers.agent_scope import load_actor


async def _ticket(db, reference: str) -> Ticket:
    async with db.sessions() as s:
        return await s.scalar(select(Ticket).where(Ticket.reference == reference))


async def _events(db, reference: str) -> list[TicketEvent]:
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == reference))
        return list(await s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


def _timeline_item(html: str, body: str) -> str:
    html = plain(html)
    """The timeline entry (its <li>) whose text contains `body`."""
    timeline = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return next(item for item in timeline.split("<li ")[1:] if body in item)


async def test_ticket_page_shows_timeline_asset_and_logbook(signed_in, world) -> None:
    """The file shows the teacher's message with its attachment, the asset and its logbook."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    assert "Le vidéoprojecteur de la classe de CM2 ne s&#39;allume plus." in html
    assert f'/agents/attachments/{world.attachments["a"]}' in html
    assert "SEM-000001" in html and "Carnet de bord" in html
    assert "En retard" in html


async def test_claim_then_reply_reaches_the_teacher_on_telegram(signed_in, db, world) -> None:
    """Claiming assigns to me; replying logs the reply and queues it on the teacher's channel."""
    client = await signed_in("agent.a@guichet.test")
    ref = world.refs["a"]
    response = await client.post(f"/agents/tickets/{ref}/claim", allow_redirects=False)
    assert response.status == 303
    ticket = await _ticket(db, ref)
    assert ticket.status == "assigned" and ticket.assignee_id == world.agents["a"]
    page = await client.post(f"/agents/tickets/{ref}/reply", {"body": "Un technicien passe demain matin."})
    assert "Message envoyé au demandeur." in await page.text()
    async with db.sessions() as s:
        out = (await s.scalars(select(OutboxMessage))).all()
    assert [(o.channel, o.recipient) for o in out] == [("telegram", "tg-1001")]
    assert out[0].body.startswith("Un technicien passe demain matin.")
    assert (await _ticket(db, ref)).status == "in_progress"
    kinds = [e.kind for e in await _events(db, ref)]
    assert kinds.count("reply") == 1 and "assigned" in kinds


async def test_reply_by_email_requester(signed_in, db, world) -> None:
    """An e-mail requester is answered by e-mail."""
    client = await signed_in("agent.b@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['b']}/reply", {"body": "Bonjour"})
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
    assert (out.channel, out.recipient, out.subject) == ("email", "directeur@ecole-b.test",
                                                         f"Votre demande {world.refs['b']}")


async def test_note_is_internal_and_sends_nothing(signed_in, db, world) -> None:
    """A note is an internal event, shown as « Note interne », with no message queued."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.post(f"/agents/tickets/{world.refs['a']}/note", {"body": "Voir avec la mairie"})).text())
    assert "Note interne" in html and "event-internal" in html
    events = await _events(db, world.refs["a"])
    assert events[-1].kind == "note" and events[-1].internal
    async with db.sessions() as s:
        assert (await s.scalars(select(OutboxMessage))).all() == []


async def test_ask_puts_the_ticket_waiting(signed_in, db, world) -> None:
    """Asking for information replies to the teacher and sets « En attente du demandeur »."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.post(f"/agents/tickets/{world.refs['a']}/ask", {"body": "Quel est le modèle ?"})).text())
    assert "En attente du demandeur" in html
    assert (await _ticket(db, world.refs["a"])).status == "waiting"


async def test_a_question_reads_as_a_question_in_the_timeline(signed_in, db, world) -> None:
    """« Demander une information » is logged as a question, headed « Question au demandeur », not as a reply."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.post(f"/agents/tickets/{world.refs['a']}/ask", {"body": "Quel est le modèle ?"})).text())
    event = _timeline_item(html, "Quel est le modèle ?")
    assert "<strong>Question au demandeur</strong>" in event and "Réponse au demandeur" not in event
    assert "Telegram" in event  # the channel it went out on, as for a reply
    kinds = [e.kind for e in await _events(db, world.refs["a"])]
    assert "question" in kinds and "reply" not in kinds
    await client.post(f"/agents/tickets/{world.refs['a']}/reply", {"body": "Merci, je commande la lampe."})
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    assert "<strong>Réponse au demandeur</strong>" in _timeline_item(html, "Merci, je commande la lampe.")


async def test_claim_button_only_until_the_ticket_is_mine(signed_in, world) -> None:
    """« Prendre en charge » goes once I hold the ticket, and stays for a colleague who does not."""
    client = await signed_in("agent.a@guichet.test")
    page = f"/agents/tickets/{world.refs['a']}"
    assert f'action="{page}/claim"' in await (await client.get(page)).text()
    html = plain(await (await client.post(f"{page}/claim")).text())
    assert "Vous avez pris en charge la demande." in html
    assert f'action="{page}/claim"' not in html and "Prendre en charge</button>" not in html
    colleague = await signed_in("agent.a2@guichet.test")
    assert "Prendre en charge</button>" in await (await colleague.get(page)).text()


async def test_linked_ticket_is_shown_to_agents(signed_in, db, world) -> None:
    """A linked ticket is named in the facts: a link in my scope, only its organisation outside it."""
    async with db.sessions.begin() as s:
        tickets = {t.reference: t for t in await s.scalars(select(Ticket))}
        tickets[world.refs["a"]].linked_ticket_id = tickets[world.refs["a2"]].id
        tickets[world.refs["a2"]].linked_ticket_id = tickets[world.refs["b"]].id
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    linked = html.split("<dt>Demande liée</dt>", 1)[1].split("</div>", 1)[0]
    assert f'<a href="/agents/tickets/{world.refs["a2"]}">{world.refs["a2"]}</a> Prise réseau arrachée' in linked
    assert "Commune de Firminy" in linked and "Nouvelle" in linked
    other = plain(await (await client.get(f"/agents/tickets/{world.refs['a2']}")).text())
    linked = other.split("<dt>Demande liée</dt>", 1)[1].split("</div>", 1)[0]
    assert "Demande d'une autre organisation · Commune de Saint-Étienne" in linked
    assert world.refs["b"] not in linked
    unlinked = await (await client.get(f"/agents/tickets/{world.refs['a3']}")).text()
    assert "Demande liée" not in unlinked


async def test_reroute_needs_a_reason_and_moves_the_ticket(signed_in, db, world) -> None:
    """Without a reason nothing moves; with one, the ticket goes back to new in the other queue."""
    a = await signed_in("agent.a@guichet.test")
    b = await signed_in("agent.b@guichet.test")
    ref = world.refs["a"]
    await a.post(f"/agents/tickets/{ref}/reply", {"body": "Je regarde"})
    refused = await a.post(f"/agents/tickets/{ref}/reroute", {"organisation": "sem", "reason": "  "})
    assert "Indiquez le motif du réacheminement." in await refused.text()
    assert (await _ticket(db, ref)).organisation_id != world.agents["sem"]
    moved = await b.post(f"/agents/tickets/{world.refs['b']}/reroute",
                         {"organisation": "commune-firminy", "reason": "L'école est à Firminy"})
    assert "Demande réacheminée vers Commune de Firminy." in await moved.text()
    ticket = await _ticket(db, world.refs["b"])
    assert ticket.status == "new" and ticket.assignee_id is None
    assert world.refs["b"] in await (await a.get("/agents")).text()
    assert (await b.get(f"/agents/tickets/{world.refs['b']}")).status == 404
    reroute = [e for e in await _events(db, world.refs["b"]) if e.kind == "reroute"][0]
    assert reroute.body == "L'école est à Firminy"
    assert reroute.data["from"] == "commune-saint-etienne" and reroute.data["to"] == "commune-firminy"
    # from in_progress, the lifecycle is walked back to new through legal steps
    await a.post(f"/agents/tickets/{ref}/reroute", {"organisation": "sem", "reason": "Matériel SEM"})
    assert (await _ticket(db, ref)).status == "new"


async def test_resolve_tells_the_teacher(signed_in, db, world) -> None:
    """Resolving sets resolved_at and queues the message to the teacher."""
    client = await signed_in("agent.a@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['a']}/resolve", {"body": "Lampe changée."})
    ticket = await _ticket(db, world.refs["a"])
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    async with db.sessions() as s:
        out = await s.scalar(select(OutboxMessage))
    assert out.body.startswith("Lampe changée.")


async def test_merge_duplicates(signed_in, db, world) -> None:
    """Merging cancels the duplicate, points it at the main ticket and logs both."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.post(f"/agents/tickets/{world.refs['a2']}/merge", {"into": world.refs["a"]})).text())
    assert f"Demande fusionnée dans {world.refs['a']}." in html
    dup, main = await _ticket(db, world.refs["a2"]), await _ticket(db, world.refs["a"])
    assert dup.merged_into_id == main.id and dup.status == "cancelled"
    assert any(e.kind == "merged" for e in await _events(db, world.refs["a"]))
    refused = await client.post(f"/agents/tickets/{world.refs['a3']}/merge", {"into": world.refs["b"]})
    assert "Aucune demande de votre file ne porte cette référence." in await refused.text()


async def test_link_asset_and_assign(signed_in, db, world) -> None:
    """Linking a tag attaches the device; assigning accepts only agents of the organisation."""
    client = await signed_in("agent.a@guichet.test")
    await client.post(f"/agents/tickets/{world.refs['a3']}/link-asset", {"tag": "sem-000001"})
    ticket = await _ticket(db, world.refs["a3"])
    assert ticket.asset_id is not None and ticket.equipment == "projector"
    bad = await client.post(f"/agents/tickets/{world.refs['a3']}/assign", {"agent": str(world.agents["b"])})
    assert "Choisissez un agent actif de l&#39;organisation responsable." in await bad.text()
    await client.post(f"/agents/tickets/{world.refs['a3']}/assign", {"agent": str(world.agents["a2"])})
    assert (await _ticket(db, world.refs["a3"])).assignee_id == world.agents["a2"]


async def test_attachment_download_is_an_attachment(signed_in, world) -> None:
    """Attachments download with Content-Disposition: attachment and nosniff."""
    client = await signed_in("agent.a@guichet.test")
    response = await client.get(f"/agents/attachments/{world.attachments['a']}")
    assert response.status == 200 and await response.read() == b"\x89PNG"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''photo%20%C3%A9cran%20a.png" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_status_hook_is_called_in_the_transaction(db, world) -> None:
    """The injected on_status_change hook runs after each status change, with the ticket."""
    seen: list[tuple[str, str]] = []

    async def hook(session, ticket) -> None:
        seen.append((ticket.reference, ticket.status))

    async with db.sessions() as s:
        actor = await load_actor(s, world.agents["a"])
    actions = AgentActions(db.sessions, on_status_change=hook)
    await actions.claim(actor, world.refs["a"])
    await actions.note(actor, world.refs["a"], "sans changement de statut")
    await actions.resolve(actor, world.refs["a"], "")
    assert seen == [(world.refs["a"], "assigned"), (world.refs["a"], "resolved")]


async def test_the_requester_is_shown_with_the_role_she_gave(signed_in, world) -> None:
    """A director reads as a director (never « Enseignant·e » by default); no requester reads « — »."""
    client = await signed_in("agent.a@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a']}")).text())
    assert "Mme Martin, enseignant·e" in html
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['a3']}")).text())
    assert "<dt>Demandeur</dt><dd>— ·" in html
    client = await signed_in("agent.b@guichet.test")
    html = plain(await (await client.get(f"/agents/tickets/{world.refs['b']}")).text())
    assert "M. Durand, directeur·rice" in html and "Enseignant·e" not in html
