"""Malformed input on the API and the agents' pages: a 4xx in French, one warning, no traceback."""

from __future__ import annotations

import json
import logging
import random

import pytest

from tests.web.test_scoping import _token

BIG = "1" + "0" * 30


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


@pytest.fixture
async def api(aiohttp_client, app, db, world):
    client = await aiohttp_client(app)
    client.headers = {"Authorization": f"Bearer {await _token(db, world.agents['admin'])}"}
    return client


@pytest.mark.parametrize("query", ["page=-1", "page=abc", f"page={BIG}", f"per_page={BIG}", "page=²", "page=1e5"])
async def test_api_paging_out_of_range_is_a_french_422(api, caplog, query: str) -> None:
    """Bad paging on the lists answers 422 with the French rule, never a 500, and the API still answers."""
    caplog.set_level(logging.INFO)
    for path in ("/api/v1/tickets", "/api/v1/schools"):
        response = await api.get(f"{path}?{query}", headers=api.headers)
        assert response.status == 422
        assert (await response.json())["error"]["message"].startswith("page doit être ≥ 1")
    assert _tracebacks(caplog) == []
    assert (await api.get("/api/v1/tickets", headers=api.headers)).status == 200


async def test_api_bodies_nested_too_deep_or_of_wrong_types_are_refused_in_french(api, world, caplog) -> None:
    """JSON nested beyond the parser's depth, invalid UTF-8, lists, null, numbers: a 422 in French,
    a warning for what is not JSON, no traceback."""
    caplog.set_level(logging.INFO)
    url = f"/api/v1/tickets/{world.refs['a2']}/actions/note"
    for body in (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"\xff\xfe", b"{"):
        response = await api.post(url, data=body, headers={**api.headers, "Content-Type": "application/json"})
        assert response.status == 422
        assert (await response.json())["error"]["message"] == "Le corps de la requête n'est pas du JSON valide."
    for payload in ([], None, 5, {"body": 1}, {"body": None}, {"body": ["a"]}, {"body": "x" * 30_000}):
        response = await api.post(url, data=json.dumps(payload), headers=api.headers)
        assert response.status == 422
        assert (await response.json())["error"]["message"] in (
            "Le corps de la requête doit être un objet JSON.", "Champs manquants ou invalides.")
    assert len([r for r in caplog.records if "not JSON" in r.getMessage()]) == 4
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize("path", [
    f"/agents?page={BIG}", f"/agents?commune={BIG}", f"/agents/admin/schools?page={BIG}",
    "/agents/admin/schools?page=²", f"/agents/attachments/{BIG}", f"/agents/admin/schools/{BIG}",
    "/agents/admin/agents/²", f"/agents/admin/organisations/{BIG}", "/agents/reports?jours=²",
])
async def test_pages_with_numbers_out_of_range_answer_without_error(signed_in, caplog, path: str) -> None:
    """A number that is no row id or page (too large, « ² »): the page or a French 404, no traceback."""
    agent = await signed_in("admin@guichet.test")
    caplog.set_level(logging.INFO)
    response = await agent.get(path)
    assert response.status in (200, 404)
    if response.status == 404:
        assert "introuvable" in await response.text()
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize(("body", "content_type"), [
    (b"\xff\xfe=\xff", "application/x-www-form-urlencoded"),
    (b"email=x&password=yz", "application/x-www-form-urlencoded; charset=utf-16"),
    (b"email=x", "application/x-www-form-urlencoded; charset=nonexistent"),
    (b"aaaa", "multipart/form-data; boundary=zz"),
])
async def test_forms_that_do_not_decode_are_a_french_400(signed_in, world, caplog, body: bytes, content_type: str) -> None:
    """Sign-in and ticket forms whose bytes do not decode: 400 in French, one warning, no traceback;
    the site still answers."""
    agent = await signed_in("agent.a@guichet.test")
    caplog.set_level(logging.INFO)
    for path in ("/agents/login", f"/agents/tickets/{world.refs['a3']}/note"):
        response = await agent.client.post(path, data=body, headers={"Content-Type": content_type, "Origin": agent.origin})
        assert response.status == 400
        assert await response.text() == "Le formulaire envoyé est illisible. Rechargez la page puis recommencez."
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.getMessage().startswith("rejected POST")]
    assert len(warnings) == 2
    assert _tracebacks(caplog) == []
    assert (await agent.get("/agents")).status == 200


async def test_numbers_too_large_in_forms_are_refused_not_crashed(signed_in, world, caplog) -> None:
    """An agent id or a Telegram group id beyond the columns' range: a French refusal, no traceback."""
    agent = await signed_in("admin@guichet.test")
    caplog.set_level(logging.INFO)
    response = await agent.post(f"/agents/tickets/{world.refs['a3']}/assign", {"agent": BIG}, allow_redirects=False)
    assert response.status in (303, 404)
    for group in (BIG, "²", "-"):
        response = await agent.post("/agents/admin/organisations/new", {
            "name": "Commune test", "kind": "commune", "slug": "commune-test", "telegram_chat_id": group})
        assert response.status == 422
        assert "identifiant numérique du groupe" in await response.text()
    assert _tracebacks(caplog) == []


async def test_a_genuine_bug_stays_a_500_logged_once_with_its_traceback(api, monkeypatch, caplog) -> None:
    """A ValueError that is not about the input is a bug: 500, one error record with its traceback."""
    from web.api import views

    async def broken(*_args, **_kwargs):
        raise ValueError("a bug in the queue")

    monkeypatch.setattr(views, "list_queue", broken)
    caplog.set_level(logging.INFO)
    response = await api.get("/api/v1/tickets", headers=api.headers)
    assert response.status == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "a bug in the queue" in str(errors[0].exc_info[1])


JUNK = [None, 0, -1, 10**30, 1.5, "", "x" * 25_000, [], ["a"], {}, {"a": None}, True, "\u0000", "é" * 50]
FIELDS = ["body", "article", "organisation", "reason", "extra"]
QUERY_VALUES = ["-1", "abc", BIG, "²", "1e5", "", "%00", "0", "999999", "1.5", "%FF"]
QUERY_KEYS = ["page", "per_page", "commune", "statut", "categorie", "q", "ecole", "tag", "materiel"]


async def test_fuzzed_api_requests_never_answer_5xx_nor_log_a_traceback(api, world, caplog) -> None:
    """Four hundred seeded random requests (bodies of wrong types, bad query strings, unknown
    actions and references): every answer is below 500 and the log holds no traceback."""
    rng = random.Random(18)
    caplog.set_level(logging.INFO)
    statuses = []
    for _ in range(200):
        payload = {rng.choice(FIELDS): rng.choice(JUNK) for _ in range(rng.randint(0, 3))}
        action = rng.choice(["claim", "reply", "note", "ask", "reroute", "resolve", "nope"])
        ref = rng.choice([world.refs["a"], world.refs["a2"], "2026-99999", "x" * 300, BIG])
        raw = json.dumps(rng.choice([payload, list(payload), rng.choice(JUNK)])).encode()
        if rng.random() < 0.2:
            raw = raw[: rng.randrange(len(raw) + 1)] + bytes([rng.randrange(256)])
        response = await api.post(f"/api/v1/tickets/{ref}/actions/{action}", data=raw, headers={
            **api.headers, "Content-Type": rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])})
        statuses.append(response.status)
    for _ in range(200):
        query = "&".join(f"{rng.choice(QUERY_KEYS)}={rng.choice(QUERY_VALUES)}" for _ in range(rng.randint(1, 3)))
        path = rng.choice(["/api/v1/tickets", "/api/v1/schools", "/api/v1/assets", f"/api/v1/tickets/{world.refs['a']}"])
        statuses.append((await api.get(f"{path}?{query}", headers=api.headers)).status)
    assert max(statuses) < 500
    assert _tracebacks(caplog) == []
    assert (await api.get("/api/v1/tickets", headers=api.headers)).status == 200


async def test_a_nul_character_in_an_address_a_form_or_a_body_is_a_french_400(api, world) -> None:
    """PostgreSQL refuses NUL characters: they are turned away before reaching the database."""
    response = await api.get("/api/v1/assets?q=%00abc", headers=api.headers)
    assert response.status == 400 and "caractère invalide" in await response.text()
    response = await api.post(f"/api/v1/tickets/{world.refs['a']}/actions/note", data=b'{"body": "a\\u0000b"}',
                              headers={**api.headers, "Content-Type": "application/json"})
    assert response.status == 422 and "caractère invalide" in (await response.json())["error"]["message"]
