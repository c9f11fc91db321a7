"""Calls logged by agents (« Nouvelle demande »): the form, the triage's suggestion, the ticket like any other."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape

import pytest
from sqlalchemy import select

from desk.models import Organisation, OutboxMessage, Requester, RequesterIdentity, SlaClock, Ticket, TicketEvent
from nlu import LocalNlu
from tests.typo import plain
from tests.web.world import agents_app, make_settings
from web.agents import LiveOptions, live_key
from web.keys import nlu_key

NEW_TEACHER = {"requester": "new", "name": "M. Petit", "role": "teacher", "phone": "06 12 34 56 78",
               "email": "Petit@ac-lyon.fr"}
INK = "Plus de cartouches d'encre pour l'imprimante de la classe, il nous en faudrait trois."


@pytest.fixture(scope="session")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNlu]:
    """One trained local NLU for the run (its cache in a private directory)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GUICHET_NLU_CACHE", str(tmp_path_factory.mktemp("nlu-cache")))
    model = LocalNlu()
    model.parse("bonjour")
    yield model
    mp.undo()


@pytest.fixture
async def app(db, world, nlu):
    application = agents_app(make_settings(), db.engine, db.sessions)
    application[live_key] = LiveOptions(poll_seconds=0.05, heartbeat_seconds=0.2)
    application[nlu_key] = nlu
    return application


def read(html: str) -> str:
    """A page's text as a person reads it (entities decoded, French typography's spaces plain)."""
    return plain(unescape(html))


async def _ticket(db, reference: str) -> Ticket:
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.reference == reference))
        assert ticket is not None
        return ticket


async def _log_call(client, uai: str, fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Analyse then create, as an agent does: the suggestion page, then « Créer la demande »."""
    form = {"school": uai, "mode": "call", **fields}
    page = await client.post("/agents/calls/new", {**form, "action": "suggest"})
    assert page.status == 200, await page.text()
    html = await page.text()
    intent = fields.get("intent") or _selected(html, "intent")
    response = await client.post("/agents/calls/new", {**form, "intent": intent, "action": "create"},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    return html, {"location": response.headers["Location"]}


def _selected(html: str, name: str) -> str:
    import re

    block = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    match = re.search(r'<option value="([^"]*)" selected', block)
    assert match, block
    return match.group(1)


async def test_queue_offers_a_new_request_and_the_school_search_is_scoped(signed_in, world) -> None:
    """« Nouvelle demande » is on the queue; the search finds only the schools the agent covers."""
    agent_b = await signed_in("agent.b@guichet.test")
    queue = await (await agent_b.get("/agents")).text()
    assert 'href="/agents/calls/new"' in queue and "Nouvelle demande" in queue
    found = read(await (await agent_b.get("/agents/calls/new?q=Firminy")).text())
    assert world.schools["a"] not in found and "Aucune école de votre périmètre" in found
    found = read(await (await agent_b.get("/agents/calls/new?q=hugo")).text())
    assert f"school={world.schools['b']}" in found
    sem = await signed_in("agent.sem@guichet.test")
    found = await (await sem.get(f"/agents/calls/new?q={world.schools['a']}")).text()
    assert f"school={world.schools['a']}" in found
    refused = await agent_b.get(f"/agents/calls/new?school={world.schools['a']}")
    assert refused.status == 422
    assert "hors de votre périmètre" in read(await refused.text())


async def test_a_logged_call_is_a_ticket_in_the_right_queue_with_clocks_and_the_teacher_gets_it(
        signed_in, db, world) -> None:
    """A commune's agent logs a call from a new teacher: consumables go to the commune's queue with their
    clocks, the events say who took the call, and the teacher's reference waits in the outbox by e-mail."""
    agent = await signed_in("agent.a@guichet.test")
    suggestion, done = await _log_call(agent, world.schools["a"], {**NEW_TEACHER, "text": INK})
    assert "Orientation proposée" in suggestion and "Consommables" in plain(suggestion)
    assert "Commune de Firminy" in plain(suggestion) and "art. 7" in plain(suggestion)
    assert done["location"].startswith("/agents/tickets/")
    reference = done["location"].rsplit("/", 1)[1]
    page = read(await (await agent.get(done["location"])).text())
    assert "Demande " + reference in page and "Téléphone" in page and "06 12 34 56 78" in page
    assert f"Demande {reference} enregistrée et transmise à Commune de Firminy" in page
    assert "par courriel" in page
    assert reference in await (await agent.get("/agents")).text()
    ticket = await _ticket(db, reference)
    assert (ticket.channel, ticket.intent, ticket.status) == ("phone", "consumables", "new")
    async with db.sessions() as s:
        org = await s.get(Organisation, ticket.organisation_id)
        clocks = (await s.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id))).all()
        events = (await s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                  .order_by(TicketEvent.id))).all()
        requester = await s.get(Requester, ticket.requester_id)
        identities = sorted((i.channel, i.external_id) for i in await s.scalars(
            select(RequesterIdentity).where(RequesterIdentity.requester_id == requester.id)))
        outbox = (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))).all()
    assert org.slug == "commune-firminy"
    assert clocks and all(c.deadline is not None for c in clocks)
    assert [e.kind for e in events] == ["created", "message", "call"]
    assert events[1].body == INK and events[2].actor_kind == "agent" and events[2].actor_id == world.agents["a"]
    assert "Appel téléphonique de M. Petit enregistré par Agent A" in plain(events[2].body)
    assert (requester.name, requester.role) == ("M. Petit", "teacher")
    assert identities == [("email", "petit@ac-lyon.fr"), ("phone", "0612345678")]
    to_teacher = [o for o in outbox if o.recipient == "petit@ac-lyon.fr"]
    assert len(to_teacher) == 1 and to_teacher[0].channel == "email"
    assert reference in to_teacher[0].body and reference in to_teacher[0].subject
    assert "Suite à votre appel" in to_teacher[0].body and "transmise à la commune de Firminy" in to_teacher[0].body


async def test_a_known_teacher_on_telegram_routed_outside_the_agents_scope(signed_in, db, world) -> None:
    """The teacher picked from the school's list gets her reference on Telegram; a SEM device goes to the
    SEM queue, so the commune's agent is sent back to her queue and the SEM agent sees the ticket."""
    async with db.sessions() as s:
        martin = await s.scalar(select(Requester.id).where(Requester.name == "Mme Martin"))
    agent = await signed_in("agent.a@guichet.test")
    form = await (await agent.get(f"/agents/calls/new?school={world.schools['a']}")).text()
    assert "Mme Martin" in form and "Telegram" in form
    _, done = await _log_call(agent, world.schools["a"], {
        "requester": str(martin), "text": "le vidéoprojecteur ne s'allume plus du tout",
        "asset_tag": "sem-000001"})
    assert done["location"] == "/agents"
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.channel == "phone"))
        org = await s.get(Organisation, ticket.organisation_id)
        outbox = (await s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id,
                                                             OutboxMessage.recipient == "tg-1001"))).all()
    assert org.slug == "sem" and ticket.asset_id is not None and ticket.equipment == "projector"
    assert len(outbox) == 1 and outbox[0].channel == "telegram" and ticket.reference in outbox[0].body
    flash = read(await (await agent.get("/agents")).text())
    assert f"Demande {ticket.reference} enregistrée et transmise à Saint-Étienne Métropole" in flash
    assert "sur Telegram" in flash
    sem = await signed_in("agent.sem@guichet.test")
    assert ticket.reference in await (await sem.get("/agents")).text()


async def test_the_agent_corrects_the_organisation_with_a_reason(signed_in, db, world) -> None:
    """Another organisation than the convention's needs a reason, which becomes the ticket's reason."""
    agent = await signed_in("agent.a@guichet.test")
    form = {"school": world.schools["a"], "mode": "visit", **NEW_TEACHER, "text": INK, "intent": "consumables",
            "organisation": "rectorat", "action": "create"}
    refused = await agent.post("/agents/calls/new", form)
    assert refused.status == 422
    assert "Indiquez pourquoi la demande va à une autre organisation" in read(await refused.text())
    response = await agent.post("/agents/calls/new", {**form, "reason": "Commande groupée de l'académie"},
                                allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/agents"
    async with db.sessions() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.channel == "phone"))
        org = await s.get(Organisation, ticket.organisation_id)
        call = await s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "call"))
    assert org.slug == "rectorat" and ticket.rule_id is None
    assert ticket.reason == "Orientée par Agent A (Commune de Firminy) lors de l'appel : Commande groupée de l'académie"
    assert call.data["corrected"] is True and call.data["suggested"]["organisation"] == "commune-firminy"
    assert "Visite au guichet" in call.body


@pytest.mark.parametrize(("fields", "field_error"), [
    ({"text": ""}, "Écrivez le message de l'appel"),
    ({"phone": "12"}, "Numéro de téléphone invalide"),
    ({"phone": ""}, "Indiquez le numéro de téléphone"),
    ({"name": ""}, "Indiquez le nom de la personne"),
    ({"email": "pas-une-adresse"}, "Adresse électronique invalide"),
    ({"role": "chef"}, "Indiquez si la personne est enseignant·e ou directeur·rice"),
    ({"requester": ""}, "Choisissez la personne qui appelle"),
    ({"requester": "999999"}, "Choisissez une personne de cette école"),
    ({"asset_tag": "NOPE-1"}, "Aucun matériel de l'inventaire ne porte cette étiquette"),
    ({"intent": "greet"}, "Choisissez une catégorie de la liste"),
    ({"mode": "fax"}, "Indiquez s'il s'agit d'un appel ou d'une visite"),
    ({"organisation": "ailleurs", "reason": "x"}, "Choisissez une organisation du territoire"),
])
async def test_bad_input_is_the_form_again_in_french(signed_in, db, world, fields, field_error) -> None:
    """Every mistake answers 422 with the form, the agent's values and a French line; nothing is created."""
    agent = await signed_in("agent.a@guichet.test")
    form = {"school": world.schools["a"], "mode": "call", **NEW_TEACHER, "text": INK, "intent": "consumables",
            "action": "create", **fields}
    response = await agent.post("/agents/calls/new", form)
    assert response.status == 422
    html = read(await response.text())
    assert field_error in html and "La demande n'est pas encore enregistrée" in html
    async with db.sessions() as s:
        assert await s.scalar(select(Ticket.id).where(Ticket.channel == "phone")) is None


async def test_forms_need_their_csrf_token_and_another_commune_cannot_log_for_this_school(signed_in, world) -> None:
    """No token, no call; an agent of another commune cannot log a call for a school it does not cover."""
    agent = await signed_in("agent.a@guichet.test")
    form = {"school": world.schools["a"], **NEW_TEACHER, "text": INK, "intent": "consumables", "action": "create"}
    assert (await agent.post("/agents/calls/new", form, token=False)).status == 403
    agent_b = await signed_in("agent.b@guichet.test")
    refused = await agent_b.post("/agents/calls/new", form)
    assert refused.status == 422 and "hors de votre périmètre" in read(await refused.text())


# --- the same through the API --------------------------------------------------------------------


@pytest.fixture
def api(aiohttp_client, app, db, world):
    """Factory: an API client acting as one of the world's agents."""
    from tests.web.test_scoping import _token

    async def make(key: str):
        client = await aiohttp_client(app)
        client.headers = {"Authorization": f"Bearer {await _token(db, world.agents[key])}"}
        return client

    return make


async def test_api_creates_a_logged_call_like_the_form(api, db, world) -> None:
    """POST /api/v1/tickets opens the ticket (201, Location) with its clocks and the teacher's reference;
    `dry_run` gives the suggestion alone and creates nothing."""
    client = await api("a")
    body = {"school": world.schools["a"].lower(), "text": INK,
            "requester": {"name": "M. Petit", "phone": "+33 6 12 34 56 78", "email": "petit@ac-lyon.fr"}}
    dry = await client.post("/api/v1/tickets", json={**body, "dry_run": True}, headers=client.headers)
    assert dry.status == 200
    suggestion = (await dry.json())["suggestion"]
    assert suggestion["intent"] == "consumables" and suggestion["organisation"]["slug"] == "commune-firminy"
    assert "art. 7" in suggestion["reason"]
    async with db.sessions() as s:
        assert await s.scalar(select(Ticket.id).where(Ticket.channel == "phone")) is None
    response = await client.post("/api/v1/tickets", json=body, headers=client.headers)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert response.headers["Location"] == f"/api/v1/tickets/{created['reference']}"
    assert (created["channel"], created["intent"], created["status"]) == ("phone", "consumables", "new")
    assert created["organisation"]["slug"] == "commune-firminy" and created["in_scope"] is True
    assert created["notified"] == "email" and created["corrected"] is False
    detail = await (await client.get(created["Location"] if "Location" in created else response.headers["Location"],
                                     headers=client.headers)).json()
    assert detail["channel"] == "phone" and detail["next_due"] is not None
    assert [e["kind"] for e in detail["events"]] == ["created", "message", "call"]
    again = await client.post("/api/v1/tickets", json={**body, "text": "le wifi ne marche plus dans la classe",
                                                        "requester": {"phone": "06.12.34.56.78"}},
                              headers=client.headers)
    assert again.status == 201
    async with db.sessions() as s:
        owners = set((await s.scalars(select(Ticket.requester_id).where(Ticket.channel == "phone"))).all())
        mails = (await s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.channel == "email",
                                                                      OutboxMessage.recipient == "petit@ac-lyon.fr"))).all()
    assert len(owners) == 1 and len(mails) == 2


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, "school", "Champ obligatoire."),
    ({"text": ""}, "text", "Ne peut pas être vide."),
    ({"text": 3}, "text", "Une chaîne de caractères est attendue."),
    ({"requester": "M. Petit"}, "requester", "Un objet JSON est attendu."),
    ({"requester": {"name": "M. Petit"}}, "requester.phone", "Indiquez le numéro de téléphone de la personne."),
    ({"requester": {"name": "M. Petit", "phone": "abc"}}, "requester.phone", "Numéro de téléphone invalide"),
    ({"requester": {"id": 1, "name": "M. Petit", "phone": "0612345678"}}, "requester", "pas les deux"),
    ({"requester": {}}, "requester", "Choisissez la personne qui appelle"),
    ({"requester": {"name": "X", "phone": "0612345678", "role": "chef"}}, "requester.role", "valeurs permises"),
    ({"intent": "greet"}, "intent", "valeurs permises"),
    ({"mode": "fax"}, "mode", "valeurs permises"),
    ({"extra": 1}, "extra", "Champ inconnu."),
    ({"asset_tag": "NOPE-1"}, "asset_tag", "Aucun matériel de l'inventaire"),
    ({"organisation": "rectorat"}, "reason", "Indiquez pourquoi"),
    ({"organisation": "ailleurs", "reason": "x"}, "organisation", "Choisissez une organisation du territoire."),
    ({"school": "0000000A"}, "school", "introuvable ou hors de votre périmètre"),
])
async def test_api_validation_errors_are_422_in_french(api, db, world, body, field, message) -> None:
    """Every bad body answers 422 with the field and a French message; nothing is created."""
    client = await api("a")
    base = {"school": world.schools["a"], "text": INK, "requester": {"name": "M. Petit", "phone": "0612345678"}}
    payload = {k: v for k, v in {**base, **body}.items() if not (body == {} and k == "school")}
    response = await client.post("/api/v1/tickets", json=payload, headers=client.headers)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "invalid_body"
    details = {d["field"]: d["message"] for d in error["details"]}
    assert field in details and message in details[field], details
    async with db.sessions() as s:
        assert await s.scalar(select(Ticket.id).where(Ticket.channel == "phone")) is None


@pytest.mark.parametrize("raw", [b"{not json", b"[1]", b'"texte"', "\udcff".encode("utf-8", "surrogatepass")])
async def test_api_unreadable_bodies_are_422(api, raw) -> None:
    """A body that is not a JSON object answers 422 in French, never a 500."""
    client = await api("a")
    response = await client.post("/api/v1/tickets", data=raw,
                                 headers={**client.headers, "Content-Type": "application/json"})
    assert response.status == 422 and (await response.json())["error"]["message"].startswith("Le corps")


async def test_api_scoping_of_logged_calls(api, aiohttp_client, app, world) -> None:
    """No token is 401; another commune's agent cannot log a call for this school (422 on `school`), the
    SEM's agent can, and a ticket routed out of the agent's scope is created but then reads 404."""
    anonymous = await aiohttp_client(app)
    body = {"school": world.schools["a"], "text": INK, "requester": {"name": "M. Petit", "phone": "0612345678"}}
    assert (await anonymous.post("/api/v1/tickets", json=body)).status == 401
    other = await api("b")
    refused = await other.post("/api/v1/tickets", json=body, headers=other.headers)
    assert refused.status == 422
    assert (await refused.json())["error"]["details"][0]["field"] == "school"
    sem = await api("sem")
    created = await (await sem.post("/api/v1/tickets", json=body, headers=sem.headers)).json()
    assert created["organisation"]["slug"] == "commune-firminy" and created["in_scope"] is False
    assert (await sem.get(f"/api/v1/tickets/{created['reference']}", headers=sem.headers)).status == 404
    commune = await api("a")
    assert (await commune.get(f"/api/v1/tickets/{created['reference']}", headers=commune.headers)).status == 200


async def test_openapi_documents_the_new_ticket(aiohttp_client, app) -> None:
    """The OpenAPI document describes POST /api/v1/tickets, its body and answers, with the call categories."""
    document = await (await (await aiohttp_client(app)).get("/api/openapi.json")).json()
    post = document["paths"]["/api/v1/tickets"]["post"]
    assert post["operationId"] == "create_ticket" and {"201", "200", "401", "422"} <= set(post["responses"])
    schemas = document["components"]["schemas"]
    assert schemas["NewTicket"]["required"] == ["school", "text", "requester"]
    assert "greet" not in schemas["NewTicket"]["properties"]["intent"]["enum"]
    assert "consumables" in schemas["NewTicket"]["properties"]["intent"]["enum"]
    assert set(schemas["Caller"]["properties"]) == {"id", "name", "role", "phone", "email"}


async def test_a_phone_number_is_called_back_never_written_to(signed_in, db, world) -> None:
    """A caller known only by her phone number gets no notice: the agent's reply says no contact is known,
    and no outbox row goes to the phone identity."""
    agent = await signed_in("agent.a@guichet.test")
    _, done = await _log_call(agent, world.schools["a"], {**NEW_TEACHER, "email": "", "text": INK})
    reference = done["location"].rsplit("/", 1)[1]
    page = read(await (await agent.get(done["location"])).text())
    assert "donnez-lui la référence de vive voix" in page
    response = await agent.post(f"/agents/tickets/{reference}/reply", {"body": "Les cartouches partent demain."})
    assert response.status == 200
    assert "le demandeur n'a aucun moyen de contact connu" in read(await response.text())
    async with db.sessions() as s:
        assert await s.scalar(select(OutboxMessage.id).where(OutboxMessage.channel == "phone")) is None


@pytest.mark.parametrize(("typed", "stored", "shown"), [
    ("06 12 34 56 78", "0612345678", "06 12 34 56 78"),
    ("04.77.12.34.56", "0477123456", "04 77 12 34 56"),
    ("+33 6 12 34 56 78", "0612345678", "06 12 34 56 78"),
    ("0033612345678", "0612345678", "06 12 34 56 78"),
    ("+32 2 123 45 67", "+3221234567", "+3221234567"),
    ("12", None, None), ("06 12 34", None, None), ("abc", None, None),
])
def test_phone_numbers_as_typed(typed, stored, shown) -> None:
    """French and international numbers are stored in one form and read back in pairs."""
    from domain.formats import format_phone, normalise_phone

    assert normalise_phone(typed) == stored
    if stored is not None:
        assert format_phone(stored) == shown
