"""Notices by e-mail: the renderer every channel uses (`bot.notifications`), in a mail's terms.

A mail has no buttons: each button of the notice becomes the word to answer with
(« Répondez « oui » … »), which the intake reads back (`handlers.replies`); links are
written out under the text. Answers the intake wrote itself (acknowledgements) go as they are.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from domain.french import typography
from bot.notifications import RESOLVED_QUESTION, render
from desk.outbox import Outgoing
from handlers.notices import ticket_status
from handlers.satisfaction import rating_link

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from desk.outbox import Sender

__all__ = ["NoticeMailSender", "mail_text"]

#: How to answer each button by mail (the verbs of bot.payloads).
_ANSWERS = {
    "resolved": "Répondez simplement « oui » à ce message si le problème est réglé, ou « non » s'il persiste.",
    "add": "Pour compléter votre demande, répondez simplement à ce message.",
    "rate": "Vous pouvez nous donner votre avis en répondant par une note de 1 à 5.",
}
RATING_LINK_LABEL = "Ou donnez votre avis en un clic"


def mail_text(message: Outgoing, text: str, verbs: list[str], links: list[tuple[str, str]]) -> str:
    lines = [text]
    for verb in dict.fromkeys(verbs):
        answer = _ANSWERS.get(verb)
        if answer:
            lines.append(answer)
    for label, url in links:
        lines.append(f"{label} : {url}")
    return "\n\n".join(lines)


class NoticeMailSender:
    """Wraps the SMTP sender: agents' notices go out with the same words as on the other channels."""

    def __init__(self, inner: Sender, sessions: async_sessionmaker[AsyncSession], public_url: str = "") -> None:
        self._inner = inner
        self._sessions = sessions
        self._public_url = public_url

    async def send(self, message: Outgoing) -> None:
        if (message.payload or {}).get("kind") == "mail-reply" or message.ticket_id is None:
            await self._inner.send(message)
            return
        notice = render(message, await ticket_status(self._sessions, message.ticket_id))
        verbs = [b.payload.split(":", 1)[0] for b in notice.buttons]
        text = notice.text
        if "resolved" in verbs:
            question = typography(RESOLVED_QUESTION)
            text = text.replace(f"\n\n{question}", "").rstrip() + f"\n\n{question}"
        links = [(link.label, link.url) for link in notice.links]
        if "rate" in verbs:
            async with self._sessions.begin() as session:
                url = await rating_link(session, message.ticket_id, self._public_url)
            if url:
                links.append((RATING_LINK_LABEL, url))
        body = mail_text(message, text, verbs, links)
        await self._inner.send(replace(message, body=body))
