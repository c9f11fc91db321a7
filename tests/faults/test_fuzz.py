"""Fuzzing with hypothesis: the doors' parsers and the API never end in an unhandled exception.

Targets: the Telegram update parser (`parse_update` + `translate_update`, what the pipeline
runs on a stored update), the web-chat frames (WebSocket `to_inbound`, HTTP `parse_request`),
the e-mail parser, the CSV imports (schools and inventory, run in a rolled-back transaction)
and the API bodies and query strings. Each malformed input must end in the door's declared
rejection (MalformedUpdate, FrameError, ImportFileError or a per-row rejection; a 4xx JSON
answer with a French message for the API), never in another exception or a 5xx.

The default run is bounded (`GUICHET_FUZZ_EXAMPLES`, 200 examples per target); a volume run
sets it higher, e.g. `GUICHET_FUZZ_EXAMPLES=5000` (figures in docs/BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot

from bot.email import MailParser
from bot.httpchat.adapter import parse_request
from bot.telegram.translate import MalformedUpdate, parse_update, translate_update
from bot.webchat import FrameError, to_inbound
from desk.db import create_engine, session_factory
from desk.importers import ImportFileError, import_assets, import_schools
from desk.models import Territory
from sqlalchemy import select
from tests.telegram import updates as u
from tests.web.test_scoping import _token
from tests.web.world import agents_app, make_settings, seed

EXAMPLES = int(os.environ.get("GUICHET_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
#: Cases run per target in this session (printed at the end of each test, for the benchmark page).
COUNTS: dict[str, int] = {}

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**31 - 2, max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["", "\x00", "\u202e", "a" * 5000, "2026-13-45", "-1", "1e308"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=5), max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, samples: list[Any]) -> Any:
    """A valid sample with one to three of its fields replaced by any JSON value (or dropped)."""
    value = draw(st.sampled_from(samples))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(value)))
        if path and draw(st.booleans()) and isinstance(parent := _get(value, path[:-1]), dict):
            value = _replaced(value, path[:-1], {k: v for k, v in parent.items() if k != path[-1]})
        else:
            value = _replaced(value, path, draw(JSON))
    return value


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _counted(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def _start(name: str) -> float:
    COUNTS[name] = 0
    return time.monotonic()


def _report(name: str, started: float) -> None:
    print(f"\nfuzz {name}: {COUNTS.get(name, 0)} cases, 0 unhandled exceptions, {time.monotonic() - started:.1f} s")


# --- Telegram updates ---------------------------------------------------------------------------

UPDATES = [
    u.text_update(1, 42, "le vidéoprojecteur ne s'allume plus"),
    u.text_update(2, 42, "/start"),
    u.callback_update(3, 42, "school:1"),
    u.photo_update(4, 42, "file-1", 48_000, "écran fissuré"),
    u.document_update(5, 42, "file-2", 1000, "facture.pdf", "application/pdf"),
    u.edited_update(6, u.text_update(7, 42, "bonjour"), "bonsoir"),
    {"update_id": 8, "my_chat_member": {
        "chat": u.private_chat(42), "from": u.user(42), "date": 1_700_000_000,
        "old_chat_member": {"status": "member", "user": u.user(1)},
        "new_chat_member": {"status": "kicked", "user": u.user(1), "until_date": 0}}},
    {"update_id": 9, "poll": {"id": "p", "question": "?", "options": [], "total_voter_count": 0,
                              "is_closed": False, "is_anonymous": True, "type": "regular",
                              "allows_multiple_answers": False}},
]


def test_fuzz_telegram_updates() -> None:
    bot = Bot("123456:FUZZ-token")
    started = _start("telegram")

    @FUZZ
    @given(data=mutated(UPDATES) | st.dictionaries(st.text(max_size=16), JSON, max_size=6))
    def check(data: Any) -> None:
        _counted("telegram")
        if not isinstance(data, dict):
            return  # the webhook refuses anything but an object with a valid update_id (400)
        try:
            update = parse_update(data, bot)
            translate_update(update)
        except MalformedUpdate:
            pass  # quarantined with its reason, one log line

    check()
    _report("telegram", started)


# --- Web chat -----------------------------------------------------------------------------------

FRAMES = [{"text": "bonjour"}, {"button": "report:send"}, {"text": "x", "id": "abc-1"},
          {"session": "s" * 32, "start": True}, {"asset": "SEM-000123", "start": True}]


def test_fuzz_web_chat_frames() -> None:
    started = _start("web chat")

    @FUZZ
    @given(raw=mutated(FRAMES).map(lambda v: json.dumps(v, ensure_ascii=False)) | st.text(max_size=200),
           binary=st.binary(max_size=200))
    def check(raw: str, binary: bytes) -> None:
        _counted("web chat")
        for call in (lambda: to_inbound(raw, "t" * 32), lambda: parse_request(raw.encode("utf-8", "surrogatepass")),
                     lambda: parse_request(binary)):
            try:
                call()
            except FrameError:
                pass  # answered with a French error frame / a 400

    check()
    _report("web chat", started)


# --- E-mail -------------------------------------------------------------------------------------

def _mail(body: str, subject: str, sender: str, extra: dict[str, str]) -> bytes:
    """A mail as it comes off the wire: headers as given (not checked), UTF-8 or not."""
    headers = {"From": sender, "To": "guichet@sem.test", "Subject": subject, **extra}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode("utf-8", "surrogatepass")


HEADER_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)


def test_fuzz_email_parser() -> None:
    parser = MailParser("guichet@sem.test")
    started = _start("e-mail")
    well_formed = st.builds(
        _mail, st.text(max_size=300), HEADER_TEXT, st.sampled_from(["marie@ac-lyon.fr", "", "<>", "x@y", "Marie <m@a.fr>"]),
        st.dictionaries(st.sampled_from(["In-Reply-To", "References", "Reply-To", "Cc", "Content-Language"]),
                        HEADER_TEXT, max_size=3))

    @st.composite
    def corrupted(draw: st.DrawFn) -> bytes:
        raw = bytearray(draw(well_formed))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, max(len(raw) - 1, 0)))
            raw[at:at + draw(st.integers(0, 8))] = draw(st.binary(max_size=12))
        return bytes(raw)

    @FUZZ
    @given(raw=well_formed | corrupted() | st.binary(max_size=400))
    def check(raw: bytes) -> None:
        _counted("e-mail")
        parser(raw)  # never raises: an unreadable mail is held with its reason by the intake

    check()
    _report("e-mail", started)


# --- CSV imports --------------------------------------------------------------------------------

SCHOOLS_CSV = ("Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
               "Code_commune;Nom_commune\n0421001K;École Paul Bert;Ecole;Public;42218;Saint-Étienne\n")
ASSETS_CSV = ("tag;type;model;uai;room;owner;acquired_on;value\n"
              "SEM-000001;laptop;Dell;0421001K;salle 1;commune;2024-09-01;450,00\n")


@st.composite
def csv_bytes(draw: st.DrawFn, sample: str) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    text = draw(st.sampled_from([sample, sample.replace(";", ","), sample.replace(";", "\t")]))
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(";")
        cell = draw(st.integers(0, len(cells) - 1))
        cells[cell] = draw(st.text(max_size=30) | st.sampled_from(['"', '""x', "\x00", "a" * 140_000, "\r", "=cmd|' /C calc'!A0"]))
        lines[row] = ";".join(cells)
    raw = "\n".join(lines).encode(encoding, "replace")
    return raw if draw(st.booleans()) else raw + draw(st.binary(max_size=40))


def test_fuzz_csv_imports(db) -> None:
    started = _start("CSV")
    with asyncio.Runner() as runner:
        engine = create_engine(db.url)
        sessions = session_factory(engine)
        runner.run(seed(sessions))

        async def one(importer: Any, raw: bytes) -> None:
            async with sessions() as session:
                territory = (await session.scalars(select(Territory))).first()
                try:
                    await importer(session, territory, raw)
                except ImportFileError:
                    pass  # « fichier illisible … » in French, exit code 2, one line
                finally:
                    await session.rollback()

        @FUZZ
        @given(raw=csv_bytes(SCHOOLS_CSV) | st.binary(max_size=300), assets=csv_bytes(ASSETS_CSV))
        def check(raw: bytes, assets: bytes) -> None:
            _counted("CSV")
            runner.run(one(import_schools, raw))
            runner.run(one(import_assets, assets))

        try:
            check()
        finally:
            runner.run(engine.dispose())
    _report("CSV", started)


# --- API ----------------------------------------------------------------------------------------

ACTIONS = ["claim", "reply", "note", "ask", "resolve", "reroute", "unknown"]
BODIES = [{"body": "Nous arrivons"}, {"organisation": "sem", "reason": "Messagerie"}, {},
          {"school": "0421001K", "summary": "Vidéoprojecteur en panne", "description": "Ne s'allume plus"}]
QUERIES = ["page", "commune", "status", "school", "q", "limit", "tag", "organisation", "since"]


def test_fuzz_api(db) -> None:
    started = _start("API")
    with asyncio.Runner() as runner:
        engine = create_engine(db.url)
        sessions = session_factory(engine)

        async def setup() -> tuple[TestClient, Any, str]:
            world = await seed(sessions)
            client = TestClient(TestServer(agents_app(make_settings(), engine, sessions)))
            await client.start_server()
            return client, world, await _token(type("D", (), {"sessions": sessions})(), world.agents["a"])

        client, world, token = runner.run(setup())
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        references = list(world.refs.values()) + ["2026-00000", "\x00", "9" * 40]
        statuses: dict[int, int] = {}

        async def call(method: str, path: str, raw: bytes | None, params: dict[str, str]) -> None:
            async with client.request(method, path, data=raw, params=params, headers=headers) as response:
                body = await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
                assert response.status < 500, (method, path, raw, params, response.status, body[:500])
                if response.status >= 400 and response.content_type == "application/json":
                    message = json.loads(body)["error"]["message"]
                    assert isinstance(message, str) and message, body

        @FUZZ
        @given(
            action=st.sampled_from(ACTIONS), reference=st.sampled_from(references) | st.text(max_size=12),
            body=mutated(BODIES).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=80)
            | st.just(b"[" * 100_000),
            params=st.dictionaries(st.sampled_from(QUERIES), st.text(max_size=12) | st.integers().map(str), max_size=3),
        )
        def check(action: str, reference: str, body: bytes, params: dict[str, str]) -> None:
            _counted("API")
            quoted = reference.replace("/", "%2F").replace("?", "%3F").replace("#", "%23") or "x"
            runner.run(call("POST", f"/api/v1/tickets/{quoted}/actions/{action}", body, {}))
            runner.run(call("POST", "/api/v1/tickets", body, {}))
            runner.run(call("GET", "/api/v1/tickets", None, params))
            runner.run(call("GET", "/api/v1/schools", None, params))
            runner.run(call("GET", "/api/v1/assets", None, params))

        try:
            check()
        finally:
            runner.run(client.close())
            runner.run(engine.dispose())
    _report("API", started)
    print(f"API statuses: {dict(sorted(statuses.items()))}")
    assert statuses.get(200, 0) and statuses.get(422, 0) + statuses.get(400, 0), statuses  # the bodies got through


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL")
