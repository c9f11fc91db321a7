"""One turn of a conversation: everything a flow needs to answer one inbound message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TYPE_CHECKING


from bot.messages import Inbound, Outbound
from bot.state import DialogueState
from handlers.tutorials import log_deflection
from desk.models import Conversation, Requester, Territory
from handlers.context import DeskContext
from nlu import NluBackend

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class ArticleLike(Protocol):
    slug: str
    title: str
    summary: str


class KnowledgeBaseLike(Protocol):
    """What the engine needs from the knowledge base (kb.KnowledgeBase)."""

    def best_for(
        self, text: str, intent: str | None = None, equipment: str | None = None, min_score: float = ...
    ) -> Sequence[object]:
        """0-2 hits (with `.article`) or articles (slug, title, summary), best first."""
        ...

    def get(self, slug: str) -> ArticleLike | None:
        """The article with this slug, or None once it is withdrawn."""
        ...


class DeflectionLog(Protocol):
    """Records whether an offered tutorial solved the problem (default: `log_deflection`)."""

    async def __call__(
        self, session: AsyncSession, *, slug: str, solved: bool, channel: str,
        requester_id: int | None, ticket_id: int | None, at: datetime,
    ) -> None: ...


@dataclass
class Services:
    """The engine's collaborators, shared by every turn."""

    ctx: DeskContext
    nlu: NluBackend
    kb: KnowledgeBaseLike
    public_url: str
    record_deflection: DeflectionLog


@dataclass
class Turn:
    """The message being answered, its conversation and the open transaction."""

    session: AsyncSession
    services: Services
    inbound: Inbound
    #: Files that came with the message, stored before the turn (desk.models.Attachment ids).
    attachment_ids: tuple[int, ...]
    conversation: Conversation
    state: DialogueState
    territory: Territory
    requester: Requester | None
    now: datetime
    replies: list[Outbound] = field(default_factory=list)
    ticket_id: int | None = None  # a ticket this message opened or was added to

    @property
    def ctx(self) -> DeskContext:
        return self.services.ctx

    def say(self, text: str, buttons: Sequence[object] = (), links: Sequence[object] = ()) -> None:
        self.replies.append(Outbound(text, tuple(buttons), tuple(links)))  # type: ignore[arg-type]

    def kb_url(self, slug: str) -> str:
        return f"{self.services.public_url.rstrip('/')}/kb/{slug}"
