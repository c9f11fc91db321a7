"""A Bot API server on loopback for the tests and the benchmark: records every call.

It speaks the wire format python-telegram-bot's real HTTP client uses (form-encoded
parameters, JSON values for nested objects, `{"ok": ..., "result": ...}` answers) so the
adapter is exercised end to end without reaching Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Guichet",
    "username": "guichet_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    """One Bot API request as the server received it."""

    method: str
    params: dict[str, Any]
    at: float
    #: The bot's token the request came with (one server serves several bots).
    token: str = ""


@dataclass
class StoredFile:
    file_id: str
    path: str
    data: bytes
    size: int


@dataclass
class FakeBotApi:
    """State and behaviour of the fake server; tests arrange failures per chat."""

    token: str
    calls: list[Call] = field(default_factory=list)
    #: Tokens of further bots this server answers (one bot per territory).
    other_tokens: set[str] = field(default_factory=set)
    files: dict[str, StoredFile] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    #: chat id -> how many more sendMessage calls answer 429, and the retry_after to send.
    throttled_chats: dict[int, tuple[int, int]] = field(default_factory=dict)
    pending_updates: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _updates_event: asyncio.Event | None = None

    # --- arranging -----------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes, *, path: str | None = None, size: int | None = None) -> None:
        self.files[file_id] = StoredFile(
            file_id=file_id, path=path or f"documents/{file_id}", data=data,
            size=len(data) if size is None else size,
        )

    def push_update(self, update: Mapping[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        self.pending_updates.append(dict(update))
        if self._updates_event is not None:
            self._updates_event.set()

    # --- inspecting ----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int, token: str | None = None) -> list[dict[str, Any]]:
        """Parameters of every sendMessage accepted for `chat_id` (by the bot of `token` when given)."""
        return [
            c.params for c in self.calls
            if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id
            and c.params.get("_status") == 200 and (token is None or c.token == token)
        ]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0, **match: Any) -> list[Call]:
        """Wait until `count` calls of `method` (whose params contain `match`) were answered."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                c for c in self.calls_to(method)
                if all(str(c.params.get(k)) == str(v) for k, v in match.items())
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{count} call(s) to {method} {match} expected, saw {len(found)}: "
                    f"{[c.method for c in self.calls]}"
                )
            await asyncio.sleep(0.01)

    # --- serving -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _method(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token != self.token and token not in self.other_tokens:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request) if request.can_read_body else {}
        call = Call(method=method, params=params, at=time.monotonic(), token=token)
        self.calls.append(call)
        handler = getattr(self, f"_do_{method}", None)
        if handler is None:
            response = _error(404, "Not Found: method not found")
        else:
            response = await handler(params)
        params["_status"] = response.status
        return response

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.calls.append(Call(method="download", params={"path": path}, at=time.monotonic()))
        for stored in self.files.values():
            if stored.path == path:
                return web.Response(body=stored.data)
        return web.Response(status=404)

    # --- methods -------------------------------------------------------------------------

    async def _do_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _do_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.throttled_chats:
            remaining, retry_after = self.throttled_chats[chat_id]
            if remaining > 0:
                self.throttled_chats[chat_id] = (remaining - 1, retry_after)
                return _error(
                    429, f"Too Many Requests: retry after {retry_after}",
                    parameters={"retry_after": retry_after},
                )
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _do_sendDocument(self, params: dict[str, Any]) -> web.Response:
        upload = params["document"]  # a multipart file part, closed after the request
        params["document_content"] = upload.file.read()
        return _ok({
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT_USER,
            "caption": params.get("caption"),
            "document": {"file_id": f"doc-{upload.filename}", "file_unique_id": upload.filename,
                         "file_name": upload.filename},
        })

    async def _do_editMessageText(self, params: dict[str, Any]) -> web.Response:
        return _ok({
            "message_id": int(params.get("message_id", 0)),
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "text": params.get("text", ""),
        })

    async def _do_editMessageReplyMarkup(self, params: dict[str, Any]) -> web.Response:
        return await self._do_editMessageText(params)

    async def _do_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _do_setWebhook(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _do_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _do_getFile(self, params: dict[str, Any]) -> web.Response:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            return _error(400, "Bad Request: invalid file_id")
        if stored.size > 20_000_000:
            return _error(400, "Bad Request: file is too big")
        return _ok({
            "file_id": stored.file_id, "file_unique_id": f"u-{stored.file_id}",
            "file_size": stored.size, "file_path": stored.path,
        })

    async def _do_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        if not self.pending_updates and timeout:
            self._updates_event = asyncio.Event()
            try:
                await asyncio.wait_for(self._updates_event.wait(), min(timeout, 1.0))
            except TimeoutError:
                pass
            self._updates_event = None
        return _ok([u for u in self.pending_updates if u["update_id"] >= offset])


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


class BotApiServer:
    """Runs a `FakeBotApi` on 127.0.0.1 at a free port; `base_url` is what GUICHET_TELEGRAM_BASE_URL takes."""

    def __init__(self, token: str) -> None:
        self.api = FakeBotApi(token=token)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.api.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
