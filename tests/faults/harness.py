"""Teachers talking to real `guichet serve` processes through the Telegram webhook, as Telegram
does: every update posted again until a 2xx, the next one only once the bot has answered the
previous one (a person reads before tapping), every webhook status kept for the checks."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.telegram import SECRET_HEADER
from tests.faults.test_kill_during_webhooks import SECRET
from tests.telegram import updates as u
from tests.telegram.fake_bot_api import FakeBotApi

REFERENCE = re.compile(r"\b20\d\d-\d{5}\b")
#: Which button a hurried teacher presses, most wanted first, while a report is being filed.
PREFERRED = ("report:send", "kb:ko", "skip:", "eq:projector", "report:new", "dup:new", "report:open")
REPORTS = (
    "le vidéoprojecteur de la classe de CM2 ne s'allume plus",
    "l'imprimante de la salle des maîtres affiche une erreur papier",
    "plus d'internet depuis ce matin dans toute l'école",
    "la tablette numéro 4 ne charge plus",
)


@dataclass
class Webhooks:
    """Where updates go (one URL, or several taken in turn as a load balancer does) and what they answered."""

    urls: list[str]
    statuses: Counter[int] = field(default_factory=Counter)
    posted: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def post_until_acknowledged(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        while True:
            url = self.urls[next(self._turn) % len(self.urls)]
            try:
                async with http.post(url, json=update, headers={SECRET_HEADER: SECRET},
                                     timeout=aiohttp.ClientTimeout(total=10)) as response:
                    await response.read()
                    self.statuses[response.status] += 1
                    if 200 <= response.status < 300:
                        self.posted += 1
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                self.statuses[0] += 1  # no answer at all
            await asyncio.sleep(0.2)


class Teacher:
    """Onboards at a school, reports one problem and presses buttons until a reference shows."""

    def __init__(self, api: FakeBotApi, hooks: Webhooks, user_id: int, report: str, *, step_timeout: float = 45) -> None:
        self.api, self.hooks, self.user_id, self.report = api, hooks, user_id, report
        self.update_ids = itertools.count(user_id * 100)
        self.step_timeout = step_timeout
        self.reference: str | None = None
        self.stalled = False

    def _texts(self) -> list[str]:
        return [p.get("text", "") for p in self.api.sent_to(self.user_id)]

    def _buttons(self) -> list[str]:
        """The keyboard of the latest message, a repeated one ignored (a person sees it is the same)."""
        seen: set[str] = set()
        sent = []
        for params in self.api.sent_to(self.user_id):
            if params.get("text", "") not in seen:
                seen.add(params.get("text", ""))
                sent.append(params)
        markup = (sent[-1].get("reply_markup") if sent else None) or {"inline_keyboard": []}
        return [b.get("callback_data", "") for row in markup["inline_keyboard"] for b in row]

    async def _step(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        """Post one update and wait for the bot's answer; False when none came in time."""
        before = len(self._texts())
        await self.hooks.post_until_acknowledged(http, update)
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            count = len(self._texts())
            if count > before:
                await asyncio.sleep(0.4)  # a turn may say several things
                if len(self._texts()) == count:
                    return True
            await asyncio.sleep(0.05)
        self.stalled = True
        return False

    async def run(self, http: aiohttp.ClientSession, uai: str, school_id: int) -> None:
        steps = [
            u.text_update(next(self.update_ids), self.user_id, "/start"),
            u.text_update(next(self.update_ids), self.user_id, uai),
            u.callback_update(next(self.update_ids), self.user_id, f"school:{school_id}"),
            u.callback_update(next(self.update_ids), self.user_id, "role:teacher"),
            u.text_update(next(self.update_ids), self.user_id, self.report),
        ]
        for update in steps:
            if not await self._step(http, update):
                return
        for _ in range(8):
            found = [m.group(0) for t in self._texts() for m in [REFERENCE.search(t)] if m]
            if found:
                self.reference = found[0]
                return
            choice = next((b for want in PREFERRED for b in self._buttons() if b.startswith(want)), None)
            if choice is None:
                return
            if not await self._step(http, u.callback_update(next(self.update_ids), self.user_id, choice)):
                return


def delivered_vs_recorded(api: FakeBotApi, outbox: list[Any]) -> tuple[Counter[tuple[int, str]], Counter[tuple[int, str]]]:
    """(answers recorded but never delivered, answers delivered more often than recorded).

    A delivered text is the recorded body, or the body followed by the links Telegram cannot
    show as buttons (`bot.telegram.translate.render`): it counts for the longest body it starts with."""
    recorded = Counter((int(r.recipient), r.body) for r in outbox if r.channel == "telegram")
    bodies: dict[int, list[str]] = {}
    for chat, body in recorded:
        bodies.setdefault(chat, []).append(body)
    delivered: Counter[tuple[int, str]] = Counter()
    for call in api.calls_to("sendMessage"):
        if call.params.get("_status") != 200:
            continue
        chat, sent = int(call.params["chat_id"]), call.params["text"]
        matches = [b for b in bodies.get(chat, []) if sent == b or sent.startswith(b + "\n")]
        delivered[(chat, max(matches, key=len) if matches else sent)] += 1
    return recorded - delivered, delivered - recorded
