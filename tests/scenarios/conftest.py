"""The whole application on the demo territory, entered by one door per test (`door` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from desk.models import Agent, Asset, School, Ticket
from desk.repositories import ensure_requester
from desk.security import hash_password
from guichet.demo import load_demo
from guichet.settings import load_settings
from guichet.wiring import build_app
from handlers.agent_actions import AgentActions
from handlers.agent_scope import Actor, load_actor
from nlu import LocalNlu
from tests.email.conftest import Sink, free_port, sink  # noqa: F401 - the SMTP server the desk sends through
from tests.scenarios.doors import Door, EmailDoor, HttpChatDoor, TelegramDoor, WebchatDoor, telegram_options
from tests.telegram.conftest import TOKEN, bot_api, ptb_timedelta  # noqa: F401 - Bot API server on loopback
from web.keys import telegram_options_key

TEACHER_MAIL = "claire.martin@ac-lyon.fr"
DESK_MAIL = "guichet@sem.test"
SECRET = "scenario-webhook-secret"
_NLU = LocalNlu()

DOORS = ["webchat", "telegram", "email", "httpchat"]


@dataclass
class World:
    """The running desk and what a scenario needs to act as an agent."""

    db: Any
    door: Door
    school: School
    asset_tag: str

    async def only_ticket(self, **where: Any) -> Ticket:
        async with self.db.sessions() as session:
            query = select(Ticket).order_by(Ticket.id)
            for name, value in where.items():
                query = query.where(getattr(Ticket, name) == value)
            tickets = (await session.scalars(query)).all()
        assert len(tickets) == 1, f"{self.door.name}: {len(tickets)} tickets"
        return tickets[0]

    async def tickets(self) -> list[Ticket]:
        async with self.db.sessions() as session:
            return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())

    async def agent_for(self, ticket: Ticket) -> Actor:
        """An agent of the ticket's organisation (created for the test when it has none)."""
        async with self.db.sessions.begin() as session:
            agent = await session.scalar(select(Agent).where(Agent.organisation_id == ticket.organisation_id).limit(1))
            if agent is None:
                agent = Agent(organisation_id=ticket.organisation_id, email=f"agent{ticket.organisation_id}@x.fr",
                              name="Agent de test", password_hash=hash_password("x"), role="agent")
                session.add(agent)
                await session.flush()
            agent_id = agent.id
        async with self.db.sessions() as session:
            return await load_actor(session, agent_id)

    def actions(self) -> AgentActions:
        return AgentActions(self.db.sessions)


@pytest.fixture(params=DOORS)
async def world(request: pytest.FixtureRequest, db: Any, aiohttp_client: Any, bot_api: Any, sink: Any) -> AsyncIterator[World]:
    """Every door's peers run (Bot API server, SMTP server): only the door under test is used."""
    name = request.param
    async with db.sessions.begin() as session:
        await load_demo(session, "sem", assets=40)
        asset, school = (await session.execute(
            select(Asset, School).join(School, Asset.school_id == School.id)
            .where(School.status == "public", Asset.type == "projector").order_by(Asset.id).limit(1))).one()
        if name == "email":
            await ensure_requester(session, school.territory_id, "email", TEACHER_MAIL, name="Claire Martin",
                                   school_id=school.id, role="teacher")
    values: dict[str, Any] = {"database_url": db.url, "territory": "sem", "background": False,
                              "public_url": "http://guichet.test"}
    door: Door
    if name == "webchat":
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        client = await aiohttp_client(app)
        door = WebchatDoor(client=client, app=app)
    elif name == "httpchat":
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        client = await aiohttp_client(app)
        door = HttpChatDoor(client=client, app=app)
    elif name == "telegram":
        api = bot_api
        values.update(telegram_token=TOKEN, telegram_base_url=api.base_url, telegram_webhook_secret=SECRET)
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        app[telegram_options_key] = telegram_options()
        client = await aiohttp_client(app)
        door = TelegramDoor(client=client, app=app, api=api, secret=SECRET)
    else:
        box = sink
        port = free_port()
        values.update(smtp_intake_port=port, http_host="127.0.0.1", mail_from=DESK_MAIL,
                      smtp_url=f"smtp://127.0.0.1:{box.port}")
        app = build_app(load_settings(**values), db.engine, db.sessions, nlu=_NLU)
        await aiohttp_client(app)  # starts the app: its SMTP intake listens on `port`
        door = EmailDoor(app=app, smtp_port=port, received=box.received, teacher=TEACHER_MAIL,
                         desk_address=DESK_MAIL)
    await door.start()
    if isinstance(door, (WebchatDoor, TelegramDoor, HttpChatDoor)):
        await door.onboard(school.uai)
    yield World(db, door, school, asset.tag)
    if isinstance(door, WebchatDoor):
        await door.close()
