"""RasaNlu against a tiny local aiohttp server speaking `/model/parse`, and FallbackNlu."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from domain.vocabulary import Intent
from nlu import FallbackNlu, LocalNlu, NluBackend, NluUnavailable, ParseResult, RasaNlu


@dataclass
class FakeRasa:
    """Behaviour of the fake server: a delay and a status per call, then normal answers."""

    delays: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    intent: str = "hardware_failure"
    calls: int = 0
    texts: list[str] = field(default_factory=list)


FAKE = web.AppKey("fake", FakeRasa)


async def parse_handler(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    n = fake.calls
    fake.calls += 1
    body = await request.json()
    fake.texts.append(body["text"])
    if n < len(fake.delays):
        await asyncio.sleep(fake.delays[n])
    if n < len(fake.statuses) and fake.statuses[n] != 200:
        return web.json_response({"error": "boom"}, status=fake.statuses[n])
    return web.json_response(
        {
            "text": body["text"],
            "intent": {"name": fake.intent, "confidence": 0.87},
            "entities": [
                {
                    "entity": "equipment",
                    "start": 3,
                    "end": 8,
                    "value": "projector",
                    "extractor": "DIETClassifier",
                    "confidence_entity": 0.98,
                    "processors": ["EntitySynonymMapper"],
                }
            ],
            "intent_ranking": [
                {"name": fake.intent, "confidence": 0.87},
                {"name": "damage", "confidence": 0.1},
            ],
            "text_tokens": [],
        }
    )


async def status_handler(request: web.Request) -> web.Response:
    return web.json_response({"model_file": "guichet-nlu.tar.gz", "model_id": "x", "num_active_training_jobs": 0})


ServerFactory = Callable[[FakeRasa], Awaitable[str]]


@pytest.fixture
async def rasa_server() -> ServerFactory:  # type: ignore[misc]
    servers: list[TestServer] = []

    async def start(fake: FakeRasa) -> str:
        app = web.Application()
        app[FAKE] = fake
        app.router.add_post("/model/parse", parse_handler)
        app.router.add_get("/status", status_handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_parse_when_up(rasa_server: ServerFactory) -> None:
    """A healthy server's answer becomes a ParseResult."""
    fake = FakeRasa()
    url = await rasa_server(fake)
    async with RasaNlu(url, timeout=2) as rasa:
        result = await rasa.parse("le projo est cassé")
        assert (await rasa.status())["model_file"] == "guichet-nlu.tar.gz"
    assert result.intent is Intent.HARDWARE_FAILURE
    assert result.confidence == 0.87
    assert result.equipment == "projector"
    assert fake.texts == ["le projo est cassé"]


async def test_slow_answer_times_out_then_retry_succeeds(rasa_server: ServerFactory) -> None:
    """An attempt slower than the timeout is retried."""
    fake = FakeRasa(delays=[1.0])
    url = await rasa_server(fake)
    async with RasaNlu(url, timeout=0.2, retries=2, backoff=0.01) as rasa:
        result = await rasa.parse("wifi en panne")
    assert result.intent is Intent.HARDWARE_FAILURE
    assert fake.calls == 2


async def test_always_slow_is_unavailable(rasa_server: ServerFactory) -> None:
    """When every attempt times out, NluUnavailable says so."""
    fake = FakeRasa(delays=[1.0, 1.0, 1.0])
    url = await rasa_server(fake)
    async with RasaNlu(url, timeout=0.1, retries=1, backoff=0.01) as rasa:
        with pytest.raises(NluUnavailable, match=r"after 2 attempt\(s\): no answer within 0.1 s"):
            await rasa.parse("bonjour")
    assert fake.calls == 2


async def test_server_errors_are_retried(rasa_server: ServerFactory) -> None:
    """A 500 (or 409 while no model is loaded) is retried."""
    fake = FakeRasa(statuses=[500, 409])
    url = await rasa_server(fake)
    async with RasaNlu(url, retries=2, backoff=0.01) as rasa:
        assert (await rasa.parse("x")).intent is Intent.HARDWARE_FAILURE
    assert fake.calls == 3


async def test_down_server_is_unavailable() -> None:
    """Nothing listening: NluUnavailable names the URL and how to start Rasa."""
    url = f"http://127.0.0.1:{free_port()}"
    async with RasaNlu(url, timeout=0.5, retries=1, backoff=0.01) as rasa:
        with pytest.raises(NluUnavailable) as err:
            await rasa.parse("bonjour")
    assert url in str(err.value)
    assert "connection failed" in str(err.value)
    assert "scripts/rasa.sh serve" in str(err.value)


async def test_nlu_fallback_is_out_of_scope(rasa_server: ServerFactory) -> None:
    """Rasa's nlu_fallback intent is read as out_of_scope."""
    url = await rasa_server(FakeRasa(intent="nlu_fallback"))
    async with RasaNlu(url) as rasa:
        assert (await rasa.parse("recette de crêpes")).intent is Intent.OUT_OF_SCOPE


async def test_shared_session_is_not_closed(rasa_server: ServerFactory) -> None:
    """A session passed in belongs to the caller."""
    url = await rasa_server(FakeRasa())
    async with aiohttp.ClientSession() as session:
        rasa = RasaNlu(url, session)
        await rasa.parse("x")
        await rasa.close()
        assert not session.closed


class Counting:
    """A backend that counts calls and answers a fixed intent."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent
        self.calls = 0

    async def aparse(self, text: str) -> ParseResult:
        self.calls += 1
        return ParseResult(text, self.intent, 1.0)


async def test_fallback_when_primary_down() -> None:
    """FallbackNlu answers with the fallback and skips the primary during the cooldown."""
    now = [0.0]
    primary = RasaNlu(f"http://127.0.0.1:{free_port()}", timeout=0.3, retries=0)
    fallback = Counting(Intent.GREET)
    nlu = FallbackNlu(primary, fallback, cooldown=30, clock=lambda: now[0])
    assert isinstance(nlu, NluBackend)
    assert (await nlu.aparse("bonjour")).intent is Intent.GREET
    assert nlu.primary_suspended and nlu.last_error is not None
    now[0] = 10.0
    await nlu.aparse("bonjour")
    assert fallback.calls == 2
    await primary.close()


async def test_fallback_returns_to_primary(rasa_server: ServerFactory) -> None:
    """After the cooldown the primary is asked again and used when it answers."""
    now = [0.0]
    url = await rasa_server(FakeRasa(statuses=[500]))
    async with RasaNlu(url, retries=0) as primary:
        fallback = Counting(Intent.GREET)
        nlu = FallbackNlu(primary, fallback, cooldown=5, clock=lambda: now[0])
        assert (await nlu.aparse("x")).intent is Intent.GREET
        now[0] = 6.0
        assert (await nlu.aparse("x")).intent is Intent.HARDWARE_FAILURE
        assert not nlu.primary_suspended


async def test_fallback_to_local_model(data_dir: Path) -> None:
    """The real pairing: Rasa down, LocalNlu answers."""
    primary = RasaNlu(f"http://127.0.0.1:{free_port()}", timeout=0.3, retries=0)
    nlu = FallbackNlu(primary, LocalNlu(data_dir, cache_dir=False))
    assert (await nlu.aparse("le wifi ne marche plus")).intent is Intent.NETWORK_OUTAGE
    await primary.close()
