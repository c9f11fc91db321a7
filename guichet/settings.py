"""Settings from the `GUICHET_*` environment variables (and an optional `.env`)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/guichet.db"


class SettingsError(Exception):
    """A configuration value is wrong; the message is one line for the operator."""


#: A Telegram username, as t.me links accept it.
_BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")

#: Hosts that mean « every interface »: a browser reaches them through the loopback.
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def listening_url(host: str, port: int) -> str:
    """The http URL of a server listening on host:port, as a browser on this machine types it."""
    host = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    """Everything `guichet` reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="GUICHET_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    territory: str = "sem"
    nlu: Literal["local", "rasa"] = "local"
    rasa_url: str | None = None
    nlu_fallback: bool = True
    telegram_token: str | None = None
    telegram_base_url: str | None = None
    telegram_webhook_secret: str | None = None
    #: The bot's public username (without « @ »): the labels' QR codes open it with a deep link.
    telegram_bot_username: str | None = None
    #: Telegram's flood limits enforced client-side; off only against a Bot API server
    #: without them (a local test server, the benchmark).
    telegram_rate_limit: bool = True
    smtp_intake_port: int | None = Field(default=None, ge=1, le=65535)
    imap_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "guichet@localhost"
    session_secret: str | None = None
    #: Where teachers' browsers reach this server (links in messages, cookies, CSRF origin).
    #: Unset: the address the server listens on (GUICHET_HTTP_HOST and GUICHET_HTTP_PORT).
    public_url: str = ""
    background: bool = True
    #: The HTTP chat (`/chat/api/messages`) for pages that cannot keep a websocket open.
    httpchat: bool = True
    #: Seconds a door has to deliver a turn's answers before the outbox dispatcher takes them
    #: over (the process died after the turn's commit), and between two dispatcher passes.
    reply_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    outbox_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: How long the outbox dispatcher holds the rows it claimed: after a crash, another pass (of
    #: this process restarted, or of another) sends them once it runs out.
    outbox_lease_seconds: float = Field(default=300.0, ge=5, le=86400)
    #: How long a mail being processed is held by its process, and the pause between two sweeps
    #: of stored mails waiting for an attempt: a mail whose process died is taken up again after
    #: at most the two together.
    mail_lease_seconds: float = Field(default=300.0, ge=5, le=86400)
    mail_retry_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: Seconds between two IMAP polls, and how long a poller's hold on the mailbox lasts without
    #: renewal (it renews before each mail): after a crash, another process polls within it.
    imap_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    imap_lock_seconds: float = Field(default=120.0, ge=5, le=3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: `json` (one object a line, for production), `console` (readable, for development) or
    #: `auto`: console on a terminal, JSON otherwise.
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("rasa_url", "telegram_base_url", "smtp_url", "imap_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("telegram_bot_username")
    @classmethod
    def _bot_username(cls, value: str | None) -> str | None:
        value = (value or "").strip().removeprefix("@")
        if not value:
            return None
        if not _BOT_USERNAME.fullmatch(value):
            raise ValueError("must be a Telegram username: 5 to 32 letters, digits or _, starting with a letter")
        return value

    @field_validator("session_secret")
    @classmethod
    def _fernet_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            if len(base64.urlsafe_b64decode(value.encode())) == 32:
                return value
        except ValueError:
            pass
        raise ValueError(
            "must be a Fernet key (32 bytes in URL-safe base64), e.g. the output of "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )

    @model_validator(mode="after")
    def _default_public_url(self) -> "Settings":
        if not self.public_url:
            self.public_url = listening_url(self.http_host, self.http_port)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The SQLite file of the embedded default, or None for a server database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return None if path in ("", ":memory:") else Path(path)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "?"
        raise SettingsError(
            f"GUICHET_{field.upper()}: {first['msg']} (valeur : {first.get('input')!r})"
        ) from None
    if settings.nlu == "rasa" and not settings.rasa_url:
        raise SettingsError("GUICHET_RASA_URL is required when GUICHET_NLU=rasa")
    return settings
