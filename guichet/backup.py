"""`guichet backup FILE`: a consistent copy of the database while the desk keeps running.

SQLite: the online backup API (a snapshot, even while `guichet serve` writes), to a temporary
file renamed into place, so a half-written copy never carries the final name. PostgreSQL:
`pg_dump --format=custom` (restore with `pg_restore`), the password passed in the environment.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from guichet.settings import Settings

__all__ = ["backup"]


def backup(settings: Settings, target: Path, stdout: TextIO, stderr: TextIO | None = None) -> int:
    """Copy the configured database to `target`; 0 on success, 1 with one French line otherwise."""
    stderr = stderr or sys.stderr
    if target.exists() and target.is_dir():
        print(f"guichet: la sauvegarde doit être un fichier, pas un dossier : {target}", file=stderr)
        return 1
    if settings.is_sqlite:
        return _sqlite(settings, target, stdout, stderr)
    return _postgres(settings, target, stdout, stderr)


def _sqlite(settings: Settings, target: Path, stdout: TextIO, stderr: TextIO) -> int:
    source = settings.sqlite_path()
    if source is None or not source.exists():
        print(f"guichet: base SQLite introuvable : {source or settings.database_url}", file=stderr)
        return 1
    partial = target.with_name(target.name + ".partiel")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        with sqlite3.connect(source, timeout=30) as src, \
                sqlite3.connect(partial) as dst:
            src.backup(dst)  # one step: a snapshot of the source, writers in WAL mode go on
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
        src.close()
        dst.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        print(f"guichet: sauvegarde impossible : {exc}", file=stderr)
        return 1
    print(f"sauvegarde SQLite écrite : {target} ({pages} pages)", file=stdout)
    return 0


def _postgres(settings: Settings, target: Path, stdout: TextIO, stderr: TextIO) -> int:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        print("guichet: pg_dump est introuvable : installez le client PostgreSQL (paquet postgresql-client) "
              "de la même version majeure que le serveur", file=stderr)
        return 1
    url = make_url(settings.database_url).set(drivername="postgresql")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(password=None).render_as_string(hide_password=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--file", str(target), "--dbname", dsn],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["?"])[-1]
        print(f"guichet: pg_dump a échoué : {reason}", file=stderr)
        return 1
    print(f"sauvegarde PostgreSQL écrite : {target} (restauration : pg_restore)", file=stdout)
    return 0
