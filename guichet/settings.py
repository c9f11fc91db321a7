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

#: A territory's slug, as its preset file is named.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _parse_pairs(value: str) -> dict[str, str]:
    """`slug:value,slug2:value2` as a dict (the value may hold colons: a Telegram token does)."""
    pairs: dict[str, str] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        slug, sep, item = part.partition(":")
        slug, item = slug.strip(), item.strip()
        if not sep or not item or not _SLUG.fullmatch(slug):
            raise ValueError(f"{part.split(':')[0]!r}…: expected slug:value pairs separated by commas")
        if slug in pairs:
            raise ValueError(f"names {slug} twice")
        pairs[slug] = item
    return pairs


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
    #: The territories this deployment serves, comma-separated slugs (`sem,saint-denis`); unset,
    #: the one of GUICHET_TERRITORY. The first is the default: `/chat`, the single Telegram
    #: token and mail address, the commands' default territory.
    territories: str = ""
    nlu: Literal["local", "rasa"] = "local"
    rasa_url: str | None = None
    nlu_fallback: bool = True
    telegram_token: str | None = None
    #: One bot per territory: `slug:token,slug2:token2` (GUICHET_TELEGRAM_TOKEN is the first
    #: territory's when this does not name it).
    telegram_tokens: str = ""
    telegram_base_url: str | None = None
    telegram_webhook_secret: str | None = None
    #: The bot's public username (without « @ »): the labels' QR codes open it with a deep link.
    telegram_bot_username: str | None = None
    #: Each other territory's bot username, `slug:username,...` (its labels' deep links).
    telegram_bot_usernames: str = ""
    #: Telegram's flood limits enforced client-side; off only against a Bot API server
    #: without them (a local test server, the benchmark).
    telegram_rate_limit: bool = True
    smtp_intake_port: int | None = Field(default=None, ge=1, le=65535)
    imap_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "guichet@localhost"
    #: The desk's address of each territory, `slug:address,...`: a mail's recipient picks its
    #: territory; a territory not listed (and a mail to none of them) takes GUICHET_MAIL_FROM's,
    #: the first territory.
    mail_addresses: str = ""
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

    @field_validator("territories")
    @classmethod
    def _slug_list(cls, value: str) -> str:
        slugs = [part.strip() for part in value.split(",") if part.strip()]
        if len(set(slugs)) != len(slugs):
            raise ValueError("names a territory twice")
        for slug in slugs:
            if not _SLUG.fullmatch(slug):
                raise ValueError(f"{slug!r} is not a territory slug (lowercase letters, digits and -)")
        return ",".join(slugs)

    @field_validator("telegram_bot_usernames")
    @classmethod
    def _usernames(cls, value: str) -> str:
        pairs = {slug: name.removeprefix("@") for slug, name in _parse_pairs(value).items()}
        for name in pairs.values():
            if not _BOT_USERNAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a Telegram username")
        return ",".join(f"{slug}:{name}" for slug, name in pairs.items())

    @field_validator("telegram_tokens", "mail_addresses")
    @classmethod
    def _pairs(cls, value: str) -> str:
        pairs = _parse_pairs(value)
        return ",".join(f"{slug}:{item}" for slug, item in pairs.items())

    @model_validator(mode="after")
    def _default_public_url(self) -> "Settings":
        if not self.public_url:
            self.public_url = listening_url(self.http_host, self.http_port)
        return self

    @model_validator(mode="after")
    def _served_territories(self) -> "Settings":
        served = self.served_territories
        if not self.territories:
            return self
        if "territory" in self.model_fields_set and self.territory != served[0]:
            raise ValueError(f"GUICHET_TERRITORY ({self.territory}) must be the first of GUICHET_TERRITORIES")
        self.territory = served[0]
        for name, pairs in (("GUICHET_TELEGRAM_TOKENS", self.telegram_tokens),
                            ("GUICHET_MAIL_ADDRESSES", self.mail_addresses),
                            ("GUICHET_TELEGRAM_BOT_USERNAMES", self.telegram_bot_usernames)):
            unknown = sorted(set(_parse_pairs(pairs)) - set(served))
            if unknown:
                raise ValueError(f"{name} names territories not served: {', '.join(unknown)}")
        return self

    @property
    def served_territories(self) -> list[str]:
        """The slugs this deployment serves, the default first."""
        return self.territories.split(",") if self.territories else [self.territory]

    def telegram_bot_tokens(self) -> dict[str, str]:
        """Each served territory's bot token (the single GUICHET_TELEGRAM_TOKEN is the first's)."""
        tokens = _parse_pairs(self.telegram_tokens)
        first = self.served_territories[0]
        if self.telegram_token and first not in tokens:
            tokens = {first: self.telegram_token, **tokens}
        return {slug: tokens[slug] for slug in self.served_territories if slug in tokens}

    def bot_username_of(self, slug: str) -> str | None:
        """The public username of `slug`'s bot (GUICHET_TELEGRAM_BOT_USERNAME: the first territory's)."""
        names = _parse_pairs(self.telegram_bot_usernames)
        if slug in names:
            return names[slug]
        return self.telegram_bot_username if slug == self.served_territories[0] else None

    def desk_addresses(self) -> dict[str, str]:
        """Each served territory's desk address, lowercased (GUICHET_MAIL_FROM by default)."""
        addresses = _parse_pairs(self.mail_addresses)
        return {slug: addresses.get(slug, self.mail_from).lower() for slug in self.served_territories}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The SQLite file of the embedded default, or None for a server database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return None if path in ("", ":memory:") else Path(path)


#: Fields whose value an error message must not repeat.
_SECRETS = {"telegram_token", "telegram_tokens", "telegram_webhook_secret", "session_secret"}


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "?"
        if not first["loc"]:  # a check across fields: its message names them, no value shown
            raise SettingsError(str(first["msg"]).removeprefix("Value error, ")) from None
        shown = "" if field in _SECRETS else f" (valeur : {first.get('input')!r})"
        raise SettingsError(f"GUICHET_{field.upper()}: {first['msg']}{shown}") from None
    if settings.nlu == "rasa" and not settings.rasa_url:
        raise SettingsError("GUICHET_RASA_URL is required when GUICHET_NLU=rasa")
    return settings
