"""The three doors a teacher comes in by, driven over their real protocols.

- web chat: a websocket to `/chat/ws` of the whole application (`guichet.wiring.build_app`);
- Telegram: webhook POSTs to the application, the bot's messages read from a Bot API server on
  loopback (python-telegram-bot's real HTTP client talks to it);
- HTTP chat: JSON POSTs to `/chat/api/messages` and polls of the same path, the channel
  added by the README's « Adding a channel » recipe;
- e-mail: mails over SMTP to the application's intake, the desk's mails received by an SMTP
  server on loopback through the outbox dispatcher.

Each door offers the same teacher actions (report, add a message, answer a question, cancel,
answer « Le problème est-il résolu ? », rate). A chat presses the buttons the desk shows; an
e-mail writes the answer those buttons stand for. Nothing here decides anything: the scenario
suite checks that the desk ends in the same state whatever the door.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import count
from typing import Any, Protocol

import aiosmtplib
from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from bot.telegram import SECRET_HEADER, PipelineOptions, TelegramOptions
from tests.telegram import updates as u
from tests.typo import plain
from tests.telegram.fake_bot_api import BotApiServer
from web.keys import dispatcher_key, telegram_key

_ids = count(1)


class Door(Protocol):
    """What a teacher can do, whatever the door."""

    name: str

    async def start(self) -> None: ...

    async def report(self, text: str) -> None:
        """Report a problem in one message and see it through to the ticket."""

    async def deliver(self) -> None:
        """Let the desk's notices reach the teacher (one pass of the outbox)."""

    async def add_message(self, text: str) -> None:
        """Add a message to the ticket the last notice was about."""

    async def answer_question(self, text: str) -> None:
        """Answer the agent's question of the last notice."""

    async def cancel(self, reference: str) -> None: ...

    async def accept_other_problem(self) -> None:
        """Say « oui » to the desk's offer of a separate ticket for the other problem reported."""

    async def decline_other_problem(self) -> None:
        """Say « non » to that offer."""

    async def answer_resolution(self, solved: bool) -> None: ...

    async def rate(self, score: int) -> None: ...

    @property
    def text(self) -> str:
        """What the desk said last."""


# --- chats: the same dialogue behind a websocket or a Telegram webhook -----------------------


@dataclass
class _Chat:
    """The dialogue's buttons, pressed by label, on a door that shows them."""

    name: str = "chat"
    last: list[dict[str, Any]] = field(default_factory=list)

    async def _send_text(self, text: str) -> None: ...

    async def _send_button(self, payload: str) -> None: ...

    async def deliver(self) -> None: ...

    @property
    def text(self) -> str:
        return plain("\n".join(str(r.get("text") or "") for r in self.last))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [(plain(b["label"]), b["payload"]) for r in self.last for b in r.get("buttons") or ()]

    async def say(self, text: str) -> None:
        await self._send_text(text)

    async def press(self, label_part: str) -> None:
        for label, payload in reversed(self.buttons):
            if label_part.lower() in label.lower():
                await self._send_button(payload)
                return
        raise AssertionError(f"{self.name}: no button {label_part!r} in {[b[0] for b in self.buttons]}")

    async def onboard(self, uai: str) -> None:
        await self.say(uai)
        label, payload = self.buttons[0]  # the one school with this UAI
        await self._send_button(payload)
        await self.press("Enseignant")
        assert "Vous êtes inscrit" in self.text, self.text

    async def report(self, text: str) -> None:
        await self.say(text)
        await self._until_sent()

    async def accept_other_problem(self) -> None:
        assert "signale aussi un autre problème" in self.text, self.text
        await self.press("Oui, ouvrir une autre demande")
        await self._until_sent()

    async def decline_other_problem(self) -> None:
        await self.press("Non merci")

    async def _until_sent(self) -> None:
        for _ in range(8):  # a tutorial first, then only the missing questions, then the summary
            labels = [label for label, _ in self.buttons]
            if "Envoyer" in labels:
                await self.press("Envoyer")
                break
            if "Toujours en panne" in labels:
                await self.press("Toujours en panne")
            elif "Passer" in labels:
                await self.press("Passer")
            elif labels:
                await self.press(labels[0])
            else:
                break
        assert "20" in self.text, f"{self.name}: no reference in {self.text!r}"

    async def add_message(self, text: str) -> None:
        await self.press("Ajouter un message")
        await self.say(text)

    async def answer_question(self, text: str) -> None:
        await self.press("Répondre")
        await self.say(text)

    async def cancel(self, reference: str) -> None:
        await self.say(f"Je voudrais annuler ma demande {reference}")
        await self.press("Oui, l'annuler")

    async def answer_resolution(self, solved: bool) -> None:
        await self.press("Oui, c'est réglé" if solved else "Non, toujours pas")

    async def rate(self, score: int) -> None:
        await self.press(str(score))


@dataclass
class WebchatDoor(_Chat):
    """The web chat page's websocket."""

    client: TestClient[Any, Any] | None = None
    app: web.Application | None = None
    ws: ClientWebSocketResponse | None = None
    name: str = "webchat"
    session: str | None = None

    async def start(self) -> None:
        assert self.client is not None
        self.ws = await self.client.ws_connect("/chat/ws")
        self.last = await self._frames()
        self.session = next((f["session"] for f in self.last if f.get("session")), None)

    async def scan_label(self, tag: str) -> None:
        """Open the page a label's second QR code names: `/chat?asset=TAG`."""
        assert self.client is not None
        session = next((f["session"] for f in self.last if f.get("session")), self.session)
        if self.ws is not None:
            await self.ws.close()
        self.ws = await self.client.ws_connect(f"/chat/ws?asset={tag}" + (f"&session={session}" if session else ""))
        self.last = await self._frames()

    async def _frames(self, idle: float = 0.4) -> list[dict[str, Any]]:
        assert self.ws is not None
        frames = [await self.ws.receive_json(timeout=10)]
        while True:
            try:
                frames.append(await self.ws.receive_json(timeout=idle))
            except TimeoutError:
                return frames

    async def _send_text(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_json({"text": text})
        self.last = await self._frames()

    async def _send_button(self, payload: str) -> None:
        assert self.ws is not None
        await self.ws.send_json({"button": payload})
        self.last = await self._frames()

    async def deliver(self) -> None:
        assert self.app is not None
        await self.app[dispatcher_key].run_once()
        self.last = await self._frames()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


@dataclass
class HttpChatDoor(_Chat):
    """A page without websocket: each message is a POST, notices come from a poll."""

    client: TestClient[Any, Any] | None = None
    app: web.Application | None = None
    session: str | None = None
    name: str = "httpchat"
    shown: set[int] = field(default_factory=set)

    async def start(self) -> None:
        await self._post({"start": True})

    async def scan_label(self, tag: str) -> None:
        """The page opened from a label: its first request carries the device's tag."""
        await self._post({"start": True, "asset": tag})

    async def _post(self, body: dict[str, Any]) -> None:
        assert self.client is not None
        response = await self.client.post("/chat/api/messages", json={"session": self.session, **body,
                                                                      "id": f"m{next(_ids)}"})
        assert response.status == 200, await response.text()
        data = await response.json()
        self.session = data["session"]
        self.last = self._fresh(data["replies"])

    def _fresh(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Frames not shown yet (the client drops a frame whose id it already showed)."""
        new = [f for f in frames if f["id"] is None or f["id"] not in self.shown]
        self.shown.update(f["id"] for f in new if f["id"] is not None)
        return new

    async def _send_text(self, text: str) -> None:
        await self._post({"text": text})

    async def _send_button(self, payload: str) -> None:
        await self._post({"button": payload})

    async def deliver(self) -> None:
        assert self.client is not None and self.app is not None
        await self.app[dispatcher_key].run_once()  # other channels' rows; this one's wait for the poll
        response = await self.client.get("/chat/api/messages", params={"session": self.session or ""})
        assert response.status == 200, await response.text()
        self.last = self._fresh((await response.json())["messages"])


@dataclass
class TelegramDoor(_Chat):
    """A private chat with the bot: webhook updates in, sendMessage calls out."""

    client: TestClient[Any, Any] | None = None
    app: web.Application | None = None
    api: BotApiServer | None = None
    user_id: int = 515151
    secret: str = ""
    name: str = "telegram"
    _seen: int = 0

    async def start(self) -> None:
        await self._post(u.text_update(next(_ids) + 10_000, self.user_id, "/start"))

    async def scan_label(self, tag: str) -> None:
        """The label's main QR code: Telegram opens the bot with `/start asset-TAG`."""
        await self._post(u.text_update(next(_ids) + 10_000, self.user_id, f"/start asset-{tag}"))

    async def _post(self, update: dict[str, Any]) -> None:
        assert self.client is not None and self.app is not None and self.api is not None
        response = await self.client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: self.secret})
        assert response.status == 200
        pipeline = self.app[telegram_key].pipeline
        assert pipeline is not None
        await pipeline.drain()
        self._read()

    def _read(self) -> None:
        assert self.api is not None
        sent = self.api.api.sent_to(self.user_id)
        new, self._seen = sent[self._seen:], len(sent)
        self.last = [_telegram_frame(p) for p in new]

    async def _send_text(self, text: str) -> None:
        await self._post(u.text_update(next(_ids) + 10_000, self.user_id, text))

    async def _send_button(self, payload: str) -> None:
        await self._post(u.callback_update(next(_ids) + 10_000, self.user_id, payload))

    async def deliver(self) -> None:
        assert self.app is not None
        await self.app[dispatcher_key].run_once()
        self._read()


def _telegram_frame(params: dict[str, Any]) -> dict[str, Any]:
    keyboard = (params.get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [{"label": k["text"], "payload": k["callback_data"]} for row in keyboard for k in row
               if "callback_data" in k]
    return {"text": params.get("text", ""), "buttons": buttons}


# --- e-mail: no buttons, the written answers they stand for ----------------------------------


@dataclass
class EmailDoor:
    """A teacher's mailbox: she writes to the desk over SMTP and answers the desk's mails."""

    app: web.Application
    smtp_port: int
    received: list[Any]  # envelopes of the loopback SMTP server the desk sends through
    teacher: str
    desk_address: str
    name: str = "email"
    last_mail: EmailMessage | None = None
    _seen: int = 0

    async def start(self) -> None:
        return None

    @property
    def text(self) -> str:
        return plain(self.last_mail.get_content()) if self.last_mail is not None else ""

    async def _send(self, body: str, subject: str, in_reply_to: str | None = None) -> None:
        mail = EmailMessage()
        mail["From"] = self.teacher
        mail["To"] = self.desk_address
        mail["Subject"] = subject
        mail["Message-ID"] = f"<scenario-{next(_ids)}@ac-lyon.fr>"
        if in_reply_to:
            mail["In-Reply-To"] = in_reply_to
            mail["References"] = in_reply_to
        mail.set_content(body)
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=self.smtp_port, timeout=20)
        await self.deliver()

    async def deliver(self) -> None:
        await self.app[dispatcher_key].run_once()
        for _ in range(50):
            if len(self.received) > self._seen:
                break
            await asyncio.sleep(0.02)
        new, self._seen = self.received[self._seen:], len(self.received)
        mails = [email.message_from_bytes(env.content, policy=email.policy.default) for env in new]
        for mail in mails:
            if str(mail["To"]) == self.teacher:
                self.last_mail = mail  # type: ignore[assignment]

    async def _answer(self, body: str) -> None:
        assert self.last_mail is not None, "no mail from the desk to answer"
        await self._send(body, f"Re: {self.last_mail['Subject']}", str(self.last_mail["Message-ID"]))

    async def report(self, text: str) -> None:
        await self._send(f"Bonjour,\n\n{text}\n\nMerci,\nClaire Martin", "Signalement")
        assert "20" in self.text, f"email: no reference in {self.text!r}"

    async def add_message(self, text: str) -> None:
        await self._answer(text)

    async def answer_question(self, text: str) -> None:
        await self._answer(text)

    async def cancel(self, reference: str) -> None:
        await self._answer(f"Annulez ma demande {reference}, s'il vous plaît.")

    async def accept_other_problem(self) -> None:
        assert "signale aussi un autre problème" in self.text, self.text
        await self._answer("Oui, merci.")
        assert "demande séparée" in self.text and "20" in self.text, self.text

    async def decline_other_problem(self) -> None:
        await self._answer("Non, ce n'est pas la peine.")

    async def answer_resolution(self, solved: bool) -> None:
        await self._answer("Oui, merci !" if solved else "Non, toujours pas.")

    async def rate(self, score: int) -> None:
        await self._answer(f"{score}/5")


def telegram_options() -> TelegramOptions:
    return TelegramOptions(rate_limit=False, pipeline=PipelineOptions(sweep_interval=3600))
