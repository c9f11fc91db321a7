"""Shared fixtures: a migrated database on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.db import create_engine, session_factory, storage
from desk.migrate import upgrade
from desk.models import Base

POSTGRES_ENV = "GUICHET_TEST_POSTGRES_URL"

# As `guichet` sets it: python-telegram-bot 22's timedelta durations (no deprecation warning).
os.environ.setdefault("PTB_TIMEDELTA", "true")


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


async def _create_postgres_database(base_url: str) -> str:
    name = f"guichet_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres_database(base_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole run."""
    urls = {"sqlite": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'guichet.db'}"}
    asyncio.run(_migrate(urls["sqlite"]))
    base = os.environ.get(POSTGRES_ENV)
    if base:
        urls["postgres"] = asyncio.run(_create_postgres_database(base))
        asyncio.run(_migrate(urls["postgres"]))
    yield urls
    if base:
        asyncio.run(_drop_postgres_database(base, urls["postgres"]))


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _database_up() -> None:
    """Each test starts with the process's view of the database « up » (`desk.db.storage`), whatever
    outage an earlier test simulated."""
    storage.reset()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, migrated_urls: dict[str, str]) -> AsyncIterator[Database]:
    """An empty, migrated database: SQLite always, PostgreSQL when GUICHET_TEST_POSTGRES_URL is set."""
    if request.param not in migrated_urls:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = migrated_urls[request.param]
    engine = create_engine(url)
    await _empty_tables(engine)
    yield Database(url=url, engine=engine, sessions=session_factory(engine))
    await engine.dispose()
