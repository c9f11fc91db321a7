"""The Telegram channel: translate updates for the dialogue engine and deliver its replies."""

from bot.telegram.adapter import TelegramAdapter
from bot.telegram.pipeline import PipelineOptions, UpdatePipeline
from bot.telegram.runtime import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramOptions,
    TelegramRuntime,
    build_application,
)
from bot.telegram.sender import Blocked, TelegramRetryAfter, TelegramSender

__all__ = [
    "ALLOWED_UPDATES",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "Blocked",
    "PipelineOptions",
    "TelegramAdapter",
    "TelegramOptions",
    "TelegramRetryAfter",
    "TelegramRuntime",
    "TelegramSender",
    "UpdatePipeline",
    "build_application",
]
