"""Administration pages and the supervisor's reports."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from desk.models import Agent, Organisation, School
from desk.security import verify_password
from domain.uai import make_uai


async def test_admin_creates_and_edits_an_organisation(signed_in, db) -> None:
    """An organisation is created with a checked slug, then renamed."""
    admin = await signed_in("admin@guichet.test")
    bad = await admin.post("/agents/admin/organisations/new", {"name": "OGEC", "kind": "ogec", "slug": "Pas Bon"})
    assert bad.status == 422 and "Utilisez des minuscules" in await bad.text()
    await admin.post("/agents/admin/organisations/new",
                     {"name": "OGEC Sainte-Marie", "kind": "ogec", "slug": "ogec-sainte-marie", "email": ""})
    async with db.sessions() as s:
        org = await s.scalar(select(Organisation).where(Organisation.slug == "ogec-sainte-marie"))
    assert org.kind == "ogec"
    await admin.post(f"/agents/admin/organisations/{org.id}",
                     {"name": "OGEC Sainte-Marie de Firminy", "kind": "ogec", "slug": "ogec-sainte-marie"})
    html = await (await admin.get("/agents/admin/organisations")).text()
    assert "OGEC Sainte-Marie de Firminy" in html


async def test_admin_sets_the_agents_telegram_group(signed_in, db) -> None:
    """The agents' Telegram group id is numeric, stored, and can be cleared."""
    admin = await signed_in("admin@guichet.test")
    async with db.sessions() as s:
        org = await s.scalar(select(Organisation).where(Organisation.slug == "commune-firminy"))
    form = {"name": org.name, "kind": org.kind, "slug": org.slug, "telegram_chat_id": "groupe"}
    bad = await admin.post(f"/agents/admin/organisations/{org.id}", form)
    assert bad.status == 422 and "identifiant numérique" in await bad.text()
    await admin.post(f"/agents/admin/organisations/{org.id}", {**form, "telegram_chat_id": "-1001234567890"})
    async with db.sessions() as s:
        assert (await s.get(Organisation, org.id)).telegram_chat_id == -1001234567890
    await admin.post(f"/agents/admin/organisations/{org.id}", {**form, "telegram_chat_id": ""})
    async with db.sessions() as s:
        assert (await s.get(Organisation, org.id)).telegram_chat_id is None


async def test_admin_creates_an_agent_who_can_sign_in(signed_in, db, world) -> None:
    """A new agent gets an argon2 hash and can sign in; duplicate e-mails are refused."""
    admin = await signed_in("admin@guichet.test")
    async with db.sessions() as s:
        org_id = await s.scalar(select(Organisation.id).where(Organisation.slug == "commune-firminy"))
    form = {"name": "Léa Roux", "email": "lea.roux@firminy.fr", "organisation": str(org_id), "role": "agent",
            "password": "motdepasse-solide", "active": "on"}
    assert (await admin.post("/agents/admin/agents/new", form, allow_redirects=False)).status == 303
    async with db.sessions() as s:
        agent = await s.scalar(select(Agent).where(Agent.email == "lea.roux@firminy.fr"))
    assert verify_password(agent.password_hash, "motdepasse-solide")
    dup = await admin.post("/agents/admin/agents/new", {**form, "email": "agent.a@guichet.test"})
    assert dup.status == 422 and "Un autre agent utilise déjà cette adresse." in await dup.text()
    short = await admin.post("/agents/admin/agents/new", {**form, "email": "x@y.fr", "password": "court"})
    assert short.status == 422
    self_demote = await admin.post(f"/agents/admin/agents/{world.agents['admin']}",
                                   {**form, "email": "admin@guichet.test", "role": "agent", "password": ""})
    assert self_demote.status == 422


async def test_admin_creates_a_school_with_a_valid_uai(signed_in, db) -> None:
    """A school needs a valid, unused UAI."""
    admin = await signed_in("admin@guichet.test")
    async with db.sessions() as s:
        commune_id = await s.scalar(select(School.commune_id).limit(1))
    form = {"uai": "0421002A", "name": "École Louise Michel", "kind": "Ecole", "status": "public",
            "commune": str(commune_id)}
    bad = await admin.post("/agents/admin/schools/new", form)
    assert bad.status == 422 and "Code UAI invalide" in await bad.text()
    good = await admin.post("/agents/admin/schools/new", {**form, "uai": make_uai("0421002")}, allow_redirects=False)
    assert good.status == 303
    listing = await (await admin.get("/agents/admin/schools?q=louise")).text()
    assert "École Louise Michel" in listing


async def test_supervisor_report_counts_their_organisation(signed_in, world) -> None:
    """The report counts A's tickets only: statuses, communes, breached, theft/damage table."""
    supervisor = await signed_in("chef.a@guichet.test")
    html = await (await supervisor.get("/agents/reports?jours=30")).text()
    assert "Rapports de Commune de Firminy" in html
    assert "<strong>3</strong> demandes ouvertes" in html
    assert "<strong>1</strong> en retard" in html
    assert "<strong>1</strong> bientôt dues" in html
    assert "<td>Firminy</td><td>3</td>" in html
    assert "Saint-Étienne</td>" not in html
    assert "Vols et dégradations par commune" in html
    # Each empty table says what is empty, not « Aucune demande » for a list of schools.
    assert "Aucune école n'atteint ce seuil sur la période." in unescape(html)
    assert 'class="table-scroll"' in html  # the tutorial table scrolls inside its box on a phone


async def test_supervisor_report_shows_volumes_by_equipment_and_channel_and_the_ratings(signed_in, db, world) -> None:
    """Art. 8's indicators: volumes by equipment and by channel, and the requesters' ratings —
    one per ticket, the low ones listed (the other commune's rating is not counted)."""
    from datetime import UTC, datetime

    from desk.models import Ticket
    from handlers import teacher_tickets
    from tests.typo import plain

    async with db.sessions.begin() as s:
        for key, score in (("a", 1), ("a2", 5), ("b", 2)):
            ticket = await s.scalar(select(Ticket).where(Ticket.reference == world.refs[key]))
            ticket.status = "closed"
            done = await teacher_tickets.rate(s, ticket, score=score, requester_id=ticket.requester_id,
                                              channel="telegram", now=datetime.now(UTC))
            assert done is teacher_tickets.Done.DONE
            assert await teacher_tickets.rate(s, ticket, score=3, requester_id=ticket.requester_id,
                                              channel="telegram", now=datetime.now(UTC)) is teacher_tickets.Done.ALREADY_RATED
    supervisor = await signed_in("chef.a@guichet.test")
    html = unescape(plain(await (await supervisor.get("/agents/reports?jours=30")).text()))
    assert "<caption>Par matériel</caption>" in html and "<td>Vidéoprojecteur</td><td>1</td>" in html
    assert "<caption>Par canal</caption>" in html and "<td>Telegram</td><td>2</td>" in html
    assert "Satisfaction des demandeurs" in html and "<strong>2</strong> avis" in html
    assert "<strong>3,0/5</strong> en moyenne" in html and "<strong>50 %</strong> de notes 4 ou 5" in html
    assert f"<td>{world.refs['a']}</td><td>Vidéoprojecteur en panne</td><td>1</td>" in html
    assert world.refs["b"] not in html  # commune B's ticket and its rating
