"""Fixtures of the web tests: the real application on the `db` fixture, signed-in clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from tests.web.world import CSRF, PASSWORD, World, agents_app, make_settings, seed
from web.agents import LiveOptions, live_key


class AgentClient:
    """A test client signed in as one agent, that knows its CSRF token and origin."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/").origin())

    async def refresh_token(self, path: str = "/agents/login") -> str:
        async with self.client.get(path) as response:
            match = CSRF.search(await response.text())
        self.token = match.group(1) if match else ""
        return self.token

    async def login(self, email: str, password: str = PASSWORD):
        await self.refresh_token()
        response = await self.post("/agents/login", {"email": email, "password": password}, allow_redirects=False)
        if response.status == 303:
            await self.refresh_token("/agents")
        return response

    async def post(self, path: str, data: dict[str, str] | None = None, *, token: bool = True, **kwargs):
        form = dict(data or {})
        if token:
            form["_csrf"] = self.token
        kwargs.setdefault("headers", {"Origin": self.origin})
        return await self.client.post(path, data=form, **kwargs)

    async def get(self, path: str, **kwargs):
        return await self.client.get(path, **kwargs)


@pytest.fixture
async def world(db) -> World:
    return await seed(db.sessions)


@pytest.fixture
async def app(db, world):
    application = agents_app(make_settings(), db.engine, db.sessions)
    application[live_key] = LiveOptions(poll_seconds=0.05, heartbeat_seconds=0.2)
    return application


@pytest.fixture
async def anonymous(aiohttp_client, app) -> AgentClient:
    return AgentClient(await aiohttp_client(app))


@pytest.fixture
async def signed_in(aiohttp_client, app) -> Callable[[str], Awaitable[AgentClient]]:
    """Factory: a new client signed in with the given e-mail."""

    async def make(email: str) -> AgentClient:
        client = AgentClient(await aiohttp_client(app))
        response = await client.login(email)
        assert response.status == 303, await response.text()
        return client

    return make
