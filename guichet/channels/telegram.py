"""The Telegram channel inside the web application: PTB's Application, webhook, polling, outbox sender.

`setup_telegram(app)` is the extension `guichet.wiring` plugs in. It does nothing unless
GUICHET_TELEGRAM_TOKEN is set. With GUICHET_TELEGRAM_WEBHOOK_SECRET, Telegram delivers
updates to `POST /telegram/webhook`; without it (development) the bot polls getUpdates.
Either way an update is stored before it is acknowledged and processed in the background.

Several territories: one bot per territory (GUICHET_TELEGRAM_TOKENS), each with its own
intake, pipeline and adapter on its territory's dialogue engine; the default territory's bot
keeps `/telegram/webhook` and bare chat ids, another's takes `/t/<slug>/telegram/webhook` and
stores its chats as `slug/<chat id>` (`domain.addresses`). One outbox sender routes each row
to the bot of its recipient's territory.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.telegram.adapter import TelegramAdapter
from bot.telegram.inbox import chat_of
from bot.telegram.intake import UnstorableUpdate, UpdateIntake
from bot.telegram.pipeline import UpdatePipeline
from bot.telegram.runtime import (
    ALLOWED_UPDATES,
    DEFAULT_BASE_URL,
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramOptions,
    TelegramRuntime,
    build_application,
)
from bot.telegram.sender import TelegramSender, TelegramSenders
from guichet.settings import Settings
from handlers.notices import ReplySettler
from web.keys import (
    dialogue_key, dialogues_key, dispatcher_key, sessions_key, settings_key, telegram_key, telegram_options_key,
)

__all__ = ["SECRET_HEADER", "WEBHOOK_PATH", "setup_telegram", "telegram_bots_key", "telegram_context",
           "telegram_webhook", "webhook_path"]

#: The bot of each served territory that has a token, by slug (`telegram_key` is the first's).
telegram_bots_key: web.AppKey[dict[str, TelegramRuntime]] = web.AppKey("telegram_bots")
TERRITORY_WEBHOOK_PATH = "/t/{territory}" + WEBHOOK_PATH


def webhook_path(slug: str, default: str) -> str:
    """Where Telegram delivers the updates of `slug`'s bot."""
    return WEBHOOK_PATH if slug == default else f"/t/{slug}{WEBHOOK_PATH}"

log = logging.getLogger(__name__)


def setup_telegram(app: web.Application) -> None:
    """Plug the Telegram channel in when a bot token is set (GUICHET_TELEGRAM_TOKEN(S))."""
    settings = app[settings_key]
    tokens = settings.telegram_bot_tokens()
    if not tokens:
        return
    bots = {slug: TelegramRuntime() for slug in tokens}
    app[telegram_bots_key] = bots
    app[telegram_key] = next(iter(bots.values()))
    if settings.telegram_webhook_secret:
        default = settings.served_territories[0]
        if default in bots:
            app.router.add_post(WEBHOOK_PATH, telegram_webhook)
        if set(bots) - {default}:
            app.router.add_post(TERRITORY_WEBHOOK_PATH, telegram_webhook)
    app.cleanup_ctx.append(telegram_context)


async def telegram_context(app: web.Application) -> AsyncIterator[None]:
    """Every bot's life: getMe, recovery of stored updates, webhook or polling; stopped at cleanup."""
    settings = app[settings_key]
    default = settings.served_territories[0]
    bots = app[telegram_bots_key]
    engines = app.get(dialogues_key) or {}
    senders: dict[str, TelegramSender] = {}
    stops = []
    try:
        for slug, runtime in bots.items():
            namespace = "" if slug == default else slug
            engine = app[dialogue_key] if slug == default else engines[slug]
            stop = await _start_bot(app, runtime, settings.telegram_bot_tokens()[slug], engine,
                                    namespace=namespace, path=webhook_path(slug, default))
            stops.append(stop)
            assert runtime.sender is not None
            senders[namespace] = runtime.sender
        if dispatcher_key in app:
            app[dispatcher_key].register("telegram", TelegramSenders(senders))
        yield
    finally:
        for stop in reversed(stops):
            await stop()


async def _start_bot(
    app: web.Application, runtime: TelegramRuntime, token: str, engine: Any, *, namespace: str, path: str,
) -> Callable[[], Any]:
    """Start one bot; the coroutine function that stops it."""
    settings = app[settings_key]
    sessions = app[sessions_key]
    options = app.get(telegram_options_key) or TelegramOptions(rate_limit=settings.telegram_rate_limit)
    polling = not settings.telegram_webhook_secret
    application = build_application(token, settings.telegram_base_url,
                                     polling=polling, rate_limit=options.rate_limit)
    settler = ReplySettler(sessions)
    adapter = TelegramAdapter(application.bot, engine, sessions, max_inline_wait=options.max_inline_wait,
                              settler=settler, namespace=namespace)
    pipeline = UpdatePipeline(adapter, application.bot, sessions, options.pipeline, namespace=namespace)
    intake = UpdateIntake(sessions, namespace=namespace)
    sender = TelegramSender(application.bot, sessions, max_inline_wait=options.max_inline_wait,
                            namespace=namespace)

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
        await _register_webhook(application, settings, path)
    runtime.application, runtime.adapter, runtime.pipeline = application, adapter, pipeline
    runtime.intake = intake
    runtime.sender, runtime.polling = sender, polling

    async def stop() -> None:
        runtime.pipeline = runtime.intake = None
        if polling and application.updater is not None and application.updater.running:
            await application.updater.stop()
        await pipeline.stop()
        await settler.drain()
        await intake.close()
        await application.stop()
        await application.shutdown()

    return stop


async def _register_webhook(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings,
                            path: str = WEBHOOK_PATH) -> None:
    """Point Telegram at our webhook when the public URL is one Telegram accepts (HTTPS)."""
    url = settings.public_url.rstrip("/") + path
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
        try:
            row_id = await intake.store(data)
        except UnstorableUpdate:  # logged by the intake, with the database's reason
            return
        if row_id is not None:
            pipeline.submit(row_id, chat_of(data), data)

    return on_update


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_body(raw: bytes) -> Any:
    """Telegram sends UTF-8 JSON whatever the Content-Type says; NaN and Infinity are refused
    (the database's JSON would refuse them later, and Telegram would retry forever)."""
    return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)


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
    slug = request.match_info.get("territory", settings.served_territories[0])
    runtime = request.app[telegram_bots_key].get(slug)
    if runtime is None:
        raise web.HTTPNotFound()
    pipeline, intake = runtime.pipeline, runtime.intake
    if pipeline is None or intake is None:
        raise web.HTTPServiceUnavailable()
    try:
        data = _json_body(await request.read())
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, NaN; too deep
        log.warning("Telegram webhook: rejected a body that is not JSON (%s: %.200s)", type(exc).__name__, exc)
        raise web.HTTPBadRequest(text="Corps de requête illisible : JSON attendu.") from None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**63:
        log.warning("Telegram webhook: rejected a JSON body without a valid update_id")
        raise web.HTTPBadRequest(text="Ce n'est pas une mise à jour Telegram : update_id manquant ou invalide.")
    with structlog.contextvars.bound_contextvars(update_id=update_id):
        try:
            row_id = await intake.store(data)
        except UnstorableUpdate:  # logged by the intake; a redelivery would be refused the same way
            raise web.HTTPBadRequest(text="Mise à jour Telegram refusée : ses données ne peuvent pas être enregistrées.") from None
        except Exception:  # the database is down: logged by the intake; Telegram will retry
            raise web.HTTPServiceUnavailable(text="stockage indisponible") from None
        if row_id is not None:
            pipeline.submit(row_id, chat_of(data), data)
        else:
            log.info("Telegram webhook: update %s already stored, not processed again", update_id)
    return web.Response(status=200)
