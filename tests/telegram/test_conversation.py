"""Whole conversations through the real engine: onboarding, a report, buttons, a photo."""

from __future__ import annotations

import re

from sqlalchemy import select

from web.keys import telegram_key
from desk.models import Attachment, OutboxMessage, School, Ticket
from tests.telegram import updates as u
from tests.telegram.conftest import MakeTelegram, Telegram

REFERENCE = re.compile(r"\b20\d\d-\d{5}\b")
#: Which button a hurried teacher presses, most wanted first, while a report is being filed.
PREFERRED = ("report:send", "kb:ko", "skip:", "eq:projector", "report:new", "dup:new", "report:open")


class Teacher:
    """A teacher chatting with the bot through webhook updates."""

    def __init__(self, telegram: Telegram, user_id: int) -> None:
        self.telegram, self.user_id, self.update_id = telegram, user_id, user_id * 100

    def _next(self) -> int:
        self.update_id += 1
        return self.update_id

    async def says(self, text: str) -> list[str]:
        return await self.telegram.say(u.text_update(self._next(), self.user_id, text))

    async def presses(self, payload: str) -> list[str]:
        return await self.telegram.say(u.callback_update(self._next(), self.user_id, payload))

    async def sends_photo(self, file_id: str, size: int, caption: str | None = None) -> list[str]:
        return await self.telegram.say(u.photo_update(self._next(), self.user_id, file_id, size, caption))

    def buttons(self) -> list[str]:
        sent = self.telegram.api.sent_to(self.user_id)
        markup = (sent[-1].get("reply_markup") if sent else None) or {"inline_keyboard": []}
        return [b.get("callback_data", "") for row in markup["inline_keyboard"] for b in row]

    async def onboard(self, uai: str) -> list[str]:
        texts = await self.says("/start")
        texts += await self.says(uai)
        school_buttons = [b for b in self.buttons() if b.startswith("school:") and b != "school:none"]
        texts += await self.presses(school_buttons[0])
        texts += await self.presses("role:teacher")
        return texts

    async def report(self, text: str) -> list[str]:
        """Describe a problem, then press the buttons that lead to a ticket, until a reference shows."""
        texts = await self.says(text)
        for _ in range(8):
            if any(REFERENCE.search(t) for t in texts):
                break
            buttons = self.buttons()
            choice = next((b for want in PREFERRED for b in buttons if b.startswith(want)), None)
            if choice is None:
                break
            texts += await self.presses(choice)
        return texts


async def _school(telegram: Telegram) -> School:
    async with telegram.app[telegram_key].adapter.sessions() as session:
        school = (await session.scalars(
            select(School).where(School.status == "public").order_by(School.uai)
        )).first()
    assert school is not None
    return school


async def test_onboarding_by_uai_then_a_report_gets_a_reference(make_telegram: MakeTelegram) -> None:
    """/start, the school's UAI, a button press, a broken projector: the reply carries the ticket reference."""
    telegram = await make_telegram()
    school = await _school(telegram)
    teacher = Teacher(telegram, 880001)
    texts = await teacher.onboard(school.uai)
    assert any(school.name in t for t in texts)
    assert telegram.api.calls_to("answerCallbackQuery")
    texts = await teacher.report("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    found = [m.group(0) for t in texts for m in [REFERENCE.search(t)] if m]
    assert found, texts
    async with telegram.app[telegram_key].adapter.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == found[0]))
    assert ticket is not None and ticket.channel == "telegram" and ticket.school_id == school.id
    assert len(telegram.api.calls_to("answerCallbackQuery")) == len(
        [c for c in telegram.api.calls if c.method == "answerCallbackQuery"]
    )


async def test_a_photo_is_stored_as_an_attachment(make_telegram: MakeTelegram) -> None:
    """A photo sent during a conversation is downloaded and stored by the engine."""
    telegram = await make_telegram()
    school = await _school(telegram)
    teacher = Teacher(telegram, 880002)
    await teacher.onboard(school.uai)
    telegram.api.add_file("cracked", b"\xff\xd8\xff\xe0 cracked screen", path="photos/file_9.jpg")
    texts = await teacher.sends_photo("cracked", 48_000, caption="écran fissuré sur le portable")
    assert texts
    async with telegram.app[telegram_key].adapter.sessions() as session:
        stored = (await session.scalars(select(Attachment))).all()
    assert [(a.content, a.content_type) for a in stored] == [(b"\xff\xd8\xff\xe0 cracked screen", "image/jpeg")]


async def test_stale_button_and_big_file_are_explained(make_telegram: MakeTelegram) -> None:
    """An unknown payload and a 25 MB file get a French explanation, never silence."""
    telegram = await make_telegram()
    school = await _school(telegram)
    teacher = Teacher(telegram, 880003)
    await teacher.onboard(school.uai)
    stale = await teacher.presses("bogus:1:2:3")
    assert any("plus valable" in t for t in stale), stale
    telegram.api.add_file("huge", b"", size=25_000_000)
    texts = await telegram.say(u.document_update(teacher._next(), teacher.user_id, "huge", 25_000_000, "film.mp4", "video/mp4"))
    assert any("20" in t and "Mo" in t for t in texts), texts


async def test_group_chat_is_refused_politely(make_telegram: MakeTelegram) -> None:
    """In a group that is not the agents' one the bot answers it only talks in private."""
    telegram = await make_telegram()
    texts = await telegram.say(u.group_update(1, 880004, -100999, "bonjour"))
    assert any("privée" in t for t in texts), texts


async def _outbox(telegram: Telegram) -> list[OutboxMessage]:
    async with telegram.app[telegram_key].adapter.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_every_answer_is_on_record_and_marked_sent_once_delivered(make_telegram: MakeTelegram) -> None:
    """The turn wrote its answers to the outbox; the adapter delivered them and said so."""
    telegram = await make_telegram()
    school = await _school(telegram)
    teacher = Teacher(telegram, 880011)
    texts = await teacher.onboard(school.uai)
    rows = await _outbox(telegram)
    assert len(rows) == len(telegram.api.sent_to(teacher.user_id)) and len(texts) >= len(rows)
    assert {(r.channel, r.recipient, r.status, r.attempts) for r in rows} == {
        ("telegram", str(teacher.user_id), "sent", 1)}


async def test_an_answer_telegram_defers_is_left_to_the_outbox_once(make_telegram: MakeTelegram) -> None:
    """A long 429: the answer's own row goes back to pending after retry_after; no second row."""
    telegram = await make_telegram()
    teacher = Teacher(telegram, 880012)
    telegram.api.throttled_chats[teacher.user_id] = (1, 120)
    assert await teacher.says("bonjour") == []
    [row] = await _outbox(telegram)
    assert (row.status, row.attempts, row.dedupe_key.startswith("reply:telegram:")) == ("pending", 1, True)
    assert (row.next_attempt_at - row.created_at).total_seconds() >= 120
