"""The Telegram channel's moving parts: PTB's Application for a token, its options, what runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import AIORateLimiter, Application

from bot.telegram.adapter import TelegramAdapter
from bot.telegram.http import AiohttpRequest
from bot.telegram.intake import UpdateIntake
from bot.telegram.pipeline import PipelineOptions, UpdatePipeline
from bot.telegram.sender import TelegramSender

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class TelegramOptions:
    """Tuning of the Telegram channel; the defaults are production's."""

    #: Telegram's flood limits (30 messages/s overall, 20/min per group) enforced client-side.
    rate_limit: bool = True
    #: A flood wait shorter than this is sat out in place; a longer one goes to the outbox.
    max_inline_wait: float = 2.0
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    #: Long-polling timeout (development mode without a webhook secret).
    poll_timeout: int = 10


@dataclass
class TelegramRuntime:
    """What runs while the app runs; `None` fields before start-up or when Telegram is off."""

    application: Application[Any, Any, Any, Any, Any, Any] | None = None
    adapter: TelegramAdapter | None = None
    pipeline: UpdatePipeline | None = None
    intake: UpdateIntake | None = None
    sender: TelegramSender | None = None
    polling: bool = False


def file_url_for(base_url: str) -> str | None:
    """The file download prefix matching a Bot API prefix: `…/bot` -> `…/file/bot`."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return None


def build_application(
    token: str, base_url: str | None, *, polling: bool, rate_limit: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's Application for our token and Bot API server; an Updater only for polling."""
    base_url = base_url or DEFAULT_BASE_URL
    builder = (
        Application.builder().token(token).base_url(base_url)
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    file_url = file_url_for(base_url)
    if file_url:
        builder = builder.base_file_url(file_url)
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter())
    if not polling:
        builder = builder.updater(None)
    return builder.build()
