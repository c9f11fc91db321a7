"""Two territories in one database and one application: SEM and Saint-Denis (La Réunion).

Each territory's chat door files its reports in its own territory, with its own routing and
calendar; an agent of one territory reaches nothing of the other, even where references and
tags are the same (`2026-00001` and `SEM-000001` exist in both); the national administrator
works in either, one at a time.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desk import repositories as repo
from desk.clock import utcnow
from desk.models import (
    Agent, Asset, Attachment, Commune, Conversation, Organisation, OutboxMessage, School, SlaClock, Ticket,
)
from domain.uai import make_uai
from guichet.bootstrap import ensure_territory_from_preset
from guichet.settings import SettingsError, load_settings
from guichet.wiring import build_app
from handlers.context import context_for
from nlu import LocalNlu
from desk.sla_store import clock_deadlines
from guichet.wiring import calendar_for
from tests.typo import plain
from tests.web.conftest import AgentClient
from tests.web.test_scoping import _token
from tests.web.world import SESSION_SECRET, password_hash, seed

_NLU = LocalNlu()
SD_SCHOOL = make_uai("9740001")
SD_SUBJECTS = ("Ordinateur de la direction en panne", "Tablettes qui ne chargent plus")


# --- settings ------------------------------------------------------------------------------


def test_one_territory_by_default_and_several_when_listed() -> None:
    assert load_settings(territory="vienne-condrieu").served_territories == ["vienne-condrieu"]
    settings = load_settings(territories="sem, saint-denis", telegram_token="1:a",
                             telegram_tokens="saint-denis:2:b", mail_addresses="saint-denis:Guichet@Saint-Denis.re")
    assert settings.served_territories == ["sem", "saint-denis"] and settings.territory == "sem"
    assert settings.telegram_bot_tokens() == {"sem": "1:a", "saint-denis": "2:b"}
    assert settings.desk_addresses() == {"sem": "guichet@localhost", "saint-denis": "guichet@saint-denis.re"}
    named = load_settings(territories="sem,saint-denis", telegram_bot_username="guichet_sem_bot",
                          telegram_bot_usernames="saint-denis:@guichet_974_bot")
    assert (named.bot_username_of("sem"), named.bot_username_of("saint-denis")) == ("guichet_sem_bot",
                                                                                    "guichet_974_bot")
    assert load_settings(territories="sem,saint-denis", telegram_bot_username="guichet_sem_bot"
                         ).bot_username_of("saint-denis") is None


@pytest.mark.parametrize("values", [
    {"territories": "sem,sem"},
    {"territories": "sem,Saint Denis"},
    {"territories": "sem,saint-denis", "territory": "saint-denis"},
    {"territories": "sem", "telegram_tokens": "saint-denis:2:b"},
    {"territories": "sem", "mail_addresses": "sem"},
])
def test_wrong_territory_settings_are_one_clear_line(values: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(**values)
    assert raised.value.args[0].startswith("GUICHET_")
    assert "2:b" not in raised.value.args[0]  # a bot token is never repeated


# --- the two territories --------------------------------------------------------------------


async def _seed_saint_denis(db: Any) -> dict[str, Any]:
    """Saint-Denis beside the web tests' SEM: one school, its agents, two tickets numbered like
    SEM's first two, a device tagged like SEM's, an attachment; and a national administrator."""
    out: dict[str, Any] = {"agents": {}}
    now = utcnow()
    async with db.sessions.begin() as s:
        territory = await ensure_territory_from_preset(s, "saint-denis")
        ville = await s.scalar(select(Organisation).where(Organisation.territory_id == territory.id,
                                                          Organisation.slug == "commune-saint-denis"))
        commune = Commune(territory_id=territory.id, insee_code="97411", name="Saint-Denis", organisation_id=ville.id)
        s.add(commune)
        await s.flush()
        school = School(territory_id=territory.id, uai=SD_SCHOOL, name="École Jules Ferry", commune_id=commune.id)
        s.add(school)
        await s.flush()
        sem_org = await s.scalar(select(Organisation).where(Organisation.slug == "sem"))
        for key, (email, org, role) in {
            "sd": ("agent.sd@guichet.test", ville, "agent"),
            "sd_admin": ("admin.sd@guichet.test", ville, "admin"),
            "national": ("national@guichet.test", sem_org, "national_admin"),
        }.items():
            agent = Agent(organisation_id=org.id, email=email, name=f"Agent {key}", password_hash=password_hash(),
                          role=role)
            s.add(agent)
            await s.flush()
            out["agents"][key] = agent.id
        asset = Asset(territory_id=territory.id, tag="SEM-000001", type="desktop", model="Poste de la Ville",
                      school_id=school.id, owner="commune")
        s.add(asset)
        await s.flush()
        teacher = await repo.ensure_requester(s, territory.id, "email", "ecole@saint-denis.test", name="Mme Payet",
                                              school_id=school.id)
        refs = []
        for subject in SD_SUBJECTS:
            ticket = await repo.create_ticket(
                s, territory=territory, organisation=ville, intent="hardware_failure", role="operator",
                subject=subject, description=subject, school=school, asset=asset, channel="email",
                requester=teacher, opened_at=now - timedelta(days=1), sla_policy="replacement")
            s.add(SlaClock(ticket_id=ticket.id, policy="replacement", threshold="breach",
                           due_at=now + timedelta(days=1), deadline=now + timedelta(days=1)))
            refs.append(ticket.reference)
        message = next(e for e in ticket.events if e.kind == "message")
        item = Attachment(ticket_id=ticket.id, event_id=message.id, filename="poste.png", content_type="image/png",
                          size=4, content=b"\x89PNG")
        s.add(item)
        await s.flush()
        out["refs"], out["attachment"] = refs, item.id
    return out


def _settings(db: Any, **values: Any):
    return load_settings(database_url=db.url, territories="sem,saint-denis", background=False,
                         public_url="http://guichet.test", session_secret=SESSION_SECRET,
                         telegram_bot_username="guichet_sem_bot", **values)


@pytest.fixture
async def two(db: Any) -> dict[str, Any]:
    world = await seed(db.sessions)
    sd = await _seed_saint_denis(db)
    return {"sem": world, "sd": sd}


@pytest.fixture
async def client(db: Any, two: dict[str, Any], aiohttp_client: Any) -> Any:
    return await aiohttp_client(build_app(_settings(db), db.engine, db.sessions, nlu=_NLU))


@pytest.fixture
async def signed_in(client: Any, aiohttp_client: Any):
    async def make(email: str) -> AgentClient:
        agent = AgentClient(await aiohttp_client(client.app))
        response = await agent.login(email)
        assert response.status == 303, await response.text()
        return agent

    return make


def clocks_naive(clocks: dict[str, Any]) -> bool:
    """SQLite gives naive UTC datetimes back, PostgreSQL aware ones."""
    return next(iter(clocks.values())).tzinfo is None


# --- the chat doors -------------------------------------------------------------------------


class HttpTeacher:
    """A teacher on one territory's HTTP chat door."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.path, self.session, self.replies = client, f"{prefix}/chat/api/messages", None, []

    async def post(self, **body: Any) -> None:
        if self.session:
            body["session"] = self.session
        response = await self.client.post(self.path, json=body)
        assert response.status == 200, await response.text()
        data = await response.json()
        self.session, self.replies = data["session"], data["replies"]

    @property
    def text(self) -> str:
        return plain("\n".join(r["text"] for r in self.replies))

    async def press(self, part: str) -> None:
        for reply in reversed(self.replies):
            for button in reply["buttons"]:
                if part.lower() in plain(button["label"]).lower():
                    return await self.post(button=button["payload"])
        raise AssertionError(f"no button {part!r} in {self.text!r}")

    async def report(self, uai: str, school_button: str, text: str) -> None:
        await self.post(start=True)
        await self.post(text=uai)
        await self.press(school_button)
        await self.press("Enseignant")
        await self.post(text=text)
        for label in ("Toujours en panne", "Passer"):
            if label.lower() in " ".join(plain(b["label"]).lower() for r in self.replies for b in r["buttons"]):
                await self.press(label)
        await self.press("Envoyer")


async def test_each_territorys_chat_files_in_its_own_territory_routing_and_calendar(client: Any, db: Any,
                                                                                    two: dict[str, Any]) -> None:
    """The same report on SEM's door and on Saint-Denis's: SEM's operator takes the first, the Ville
    de Saint-Denis the second, whose clocks run on La Réunion's calendar."""
    text = "le vidéoprojecteur de la classe de CM2 ne s'allume plus"
    sem = HttpTeacher(client, "")
    await sem.report(two["sem"].schools["a"], "Jules Ferry", text)
    assert "Saint-Étienne Métropole" in sem.text
    sd = HttpTeacher(client, "/t/saint-denis")
    await sd.report(SD_SCHOOL, "Jules Ferry", text)
    assert "Ville de Saint-Denis" in sd.text
    async with db.sessions() as s:
        rows = (await s.execute(
            select(Ticket, Organisation.slug, School.uai)
            .join(Organisation, Ticket.organisation_id == Organisation.id)
            .join(School, Ticket.school_id == School.id)
            .where(Ticket.channel == "httpchat").order_by(Ticket.id))).all()
        assert [(org, uai) for _, org, uai in rows] == [("sem", two["sem"].schools["a"]),
                                                        ("commune-saint-denis", SD_SCHOOL)]
        sd_ticket = rows[1][0]
        assert sd_ticket.reference == "2026-00003"  # Saint-Denis's own numbering (two seeded)
        assert sd_ticket.reference in sd.text
        clocks = {c.threshold: c.deadline for c in (await s.scalars(
            select(SlaClock).where(SlaClock.ticket_id == sd_ticket.id))).all()}
        conversations = set((await s.scalars(select(Conversation.external_id))).all())
    reunion = context_for("saint-denis")
    expected = clock_deadlines(sd_ticket.opened_at.replace(tzinfo=UTC), reunion.policy(sd_ticket.sla_policy),
                               reunion.calendar)
    assert clocks and clocks == {str(t): at.replace(tzinfo=None) if clocks_naive(clocks) else at
                                 for t, at in expected.items()}
    # The calendar the deployment gives the SLA watcher for Saint-Denis is La Réunion's: its own
    # time zone, and 20 December (abolition of slavery) closed where SEM works.
    calendars = {slug: calendar_for(slug) for slug in ("sem", "saint-denis")}
    assert str(calendars["saint-denis"].tz) == "Indian/Reunion"
    assert not calendars["saint-denis"].is_working_day(date(2027, 12, 20))
    assert calendars["sem"].is_working_day(date(2027, 12, 20))
    # The same door keeps the bare session for the default territory, a qualified one otherwise.
    assert sem.session in conversations and f"saint-denis/{sd.session}" in conversations
    # A notice for the Saint-Denis page waits behind Saint-Denis's door only.
    async with db.sessions.begin() as s:
        s.add(OutboxMessage(channel="httpchat", recipient=f"saint-denis/{sd.session}", body="Votre demande avance.",
                            ticket_id=sd_ticket.id, dedupe_key="test:sd-page"))
    elsewhere = await (await client.get("/chat/api/messages", params={"session": sd.session})).json()
    assert elsewhere["messages"] == []
    polled = await (await client.get("/t/saint-denis/chat/api/messages", params={"session": sd.session})).json()
    assert [m["text"] for m in polled["messages"]] == ["Votre demande avance."]


async def test_the_web_chat_page_and_socket_of_each_territory(client: Any, db: Any) -> None:
    page = await client.get("/t/saint-denis/chat")
    assert page.status == 200 and 'data-socket="/t/saint-denis/chat/ws"' in await page.text()
    assert 'data-socket="/chat/ws"' in await (await client.get("/chat")).text()
    assert (await client.get("/t/vienne-condrieu/chat")).status == 404  # a preset this deployment does not serve
    assert (await client.post("/t/vienne-condrieu/chat/api/messages", json={"start": True})).status == 404
    ws = await client.ws_connect("/t/saint-denis/chat/ws")
    greeting = await ws.receive_json(timeout=30)
    token = greeting["session"]
    assert "/" not in token
    await ws.send_json({"text": SD_SCHOOL})
    answer = await ws.receive_json(timeout=30)
    assert "Jules Ferry" in plain(answer["text"] + " ".join(b["label"] for b in answer["buttons"]))
    await ws.close()
    async with db.sessions() as s:
        conversation = await s.scalar(select(Conversation).where(Conversation.external_id == f"saint-denis/{token}"))
        bare = await s.scalar(select(Conversation).where(Conversation.external_id == token))
    assert conversation is not None and bare is None


# --- the scoping matrix across territories ----------------------------------------------------


async def _visible(agent: AgentClient, refs: list[str]) -> dict[str, str]:
    """Reference -> the page's text, for the references the agent's ticket page opens."""
    seen = {}
    for ref in refs:
        response = await agent.get(f"/agents/tickets/{ref}")
        assert response.status in (200, 404), (ref, response.status)
        if response.status == 200:
            seen[ref] = await response.text()
    return seen


ALL_REFS = [f"2026-{n:05d}" for n in range(1, 7)]
SEM_SUBJECTS = ("Vidéoprojecteur en panne", "Prise réseau arrachée", "Plus de toner", "Imprimante bloquée",
                "Plus d'internet")


async def test_an_agent_of_saint_denis_reaches_only_saint_denis(signed_in, two: dict[str, Any]) -> None:
    sd = await signed_in("agent.sd@guichet.test")
    seen = await _visible(sd, ALL_REFS)
    assert set(seen) == set(two["sd"]["refs"]) == {"2026-00001", "2026-00002"}
    assert SD_SUBJECTS[0] in seen["2026-00001"] and "Vidéoprojecteur en panne" not in seen["2026-00001"]
    queue = await (await sd.get("/agents")).text()
    assert all(subject in queue for subject in SD_SUBJECTS)
    assert not any(subject in queue for subject in SEM_SUBJECTS)
    asset = await sd.get("/agents/assets/SEM-000001")
    assert asset.status == 200 and "Poste de la Ville" in await asset.text()
    assets = await (await sd.get("/agents/assets")).text()
    assert "Epson EB-W51" not in assets
    sem_attachment = two["sem"].attachments["a"]
    assert (await sd.get(f"/agents/attachments/{sem_attachment}")).status == 404
    assert (await sd.get(f"/agents/attachments/{two['sd']['attachment']}")).status == 200
    assert (await sd.get(f"/agents/schools/{two['sem'].schools['a']}/labels")).status == 404
    assert (await sd.get("/agents/tickets/2026-00004")).status == 404
    for action in ("claim", "note"):
        response = await sd.post(f"/agents/tickets/2026-00004/{action}", {"body": "x"}, allow_redirects=False)
        assert response.status == 404, action


async def test_an_agent_of_sem_reaches_only_sem(signed_in, two: dict[str, Any]) -> None:
    agent = await signed_in("agent.a@guichet.test")
    seen = await _visible(agent, ALL_REFS)
    assert set(seen) == {two["sem"].refs[k] for k in ("a", "a2", "a3")}
    assert "Vidéoprojecteur en panne" in seen["2026-00001"] and SD_SUBJECTS[0] not in seen["2026-00001"]
    asset = await (await agent.get("/agents/assets/SEM-000001")).text()
    assert "Epson EB-W51" in asset and "Poste de la Ville" not in asset
    assert (await agent.get(f"/agents/attachments/{two['sd']['attachment']}")).status == 404
    assert (await agent.get(f"/agents/schools/{SD_SCHOOL}/labels")).status == 404


async def test_each_territorys_admin_and_reports_see_only_their_territory(signed_in, two: dict[str, Any]) -> None:
    sem_admin = await signed_in("admin@guichet.test")
    sd_admin = await signed_in("admin.sd@guichet.test")
    assert set(await _visible(sem_admin, ALL_REFS)) == set(two["sem"].refs.values())
    assert set(await _visible(sd_admin, ALL_REFS)) == set(two["sd"]["refs"])
    for path in ("/agents/reports", "/agents/reports/committee", "/agents/reports/sla", "/agents/admin/schools",
                 "/agents/admin/organisations", "/agents/admin/agents"):
        sem_page, sd_page = await sem_admin.get(path), await sd_admin.get(path)
        assert sem_page.status == sd_page.status == 200, path
        sd_text = await sd_page.text()
        assert "Firminy" not in sd_text and "agent.a@guichet.test" not in sd_text, path
        assert "Ville de Saint-Denis" not in await sem_page.text() or path == "/agents/reports/committee", path
    # A territory's administrator neither changes territory nor makes a national administrator.
    assert (await sem_admin.post("/agents/territory", {"territory": "saint-denis"})).status == 404
    new = await sem_admin.get("/agents/admin/agents/new")
    assert "Administration nationale" not in await new.text()


async def test_api_tokens_are_scoped_by_territory(client: Any, db: Any, two: dict[str, Any]) -> None:
    sd = {"Authorization": f"Bearer {await _token(db, two['sd']['agents']['sd'])}"}
    sem = {"Authorization": f"Bearer {await _token(db, two['sem'].agents['a'])}"}
    one = await (await client.get("/api/v1/tickets/2026-00001", headers=sd)).json()
    assert SD_SUBJECTS[0] in str(one) and "Vidéoprojecteur" not in str(one)
    assert (await client.get("/api/v1/tickets/2026-00004", headers=sd)).status == 404
    listed = await (await client.get("/api/v1/tickets?statut=all", headers=sd)).json()
    assert {t["reference"] for t in listed["items"]} == set(two["sd"]["refs"])
    asset = await (await client.get("/api/v1/assets?tag=SEM-000001", headers=sd)).json()
    assert {t["reference"] for t in asset["tickets"]} == set(two["sd"]["refs"])
    sem_asset = await (await client.get("/api/v1/assets?tag=SEM-000001", headers=sem)).json()
    assert {t["reference"] for t in sem_asset["tickets"]} == {two["sem"].refs["a"]}
    schools = await client.get("/api/v1/schools", headers=sd)
    if schools.status == 200:
        assert "Firminy" not in await schools.text()
    # A token of Saint-Denis cannot pick another territory.
    other = await (await client.get("/api/v1/tickets/2026-00001?territoire=sem", headers=sd)).json()
    assert SD_SUBJECTS[0] in str(other)


async def test_the_national_admin_works_in_either_territory(signed_in, client: Any, db: Any,
                                                           two: dict[str, Any]) -> None:
    national = await signed_in("national@guichet.test")
    queue = await (await national.get("/agents")).text()
    assert 'name="territory"' in queue  # the territory switch
    seen = await _visible(national, ALL_REFS)
    assert set(seen) == set(two["sem"].refs.values())  # their organisation's territory first
    switched = await national.post("/agents/territory", {"territory": "saint-denis"}, allow_redirects=False)
    assert switched.status == 303
    assert "Vous travaillez maintenant sur ce territoire" in await (await national.get("/agents")).text()
    seen = await _visible(national, ALL_REFS)
    assert set(seen) == set(two["sd"]["refs"]) and SD_SUBJECTS[0] in seen["2026-00001"]
    assert "Poste de la Ville" in await (await national.get("/agents/assets/SEM-000001")).text()
    assert (await national.post("/agents/territory", {"territory": "nulle-part"},
                                allow_redirects=False)).status == 303
    assert set(await _visible(national, ALL_REFS)) == set(two["sd"]["refs"])  # unchanged
    headers = {"Authorization": f"Bearer {await _token(db, two['sd']['agents']['national'])}"}
    sem_one = await (await client.get("/api/v1/tickets/2026-00001", headers=headers)).json()
    sd_one = await (await client.get("/api/v1/tickets/2026-00001?territoire=saint-denis", headers=headers)).json()
    assert "Vidéoprojecteur" in str(sem_one) and SD_SUBJECTS[0] in str(sd_one)


async def test_a_saint_denis_label_opens_saint_denis_chat(signed_in, client: Any, two: dict[str, Any]) -> None:
    """A device label leads to its territory's door: the same tag on SEM's chat is SEM's device."""
    agent = await signed_in("agent.sd@guichet.test")
    sheet = await agent.get(f"/agents/schools/{SD_SCHOOL}/labels")
    assert sheet.status == 200
    html = await sheet.text()
    assert "guichet.test/t/saint-denis/chat?asset=SEM-000001" in html
    assert "guichet.test/chat?asset" not in html
    # Saint-Denis's bot has no username here: its labels' code is the web chat's, never SEM's bot.
    assert '<div class="caption">Chat du guichet</div>' in html and ">Telegram<" not in html
    sem = await signed_in("agent.a@guichet.test")
    sem_sheet = await (await sem.get(f"/agents/schools/{two['sem'].schools['a']}/labels")).text()
    assert '<div class="caption">Telegram</div>' in sem_sheet
