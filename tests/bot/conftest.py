"""Whole conversations through the real engine: real database, real local NLU, real KB and routing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import select

from bot.engine import DialogueEngine, RateLimit
from bot.messages import Inbound, InboundAttachment, Outbound
from tests.typo import plain
from desk.importers import import_assets, import_schools
from desk.models import School
from domain.uai import make_uai
from guichet.bootstrap import ensure_territory_from_preset
from domain.vocabulary import Channel
from handlers.context import context_for
from kb.search import KnowledgeBase
from nlu import LocalNlu

# Friday 20 November 2026, 10:00 in Paris.
FRIDAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PUBLIC_URL = "http://guichet.test"

FIRMINY_JF = make_uai("0421001")
FIRMINY_VH = make_uai("0421008")
SAINT_ETIENNE_JF = make_uai("0421015")
UNIEUX_JF = make_uai("0421022")
PRIVATE_SM = make_uai("0421029")

SCHOOLS_CSV = (
    "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
    "Adresse_1;Code_postal;Code_commune;Nom_commune;Mail\n"
    f"{FIRMINY_JF};École élémentaire Jules Ferry;Ecole;Public;1 rue A;42700;42095;Firminy;a@ac-lyon.fr\n"
    f"{FIRMINY_VH};École primaire Victor Hugo;Ecole;Public;2 rue B;42700;42095;Firminy;b@ac-lyon.fr\n"
    f"{SAINT_ETIENNE_JF};École élémentaire Jules Ferry;Ecole;Public;3 rue C;42000;42218;Saint-Étienne;c@ac-lyon.fr\n"
    f"{UNIEUX_JF};École maternelle Jules Ferry;Ecole;Public;4 rue D;42240;42316;Unieux;d@ac-lyon.fr\n"
    f"{PRIVATE_SM};École privée Sainte-Marie;Ecole;Privé;5 rue E;42000;42218;Saint-Étienne;e@ac-lyon.fr\n"
).encode()

ASSETS_CSV = (
    "tag;type;model;uai;room;owner;acquired_on;value\n"
    f"SEM-004512;projector;Epson EB-W51;{FIRMINY_JF};CM2;sem;2024-03-01;520\n"
    f"SEM-004513;tablet;Samsung Galaxy Tab A9+;{FIRMINY_JF};CE1;sem;2025-09-01;290\n"
    f"SEM-004514;printer;Brother HL-L5210DN;{FIRMINY_JF};Bureau de la direction;sem;2023-01-15;310\n"
).encode()


@pytest.fixture(scope="session")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNlu]:
    """One trained local NLU for the whole run (its cache in a private directory)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GUICHET_NLU_CACHE", str(tmp_path_factory.mktemp("nlu-cache")))
    model = LocalNlu()
    model.parse("bonjour")
    yield model
    mp.undo()


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_directory()


async def seed_territory(sessions) -> None:
    """The SEM preset with five schools (three named Jules Ferry) and three labelled devices."""
    async with sessions.begin() as session:
        territory = await ensure_territory_from_preset(session, "sem")
        report = await import_schools(session, territory, SCHOOLS_CSV)
        assert not report.rejected, report.summary()
        report = await import_assets(session, territory, ASSETS_CSV)
        assert not report.rejected, report.summary()


@dataclass
class Clock:
    now: datetime = FRIDAY

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Chat:
    """One sender talking to the engine; keeps the last answers to press their buttons."""

    engine: DialogueEngine
    sender: str = "teacher-1"
    channel: Channel = Channel.WEBCHAT
    ids: count = field(default_factory=lambda: count(1))
    last: list[Outbound] = field(default_factory=list)

    def _id(self) -> str:
        return f"{self.sender}-m{next(self.ids)}"

    async def send(self, inbound: Inbound) -> list[Outbound]:
        self.last = await self.engine.handle(inbound)
        return self.last

    async def say(self, text: str | None, **kw) -> list[Outbound]:
        return await self.send(Inbound(self.channel, self.sender, kw.pop("message_id", None) or self._id(), text=text, **kw))

    async def press(self, label_part: str) -> list[Outbound]:
        """Press the button of the last answers whose label contains `label_part`."""
        for reply in reversed(self.last):
            for b in reply.buttons:
                if label_part.lower() in plain(b.label).lower():
                    return await self.payload(b.payload)
        raise AssertionError(f"no button {label_part!r} in {[b.label for r in self.last for b in r.buttons]}")

    async def payload(self, payload: str) -> list[Outbound]:
        return await self.send(Inbound(self.channel, self.sender, self._id(), button=payload, kind="button"))

    async def start(self, payload: str | None = None) -> list[Outbound]:
        return await self.send(Inbound(self.channel, self.sender, self._id(), kind="start", start_payload=payload))

    async def photo(self, caption: str | None = None, data: bytes = b"\x89PNG fake image") -> list[Outbound]:
        att = InboundAttachment("photo.jpg", "image/jpeg", data, len(data))
        return await self.send(Inbound(self.channel, self.sender, self._id(), text=caption, kind="photo", attachments=(att,)))

    @property
    def text(self) -> str:
        return plain("\n".join(r.text for r in self.last))

    @property
    def labels(self) -> list[str]:
        return [plain(b.label) for r in self.last for b in r.buttons]

    async def onboard(self, school_text: str = FIRMINY_JF, role: str = "Enseignant") -> None:
        await self.say(school_text)
        await self.press("Jules Ferry — Firminy" if school_text == FIRMINY_JF else school_text)
        await self.press(role)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def desk_db(db) -> AsyncIterator:
    """The test database with the seeded territory."""
    await seed_territory(db.sessions)
    yield db


def make_engine(db, nlu, kb, clock, rate_limit: RateLimit = RateLimit()) -> DialogueEngine:
    return DialogueEngine(
        db.sessions, context_for("sem", now=clock), nlu, kb, public_url=PUBLIC_URL,
        now=clock, rate_limit=rate_limit,
    )


@pytest.fixture
def engine(desk_db, nlu, kb, clock) -> DialogueEngine:
    return make_engine(desk_db, nlu, kb, clock)


@pytest.fixture
def chat(engine) -> Chat:
    return Chat(engine)


async def school_id(db, uai: str) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(School.id).where(School.uai == uai))


