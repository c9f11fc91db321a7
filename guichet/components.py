"""The shared objects, built from settings once per process: NLU, knowledge base, territory context."""

from __future__ import annotations

from kb import KnowledgeBase
from nlu import FallbackNlu, LocalNlu, NluBackend, RasaNlu

from guichet.settings import Settings
from handlers.context import DeskContext, context_for

__all__ = ["Nlu", "build_context", "build_kb", "build_nlu"]


class Nlu:
    """The NLU chosen by settings (`GUICHET_NLU`, `GUICHET_NLU_FALLBACK`), and what to close."""

    def __init__(self, settings: Settings) -> None:
        self.local = LocalNlu()
        self.rasa: RasaNlu | None = None
        self.backend: NluBackend = self.local
        if settings.nlu == "rasa" and settings.rasa_url:
            self.rasa = RasaNlu(settings.rasa_url)
            self.backend = FallbackNlu(self.rasa, self.local) if settings.nlu_fallback else self.rasa

    def warm_up(self) -> None:
        """Train or load the cached local model (blocking: run it in a thread)."""
        self.local.parse("bonjour")

    async def close(self) -> None:
        if self.rasa is not None:
            await self.rasa.close()


def build_nlu(settings: Settings) -> Nlu:
    return Nlu(settings)


def build_kb() -> KnowledgeBase:
    """The tutorials, validated (a broken article stops the start with its file named)."""
    return KnowledgeBase.from_directory()


def build_context(settings: Settings) -> DeskContext:
    return context_for(settings.territory)
