"""Recognising an agent: password sign-in and API tokens."""

from __future__ import annotations

from sqlalchemy import update

from desk.models import Agent, ApiToken
from desk.security import new_token
from handlers.agent_auth import actor_for_token, authenticate, end_sessions
from handlers.agent_scope import load_actor
from tests.web.world import PASSWORD


async def test_authenticate_only_an_active_agent_with_the_right_password(db, world) -> None:
    signed_in = await authenticate(db.sessions, "agent.a@guichet.test", PASSWORD)
    assert signed_in is not None and signed_in.agent_id == world.agents["a"] and signed_in.session_epoch == 0
    assert await authenticate(db.sessions, "agent.a@guichet.test", "mauvais-mot-de-passe") is None
    assert await authenticate(db.sessions, "inconnu@guichet.test", PASSWORD) is None
    async with db.sessions.begin() as s:
        await s.execute(update(Agent).where(Agent.id == world.agents["a"]).values(active=False))
    assert await authenticate(db.sessions, "agent.a@guichet.test", PASSWORD) is None


async def test_a_token_acts_as_its_active_agent_until_revoked(db, world) -> None:
    token, digest = new_token()
    async with db.sessions.begin() as s:
        s.add(ApiToken(agent_id=world.agents["b"], token_hash=digest))
    async with db.sessions() as s:
        actor = await actor_for_token(s, token)
        assert actor is not None and actor.id == world.agents["b"] and actor.organisation_name == "Commune de Saint-Étienne"
        assert await actor_for_token(s, token + "x") is None
    async with db.sessions.begin() as s:
        await s.execute(update(ApiToken).values(revoked=True))
    async with db.sessions() as s:
        assert await actor_for_token(s, token) is None
    async with db.sessions.begin() as s:
        await s.execute(update(ApiToken).values(revoked=False))
        await s.execute(update(Agent).where(Agent.id == world.agents["b"]).values(active=False))
    async with db.sessions() as s:
        assert await actor_for_token(s, token) is None


async def test_ending_the_sessions_refuses_every_earlier_session(db, world) -> None:
    """After `end_sessions`, an actor is loaded only with the new epoch; tokens are unaffected."""
    agent = world.agents["a"]
    await end_sessions(db.sessions, agent)
    signed_in = await authenticate(db.sessions, "agent.a@guichet.test", PASSWORD)
    assert signed_in is not None and signed_in.session_epoch == 1
    async with db.sessions() as s:
        assert await load_actor(s, agent, session_epoch=0) is None
        assert (await load_actor(s, agent, session_epoch=1)).id == agent
        assert (await load_actor(s, agent)).id == agent  # API tokens carry no session
