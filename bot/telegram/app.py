"""The Telegram channel inside the web application: PTB's Application, webhook, polling, outbox sender.

`setup_telegram(app)` is the extension `guichet.wiring` plugs in. It does nothing unless
GUICHET_TELEGRAM_TOKEN is set. With GUICHET_TELEGRAM_WEBHOOK_SECRET, Telegram delivers
updates to `POST /telegram/webhook`; without it (development) the bot polls getUpdates.
Either way an update is stored before it is acknowledged and processed in the background.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.telegram.adapter import Engine, TelegramAdapter
from bot.telegram.http import AiohttpRequest
from bot.telegram.inbox import chat_of
from bot.telegram.intake import UpdateIntake
from bot.telegram.pipeline import PipelineOptions, UpdatePipeline
from bot.telegram.sender import TelegramSender
from guichet.settings import Settings
from web.app import services_key, sessions_key, settings_key

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
DEFAULT_BASE_URL = "https://api.telegram.org/bot"

#: Names in `app[services_key]` (looked up at start-up, so extension order does not matter).
DIALOGUE_ENGINE = "dialogue_engine"  # the DialogueEngine (guichet.wiring's dialogue context)
OUTBOX_DISPATCHER = "outbox_dispatcher"  # desk.outbox.OutboxDispatcher, to register our sender
TELEGRAM_SENDER = "sender:telegram"  # published for a dispatcher that starts after us
TELEGRAM_OPTIONS = "telegram_options"  # a TelegramOptions override (benchmark, tests)


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


telegram_key = web.AppKey("telegram", TelegramRuntime)


def file_url_for(base_url: str) -> str | None:
    """The file download prefix matching a Bot API prefix: `…/bot` -> `…/file/bot`."""
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return None


def build_application(
    settings: Settings, *, polling: bool, rate_limit: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's Application for our token and Bot API server; an Updater only for polling."""
    assert settings.telegram_token
    base_url = settings.telegram_base_url or DEFAULT_BASE_URL
    builder = (
        Application.builder().token(settings.telegram_token).base_url(base_url)
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


def setup_telegram(app: web.Application) -> None:
    """Plug the Telegram channel in when GUICHET_TELEGRAM_TOKEN is set."""
    settings = app[settings_key]
    if not settings.telegram_token:
        return
    app[telegram_key] = TelegramRuntime()
    if settings.telegram_webhook_secret:
        app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    app.cleanup_ctx.append(telegram_context)


async def telegram_context(app: web.Application) -> AsyncIterator[None]:
    """The bot's life: getMe, recovery of stored updates, webhook or polling; stopped at cleanup."""
    settings = app[settings_key]
    sessions: async_sessionmaker[AsyncSession] = app[sessions_key]
    services = app[services_key]
    options: TelegramOptions = services.get(TELEGRAM_OPTIONS) or TelegramOptions(
        rate_limit=settings.telegram_rate_limit
    )
    runtime = app[telegram_key]
    polling = not settings.telegram_webhook_secret
    application = build_application(settings, polling=polling, rate_limit=options.rate_limit)
    engine: Engine | None = services.get(DIALOGUE_ENGINE)
    if engine is None:
        raise RuntimeError("the Telegram channel needs the dialogue engine: put setup_dialogue before setup_telegram")
    adapter = TelegramAdapter(application.bot, engine, sessions, max_inline_wait=options.max_inline_wait)
    pipeline = UpdatePipeline(adapter, application.bot, sessions, options.pipeline)
    intake = UpdateIntake(sessions)
    sender = TelegramSender(application.bot, sessions, max_inline_wait=options.max_inline_wait)
    services[TELEGRAM_SENDER] = sender
    dispatcher = services.get(OUTBOX_DISPATCHER)
    if dispatcher is not None:
        dispatcher.register("telegram", sender)

    await application.initialize()  # getMe: a wrong token fails the start-up here
    await pipeline.start()  # its sweeper's first pass re-processes updates left `received`
    if polling:
        application.add_handler(TypeHandler(Update, _polled(intake, pipeline)))
    await application.start()
    if polling:
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, timeout=options.poll_timeout
        )
        log.info("Telegram: polling %s as @%s", settings.telegram_base_url or DEFAULT_BASE_URL,
                 application.bot.username)
    else:
        await _register_webhook(application, settings)
    runtime.application, runtime.adapter, runtime.pipeline = application, adapter, pipeline
    runtime.intake = intake
    runtime.sender, runtime.polling = sender, polling
    try:
        yield
    finally:
        runtime.pipeline = runtime.intake = None
        if polling and application.updater is not None and application.updater.running:
            await application.updater.stop()
        await pipeline.stop()
        await intake.close()
        await application.stop()
        await application.shutdown()


async def _register_webhook(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Point Telegram at our webhook when the public URL is one Telegram accepts (HTTPS)."""
    url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    if not url.startswith("https://"):
        log.info("Telegram: webhook expected at %s (set it with setWebhook; Telegram needs HTTPS)", url)
        return
    try:
        await application.bot.set_webhook(
            url, secret_token=settings.telegram_webhook_secret, allowed_updates=ALLOWED_UPDATES,
        )
    except TelegramError as exc:
        log.error("Telegram: setWebhook %s refused: %s", url, exc)


def _polled(
    intake: UpdateIntake, pipeline: UpdatePipeline
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
    """The polling path joins the webhook's: store the update, then process it in the background."""

    async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        data = update.to_dict()
        row_id = await intake.store(data)
        if row_id is not None:
            pipeline.submit(row_id, chat_of(data), data)

    return on_update


async def telegram_webhook(request: web.Request) -> web.Response:
    """Store the update, answer 200, process it in the background.

    403 on a wrong secret; 400 on a body that is not an update (a 5xx would make Telegram
    redeliver garbage forever); 503 while the bot is not started (Telegram retries).
    """
    settings = request.app[settings_key]
    expected = (settings.telegram_webhook_secret or "").encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not expected or not hmac.compare_digest(given, expected):
        log.warning("Telegram webhook: wrong secret from %s", request.remote)
        raise web.HTTPForbidden()
    runtime = request.app[telegram_key]
    pipeline, intake = runtime.pipeline, runtime.intake
    if pipeline is None or intake is None:
        raise web.HTTPServiceUnavailable()
    try:
        data = await request.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        log.warning("Telegram webhook: rejected a body that is not JSON (%s)", exc)
        raise web.HTTPBadRequest(text="not JSON") from None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        log.warning("Telegram webhook: rejected a JSON body without a valid update_id")
        raise web.HTTPBadRequest(text="not a Telegram update")
    try:
        row_id = await intake.store(data)
    except Exception:  # the database is down: logged by the intake; Telegram will retry
        raise web.HTTPServiceUnavailable(text="stockage indisponible") from None
    if row_id is not None:
        pipeline.submit(row_id, chat_of(data), data)
    else:
        log.info("Telegram webhook: update %s already stored, not processed again", update_id)
    return web.Response(status=200)
