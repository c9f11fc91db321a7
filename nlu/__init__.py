"""Text -> intent, confidence and entities (DOMAIN.md §3).

`LocalNlu` is the embedded default (scikit-learn, trained from nlu/data at first use and
cached on disk); `RasaNlu` talks to a Rasa 3.6 server; `FallbackNlu` uses the local model
while the server is down. Every backend offers `async aparse(text) -> ParseResult`.
"""

from .backend import FallbackNlu, NluBackend, NluUnavailable
from .clarify import CLARIFY_THRESHOLD, Clarification, needs_clarification, suggest_threshold
from .entities import EntityExtractor
from .local import LocalNlu
from .result import EntitySpan, IntentScore, ParseResult
from .training_data import Example, TrainingData, TrainingDataError, load_training_data



def __getattr__(name: str) -> object:
    # The Rasa client imports aiohttp: loaded only when asked for (not by `guichet triage`).
    if name == "RasaNlu":
        from .rasa_backend import RasaNlu

        return RasaNlu
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CLARIFY_THRESHOLD",
    "Clarification",
    "EntityExtractor",
    "EntitySpan",
    "Example",
    "FallbackNlu",
    "IntentScore",
    "LocalNlu",
    "NluBackend",
    "NluUnavailable",
    "ParseResult",
    "RasaNlu",
    "TrainingData",
    "TrainingDataError",
    "load_training_data",
    "needs_clarification",
    "suggest_threshold",
]
