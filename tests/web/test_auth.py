"""Sign-in, sessions, CSRF protection and the login rate limit of the agents' pages."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from desk.models import Agent, ApiToken
from desk.security import hash_token, verify_password
from guichet import cli
from tests.web.world import PASSWORD, seed
from web.auth import LoginLimiter, limiter_key


async def test_queue_requires_sign_in(anonymous) -> None:
    """An anonymous visitor is sent to the sign-in page, with the page to come back to."""
    response = await anonymous.get("/agents?statut=new", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/agents/login?suivant=")


async def test_login_page_is_french_and_accessible(anonymous) -> None:
    """The sign-in page is in French, with labels, a skip link and no inline script."""
    response = await anonymous.get("/agents/login")
    html = await response.text()
    assert response.status == 200
    assert '<html lang="fr">' in html
    assert 'href="#contenu"' in html and "Aller au contenu" in html
    assert '<label for="email">' in html and '<label for="password">' in html
    assert "<script>" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


async def test_sign_in_sets_a_hardened_cookie_and_opens_the_queue(anonymous) -> None:
    """A good password opens a session: HttpOnly, SameSite=Lax cookie, then the queue."""
    await anonymous.refresh_token()
    response = await anonymous.post("/agents/login", {"email": "Agent.A@guichet.test ", "password": PASSWORD},
                                    allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/agents"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    queue = await anonymous.get("/agents")
    assert "File de la commune de Firminy" in await queue.text()


async def test_secure_cookie_when_public_url_is_https(aiohttp_client, db, world) -> None:
    """Behind https, the session cookie is marked Secure."""
    from tests.web.conftest import AgentClient
    from tests.web.world import agents_app, make_settings

    client = AgentClient(await aiohttp_client(agents_app(
        make_settings(public_url="https://guichet.example"), db.engine, db.sessions)))
    response = await client.get("/agents/login")
    assert "Secure" in response.headers["Set-Cookie"]


async def test_wrong_password_is_refused_in_french(anonymous) -> None:
    """A wrong password answers 401 with a French message and no session."""
    await anonymous.refresh_token()
    response = await anonymous.post("/agents/login", {"email": "agent.a@guichet.test", "password": "non"})
    assert response.status == 401
    assert "Adresse électronique ou mot de passe incorrect." in await response.text()
    assert (await anonymous.get("/agents", allow_redirects=False)).status == 303


async def test_login_is_rate_limited(anonymous) -> None:
    """Five failures for one e-mail and address block even the right password."""
    await anonymous.refresh_token()
    statuses = []
    for _ in range(5):
        r = await anonymous.post("/agents/login", {"email": "agent.a@guichet.test", "password": "mauvais"})
        statuses.append(r.status)
    assert statuses == [401, 401, 401, 401, 429]
    blocked = await anonymous.post("/agents/login", {"email": "agent.a@guichet.test", "password": PASSWORD})
    assert blocked.status == 429
    assert "Trop de tentatives, réessayez dans quelques minutes." in await blocked.text()
    other = await anonymous.post("/agents/login", {"email": "agent.b@guichet.test", "password": PASSWORD},
                                 allow_redirects=False)
    assert other.status == 303


def test_limiter_forgets_after_the_window() -> None:
    """Failures older than fifteen minutes no longer count."""
    now = [1000.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    for _ in range(5):
        limiter.failed("a@b.fr", "1.2.3.4")
    assert limiter.blocked("a@b.fr", "1.2.3.4")
    assert not limiter.blocked("a@b.fr", "5.6.7.8")
    now[0] += 15 * 60 + 1
    assert not limiter.blocked("a@b.fr", "1.2.3.4")


async def test_many_e_mails_sprayed_from_one_address_are_limited(anonymous) -> None:
    """Twenty failures from one address, each for another e-mail, block that address — even
    for a right password — while one e-mail's own count stays at one."""
    await anonymous.refresh_token()
    statuses = [(await anonymous.post("/agents/login", {"email": f"inconnu{i}@guichet.test", "password": "x"})).status
                for i in range(21)]
    assert statuses[:19] == [401] * 19 and statuses[19:] == [429, 429]
    blocked = await anonymous.post("/agents/login", {"email": "agent.a@guichet.test", "password": PASSWORD})
    assert blocked.status == 429


def test_a_success_does_not_clear_the_address_count() -> None:
    """Signing in to one's own account does not reset what the address sprayed on others."""
    limiter = LoginLimiter(max_address_failures=3)
    for i in range(3):
        limiter.failed(f"user{i}@b.fr", "1.2.3.4")
    limiter.succeeded("user0@b.fr", "1.2.3.4")
    assert limiter.blocked("someone@b.fr", "1.2.3.4") and not limiter.blocked("someone@b.fr", "5.6.7.8")


async def test_limiter_is_per_app(app) -> None:
    """Each application has its own limiter under a typed key."""
    assert isinstance(app[limiter_key], LoginLimiter)


async def test_logout_is_a_post_and_ends_the_session(signed_in) -> None:
    """Signing out needs a POST with the token; afterwards the queue asks to sign in again."""
    client = await signed_in("agent.a@guichet.test")
    assert (await client.client.get("/agents/logout")).status == 405
    response = await client.post("/agents/logout", allow_redirects=False)
    assert response.status == 303 and "sortie=1" in response.headers["Location"]
    assert (await client.get("/agents", allow_redirects=False)).status == 303


async def test_a_cookie_saved_before_logout_no_longer_opens_the_queue(signed_in, anonymous, world) -> None:
    """Signing out ends the session on the server: a copy of the cookie taken before is refused,
    and a new sign-in works again."""
    client = await signed_in("agent.a@guichet.test")
    saved = {c.key: c.value for c in client.client.session.cookie_jar}
    assert saved and (await client.get("/agents", allow_redirects=False)).status == 200
    assert (await client.post("/agents/logout", allow_redirects=False)).status == 303
    anonymous.client.session.cookie_jar.update_cookies(saved)
    stale = await anonymous.get(f"/agents/tickets/{world.refs['a']}", allow_redirects=False)
    assert stale.status == 303 and "/agents/login" in stale.headers["Location"]
    again = await signed_in("agent.a@guichet.test")
    assert (await again.get("/agents", allow_redirects=False)).status == 200


async def test_post_without_csrf_token_is_refused_in_french(signed_in, world) -> None:
    """A form posted without the session's token gets a French 403 page and changes nothing."""
    client = await signed_in("agent.a@guichet.test")
    response = await client.post(f"/agents/tickets/{world.refs['a']}/claim", token=False)
    assert response.status == 403
    html = await response.text()
    assert "La vérification de sécurité du formulaire a échoué." in html and 'lang="fr"' in html
    page = await (await client.get(f"/agents/tickets/{world.refs['a']}")).text()
    assert "Attribuée à" in page and "Agent A</dd>" not in page


async def test_post_with_wrong_token_or_foreign_origin_is_refused(signed_in, world) -> None:
    """A wrong token, a foreign Origin or no Origin/Referer at all are refused."""
    client = await signed_in("agent.a@guichet.test")
    path = f"/agents/tickets/{world.refs['a']}/claim"
    assert (await client.post(path, {"_csrf": "faux"}, token=False)).status == 403
    assert (await client.post(path, headers={"Origin": "https://evil.example"})).status == 403
    # malformed origins (a port that is not a number, an unclosed IPv6 bracket) are foreign, not a 500
    for origin in (client.origin + ".evil.example", "http://127.0.0.1:50355.evil.example", "http://[::1"):
        assert (await client.post(path, headers={"Origin": origin})).status == 403, origin
    assert (await client.post(path, headers={})).status == 403
    referer = await client.post(path, headers={"Referer": client.origin + "/agents"}, allow_redirects=False)
    assert referer.status == 303


async def test_login_form_needs_the_csrf_token(anonymous) -> None:
    """Even the sign-in form is protected (login CSRF)."""
    response = await anonymous.post("/agents/login", {"email": "agent.a@guichet.test", "password": PASSWORD},
                                    token=False)
    assert response.status == 403


async def test_deactivated_agent_loses_access(signed_in, db, world) -> None:
    """Deactivating an agent ends their open sessions at the next request."""
    client = await signed_in("agent.a@guichet.test")
    async with db.sessions.begin() as s:
        agent = await s.get(Agent, world.agents["a"])
        agent.active = False
    assert (await client.get("/agents", allow_redirects=False)).status == 303


def test_cli_agent_add_and_token_create(db, monkeypatch, capsys) -> None:
    """`guichet agent add` creates a hashed-password agent, `guichet token create` a working token."""
    asyncio.run(_seed_in_fresh_loop(db.url))
    monkeypatch.setenv("GUICHET_DATABASE_URL", db.url)
    code = cli.main(["agent", "add", "--org", "commune-firminy", "--email", "Nouvel.Agent@Firminy.fr",
                     "--password", "un-mot-de-passe-solide", "--role", "supervisor", "--name", "Léa Roux"])
    assert code == 0
    assert "nouvel.agent@firminy.fr (supervisor)" in capsys.readouterr().out
    assert cli.main(["agent", "add", "--org", "inconnue", "--email", "x@y.fr", "--password", "p"]) == 1
    assert cli.main(["token", "create", "--agent", "nouvel.agent@firminy.fr"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("gui_")
    agent, token_row = asyncio.run(_agent_and_token(db.url, token))
    assert agent.role == "supervisor" and agent.name == "Léa Roux"
    assert verify_password(agent.password_hash, "un-mot-de-passe-solide")
    assert token_row is not None and token_row.agent_id == agent.id


async def _seed_in_fresh_loop(url: str) -> None:
    from desk.db import create_engine, session_factory

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            exists = await s.scalar(select(Agent.id).limit(1))
        if exists is None:
            await seed(session_factory(engine))
    finally:
        await engine.dispose()


async def _agent_and_token(url: str, token: str):
    from desk.db import create_engine, session_factory

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            agent = await s.scalar(select(Agent).where(Agent.email == "nouvel.agent@firminy.fr"))
            row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
            return agent, row
    finally:
        await engine.dispose()
