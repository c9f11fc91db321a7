"""One renderer for every channel: a resolution notice asks « Le problème est-il résolu ? » on
Telegram with the same buttons as in the web chat (regression: Telegram sent the bare text)."""

from __future__ import annotations

from tests.typo import plain

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.notifications import RESOLVED_QUESTION, render
from bot.telegram import TelegramSender, build_application
from desk.models import School, Ticket
from desk.outbox import Outgoing
from domain.vocabulary import Channel, Equipment, Intent, TicketStatus
from handlers.context import context_for
from handlers.notices import ticket_status
from handlers.report import ReportDraft, open_report
from handlers.ticket_status import move_status
from tests.conftest import Database
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import BotApiServer

CHAT = 737373


async def _ticket_in(demo: Database, status: TicketStatus) -> int:
    ctx = context_for("sem")
    async with demo.sessions.begin() as session:
        school = await session.scalar(select(School).where(School.status == "public").limit(1))
        outcome = await open_report(session, ctx, ReportDraft(
            text="le vidéoprojecteur de la classe de CP ne s'allume plus", intent=Intent.HARDWARE_FAILURE,
            channel=Channel.TELEGRAM, school_id=school.id, equipment=Equipment.PROJECTOR,
        ))
        ticket_id = outcome.tickets[0].ticket_id
        ticket = await session.scalar(select(Ticket).options(selectinload(Ticket.events)).where(Ticket.id == ticket_id))
        await move_status(session, ctx, ticket, status, actor_kind="agent", reason="Lampe changée.")
    return ticket_id


async def _send_on_telegram(demo: Database, bot_api: BotApiServer, row: Outgoing) -> dict:  # type: ignore[type-arg]
    """The outbox row through the real Telegram sender; the one sendMessage it made."""
    application = build_application(TOKEN, bot_api.base_url, polling=False, rate_limit=False)
    await application.initialize()
    try:
        await TelegramSender(application.bot, demo.sessions).send(row)
    finally:
        await application.shutdown()
    [sent] = bot_api.api.sent_to(CHAT)
    return sent


async def test_resolution_notice_has_the_same_buttons_on_telegram_and_in_the_web_chat(
    demo: Database, bot_api: BotApiServer,
) -> None:
    ticket_id = await _ticket_in(demo, TicketStatus.RESOLVED)
    row = Outgoing(1, "telegram", str(CHAT), None, "Votre demande est résolue : lampe changée.", None, ticket_id, 1)
    web = render(row, await ticket_status(demo.sessions, ticket_id))
    assert RESOLVED_QUESTION in plain(web.text)
    assert [b.payload for b in web.buttons] == [f"resolved:yes:{ticket_id}", f"resolved:no:{ticket_id}"]

    sent = await _send_on_telegram(demo, bot_api, row)
    assert sent["text"] == web.text
    keyboard = [[(k["text"], k["callback_data"]) for k in line] for line in sent["reply_markup"]["inline_keyboard"]]
    assert [pair for line in keyboard for pair in line] == [(b.label, b.payload) for b in web.buttons]


async def test_waiting_notice_offers_to_answer_on_telegram(demo: Database, bot_api: BotApiServer) -> None:
    ticket_id = await _ticket_in(demo, TicketStatus.WAITING)
    row = Outgoing(2, "telegram", str(CHAT), None, "Pouvez-vous préciser la salle ?", None, ticket_id, 1)
    sent = await _send_on_telegram(demo, bot_api, row)
    assert sent["reply_markup"]["inline_keyboard"] == [[{"text": "Répondre", "callback_data": f"add:{ticket_id}"}]]
