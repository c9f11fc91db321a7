"""`guichet labels`: the printable label sheet of a school's devices, on standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.errors import RecordNotFound
from desk.repositories import get_territory
from guichet.document_output import refuses_pdf_here, write_document
from guichet.settings import Settings
from handlers.label_sheets import school_labels
from web.label_sheet import LabelLinks, render_sheet


async def label_sheet(sessions: async_sessionmaker[AsyncSession], settings: Settings, uai: str,
                      room: str | None, stdout: TextIO, output: str = "html", destination: str | None = None) -> int:
    """The sheet on stdout (HTML), or in `destination`; a PDF needs a file or a pipe."""
    if refuses_pdf_here(output, destination, stdout):
        return 2
    async with sessions() as session:
        try:
            territory = await get_territory(session, settings.territory)
            sheet = await school_labels(session, territory.id, uai, room)
        except RecordNotFound:
            print(f"guichet: aucune école de code UAI {uai.strip()!r} dans le territoire {settings.territory!r}",
                  file=sys.stderr)
            return 2
    html = render_sheet(sheet, LabelLinks.for_territory(settings.public_url, settings.bot_username_of(settings.territory),
                                                        settings.territory, settings.served_territories[0]))
    data: str | bytes = html
    if output == "pdf":
        from web.documents import pdf

        data = pdf(html)
    write_document(data, stdout, destination, f"{len(sheet.assets)} étiquette(s) écrite(s)")
    return 0
