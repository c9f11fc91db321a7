"""Ticket references `YYYY-NNNNN`, unique per territory, handed out without gaps or races."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import TicketCounter
from domain.formats import format_reference

__all__ = ["format_reference", "last_number", "next_reference"]


async def next_reference(session: AsyncSession, territory_id: int, year: int) -> str:
    """Increment the territory's counter for `year` atomically and return the new reference."""
    for _ in range(3):
        result = await session.execute(
            update(TicketCounter)
            .where(TicketCounter.territory_id == territory_id, TicketCounter.year == year)
            .values(last=TicketCounter.last + 1)
            .returning(TicketCounter.last)
        )
        number = result.scalar_one_or_none()
        if number is not None:
            return format_reference(year, number)
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(TicketCounter).values(territory_id=territory_id, year=year, last=1)
                )
            return format_reference(year, 1)
        except IntegrityError:
            continue  # another transaction created the row first: increment it
    raise RuntimeError("could not allocate a ticket reference")


async def last_number(session: AsyncSession, territory_id: int, year: int) -> int:
    value = await session.scalar(
        select(TicketCounter.last).where(
            TicketCounter.territory_id == territory_id, TicketCounter.year == year
        )
    )
    return value or 0
