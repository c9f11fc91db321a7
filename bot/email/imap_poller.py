"""The IMAP poller: fetch unseen mail, process it, mark it \\Seen only once its outcome is committed."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import aioimaplib

from bot.email.parse import external_id
from desk import locks
from handlers.email_intake import EmailIntake, InboundStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["ImapConfig", "ImapPoller", "PollReport"]

log = logging.getLogger(__name__)

#: Statuses after which the mail needs nothing more from the mailbox.
FINAL = frozenset({InboundStatus.PROCESSED, InboundStatus.HELD, InboundStatus.IGNORED,
                   InboundStatus.QUARANTINED})


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    ssl: bool = False

    @classmethod
    def from_url(cls, url: str) -> ImapConfig:
        """`imap[s]://user:password@host:port/MAILBOX` (user and password URL-encoded)."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError("GUICHET_IMAP_URL must read imap[s]://user:password@host:port/MAILBOX")
        ssl = parts.scheme == "imaps"
        return cls(
            host=parts.hostname, port=parts.port or (993 if ssl else 143),
            user=unquote(parts.username), password=unquote(parts.password or ""),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX", ssl=ssl,
        )

    @property
    def lock_name(self) -> str:
        return f"imap:{self.user}@{self.host}:{self.port}/{self.mailbox}"[:200]


@dataclass
class PollReport:
    locked_out: bool = False
    fetched: int = 0
    seen: int = 0
    left_unseen: int = 0
    statuses: list[str] = field(default_factory=list)


class ImapPoller:
    """One mailbox, polled by at most one process at a time (a lock with expiry in `locks`)."""

    def __init__(
        self, config: ImapConfig, intake: EmailIntake, sessions: async_sessionmaker[AsyncSession],
        *, interval: float = 60.0, lock_ttl: timedelta = timedelta(minutes=2), timeout: float = 30.0,
        owner: str | None = None, batch: int = 100,
    ) -> None:
        self.config = config
        self.intake = intake
        self._sessions = sessions
        self.interval = interval
        self.lock_ttl = lock_ttl
        self.timeout = timeout
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch = batch

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; a failed poll is logged and tried again next interval."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except (ImapError, OSError, TimeoutError) as exc:  # the server, not us: one line
                log.warning("IMAP poll of %s failed, next in %.0f s: %s", self.config.lock_name, self.interval,
                            " ".join(str(exc).split())[:300] or type(exc).__name__)
            except Exception:  # noqa: BLE001 - the mailbox stays as it was; next poll retries
                log.exception("IMAP poll of %s failed", self.config.lock_name)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass

    async def _lock(self) -> bool:
        async with self._sessions.begin() as session:
            return await locks.acquire(session, self.config.lock_name, self.owner, self.lock_ttl)

    async def poll_once(self) -> PollReport:
        report = PollReport()
        if not await self._lock():
            report.locked_out = True
            return report
        client = self._client()
        try:
            await client.wait_hello_from_server()
            _ok(await client.login(self.config.user, self.config.password), "LOGIN")
            _ok(await client.select(self.config.mailbox), "SELECT")
            found = _ok(await client.uid_search("UNSEEN", charset=None), "SEARCH")
            uids = [u for line in found.lines[:1] for u in line.decode().split() if u.isdigit()]
            for uid in uids[: self.batch]:
                if not await self._lock():  # renew; someone took over after a long stall
                    break
                status = await self._one(client, uid)
                report.fetched += 1
                report.statuses.append(status)
                if status in FINAL:
                    _ok(await client.uid("store", uid, "+FLAGS", "(\\Seen)"), "STORE")
                    report.seen += 1
                else:
                    report.left_unseen += 1
        finally:
            try:
                await asyncio.wait_for(client.logout(), 5)
            except Exception:  # noqa: BLE001
                pass
            async with self._sessions.begin() as session:
                await locks.release(session, self.config.lock_name, self.owner)
        return report

    async def _one(self, client: Any, uid: str) -> str:
        # BODY.PEEK leaves \Seen alone: the flag is set only after the commit.
        response = _ok(await client.uid("fetch", uid, "(BODY.PEEK[])"), "FETCH")
        raw = _literal(response.lines)
        if raw is None:
            log.warning("IMAP uid %s: no message body in the answer", uid)
            return InboundStatus.RECEIVED.value
        receipt = await self.intake.store(raw, external_id=external_id(raw), source="imap", claim=True)
        return await self.intake.process(receipt.inbound_id, claimed=receipt.created)

    def _client(self) -> Any:
        if self.config.ssl:
            return aioimaplib.IMAP4_SSL(self.config.host, self.config.port, timeout=self.timeout)
        return aioimaplib.IMAP4(self.config.host, self.config.port, timeout=self.timeout)


class ImapError(RuntimeError):
    """The IMAP server refused a command."""


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {response.lines!r}"[:500])
    return response


def _literal(lines: list[Any]) -> bytes | None:
    """The message bytes of a FETCH answer (aioimaplib hands the literal as a bytearray)."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None
