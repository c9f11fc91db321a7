"""`guichet labels`: the printable label sheet of a school's devices, on standard output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.errors import RecordNotFound
from desk.repositories import get_territory
from guichet.settings import Settings
from handlers.label_sheets import school_labels
from web.label_sheet import LabelLinks, render_sheet


async def label_sheet(sessions: async_sessionmaker[AsyncSession], settings: Settings, uai: str,
                      room: str | None, stdout: TextIO, output: str = "html", destination: str | None = None) -> int:
    """The sheet on stdout (HTML), or in `destination`; a PDF needs a file or a pipe."""
    if output == "pdf" and destination is None and (not hasattr(stdout, "buffer") or stdout.isatty()):
        print("guichet: un PDF ne s'affiche pas dans le terminal : indiquez --output FICHIER.pdf "
              "ou redirigez la sortie vers un fichier.", file=sys.stderr)
        return 2
    async with sessions() as session:
        try:
            territory = await get_territory(session, settings.territory)
            sheet = await school_labels(session, territory.id, uai, room)
        except RecordNotFound:
            print(f"guichet: aucune école de code UAI {uai.strip()!r} dans le territoire {settings.territory!r}",
                  file=sys.stderr)
            return 2
    html = render_sheet(sheet, LabelLinks(settings.public_url, settings.telegram_bot_username))
    data: str | bytes = html
    if output == "pdf":
        from web.documents import pdf

        data = pdf(html)
    if destination is not None:
        path = Path(destination)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"{len(sheet.assets)} étiquette(s) écrite(s) dans {path}", file=stdout)
    elif isinstance(data, bytes):
        stdout.flush()
        stdout.buffer.write(data)  # type: ignore[attr-defined]
        stdout.buffer.flush()  # type: ignore[attr-defined]
    else:
        stdout.write(data)
    return 0
