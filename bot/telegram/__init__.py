"""The Telegram channel: translate updates for the dialogue engine and deliver its replies."""

from bot.telegram.adapter import TelegramAdapter
from bot.telegram.app import (
    DIALOGUE_ENGINE,
    OUTBOX_DISPATCHER,
    TELEGRAM_OPTIONS,
    TELEGRAM_SENDER,
    TelegramOptions,
    TelegramRuntime,
    build_application,
    setup_telegram,
    telegram_key,
)
from bot.telegram.pipeline import PipelineOptions, UpdatePipeline
from bot.telegram.sender import Blocked, TelegramRetryAfter, TelegramSender

__all__ = [
    "DIALOGUE_ENGINE",
    "OUTBOX_DISPATCHER",
    "TELEGRAM_OPTIONS",
    "TELEGRAM_SENDER",
    "Blocked",
    "PipelineOptions",
    "TelegramAdapter",
    "TelegramOptions",
    "TelegramRetryAfter",
    "TelegramRuntime",
    "TelegramSender",
    "UpdatePipeline",
    "build_application",
    "setup_telegram",
    "telegram_key",
]
