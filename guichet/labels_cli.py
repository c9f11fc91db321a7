"""`guichet labels`: the printable label sheet of a school's devices, on standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.errors import RecordNotFound
from desk.repositories import get_territory
from guichet.settings import Settings
from handlers.label_sheets import school_labels
from web.label_sheet import LabelLinks, render_sheet


async def label_sheet(sessions: async_sessionmaker[AsyncSession], settings: Settings, uai: str,
                      room: str | None, stdout: TextIO) -> int:
    async with sessions() as session:
        try:
            territory = await get_territory(session, settings.territory)
            sheet = await school_labels(session, territory.id, uai, room)
        except RecordNotFound:
            print(f"guichet: aucune école de code UAI {uai.strip()!r} dans le territoire {settings.territory!r}",
                  file=sys.stderr)
            return 2
    stdout.write(render_sheet(sheet, LabelLinks(settings.public_url, settings.telegram_bot_username)))
    return 0
