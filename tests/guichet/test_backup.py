"""`guichet backup`: a consistent copy while the desk writes (SQLite), `pg_dump` on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from desk.db import create_engine
from desk.migrate import upgrade
from guichet.cli import main


def _rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, channel, external_id, status FROM inbound_messages ORDER BY id").fetchall()
    conn.close()
    return rows


def test_sqlite_backup_while_the_desk_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup taken during a stream of writes opens, passes the integrity check and holds a prefix of
    the rows; one taken after holds exactly the same rows and schema revision as the database."""
    source = tmp_path / "guichet.db"
    url = f"sqlite+aiosqlite:///{source}"

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)  # WAL mode, as `guichet serve` runs it
        await engine.dispose()

    asyncio.run(migrate())
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    stop = threading.Event()
    written = []

    def writer() -> None:
        conn = sqlite3.connect(source, timeout=30)
        n = 0
        while not stop.is_set() and n < 20_000:
            with conn:
                conn.executemany(
                    "INSERT INTO inbound_messages (channel, external_id, received_at, payload, status, attempts)"
                    " VALUES ('webchat', ?, '2026-12-03 10:00:00', '{}', 'received', 0)",
                    [(f"m{n + i}",) for i in range(20)])
            n += 20
            written.append(n)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not written or written[-1] < 200:
            stop.wait(0.01)
        during = tmp_path / "during.db"
        out = io.StringIO()
        assert main(["backup", str(during)], stdout=out) == 0
        assert "sauvegarde SQLite écrite" in out.getvalue()
    finally:
        stop.set()
        thread.join(30)
    copy = _rows(during)
    with sqlite3.connect(during) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    final = _rows(source)
    assert 200 <= len(copy) < len(final) and copy == final[: len(copy)]
    assert len(copy) % 20 == 0  # whole transactions only

    after = tmp_path / "after.db"
    assert main(["backup", str(after)], stdout=io.StringIO()) == 0
    assert _rows(after) == final
    with sqlite3.connect(after) as a, sqlite3.connect(source) as s:
        assert a.execute("SELECT version_num FROM alembic_version").fetchall() == \
            s.execute("SELECT version_num FROM alembic_version").fetchall()
    a.close()
    s.close()
    assert not list(tmp_path.glob("*.partiel"))


def test_sqlite_backup_of_a_missing_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No database file: exit 1 with one French line, no copy."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}")
    assert main(["backup", str(tmp_path / "copy.db")], stdout=io.StringIO()) == 1
    assert "base SQLite introuvable" in capsys.readouterr().err
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None
                    or not os.environ.get("GUICHET_TEST_POSTGRES_URL"), reason="needs pg_dump and PostgreSQL")
async def test_postgres_backup_with_pg_dump(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the backup is a pg_dump archive that pg_restore lists, with the desk's tables."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setenv("GUICHET_DATABASE_URL", db.url)
    target = tmp_path / "guichet.dump"
    assert await asyncio.to_thread(main, ["backup", str(target)], io.StringIO()) == 0
    listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "TABLE public tickets" in listing.stdout


def test_postgres_backup_without_pg_dump_says_so(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Without pg_dump on the PATH: exit 1 and one French line saying what to install."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", "postgresql+asyncpg://guichet:secret@127.0.0.1:9/guichet")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["backup", str(tmp_path / "x.dump")], stdout=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "pg_dump est introuvable" in err and "secret" not in err
