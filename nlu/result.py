"""What every NLU backend returns, convertible to and from Rasa's `/model/parse` JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.vocabulary import EntityType, Equipment, Intent

#: Rasa's FallbackClassifier intent, which Guichet reads as out of scope.
RASA_FALLBACK_INTENT = "nlu_fallback"
MAX_RANKING = 10
_EQUIPMENT_VALUES = frozenset(e.value for e in Equipment)


@dataclass(frozen=True, slots=True)
class IntentScore:
    """One line of the intent ranking."""

    intent: Intent
    confidence: float


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """An entity found in the text: `text[start:end]` is the surface, `value` the canonical value."""

    entity: str
    value: str
    start: int
    end: int
    extractor: str
    confidence: float | None = None

    def to_rasa_json(self) -> dict[str, Any]:
        """Rasa's entity object (`confidence_entity` only when known)."""
        out: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": self.extractor,
        }
        if self.confidence is not None:
            out["confidence_entity"] = self.confidence
        return out

    @classmethod
    def from_rasa_json(cls, data: dict[str, Any]) -> EntitySpan:
        """Read one of Rasa's entity objects."""
        conf = data.get("confidence_entity")
        return cls(
            entity=str(data["entity"]),
            value=str(data.get("value", "")),
            start=int(data.get("start", 0)),
            end=int(data.get("end", 0)),
            extractor=str(data.get("extractor", "")),
            confidence=None if conf is None else float(conf),
        )


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Intent, confidence, ranking and entities of one message."""

    text: str
    intent: Intent
    confidence: float
    intent_ranking: tuple[IntentScore, ...] = ()
    entities: tuple[EntitySpan, ...] = field(default=())
    #: `fr`, `en` or `und` (nlu.language): the desk answers in French, the dialogue may say so.
    language: str = "fr"

    def entities_of(self, entity: EntityType | str) -> list[EntitySpan]:
        """The entities of one type, in text order."""
        return [e for e in self.entities if e.entity == entity]

    def first(self, entity: EntityType | str) -> str | None:
        """The value of the most confident entity of a type (the first on ties), or None."""
        spans = self.entities_of(entity)
        if not spans:
            return None
        best = max(spans, key=lambda e: (e.confidence if e.confidence is not None else 1.0))
        return best.value

    @property
    def equipment(self) -> str | None:
        """The equipment the message is about (the local backend keeps only the main one)."""
        return self.first(EntityType.EQUIPMENT)

    def to_rasa_json(self) -> dict[str, Any]:
        """Exactly the shape of Rasa's `POST /model/parse` answer."""
        return {
            "text": self.text,
            "intent": {"name": str(self.intent), "confidence": self.confidence},
            "entities": [e.to_rasa_json() for e in self.entities],
            "intent_ranking": [
                {"name": str(s.intent), "confidence": s.confidence}
                for s in self.intent_ranking[:MAX_RANKING]
            ],
        }

    @classmethod
    def from_rasa_json(
        cls, data: dict[str, Any], *, fallback_intent: Intent = Intent.OUT_OF_SCOPE
    ) -> ParseResult:
        """Read a `/model/parse` answer; `nlu_fallback` and unknown intents become `fallback_intent`."""
        intent_obj = data.get("intent") or {}
        name = intent_obj.get("name")
        confidence = float(intent_obj.get("confidence") or 0.0)
        ranking: dict[Intent, float] = {}
        for item in data.get("intent_ranking") or []:
            mapped = _to_intent(item.get("name"), fallback_intent)
            conf = float(item.get("confidence") or 0.0)
            ranking[mapped] = max(conf, ranking.get(mapped, 0.0))
        intent = _to_intent(name, fallback_intent)
        ranking.setdefault(intent, confidence)
        ordered = sorted(ranking.items(), key=lambda kv: -kv[1])
        return cls(
            text=str(data.get("text", "")),
            intent=intent,
            confidence=confidence,
            intent_ranking=tuple(IntentScore(i, c) for i, c in ordered[:MAX_RANKING]),
            entities=tuple(span for span in (EntitySpan.from_rasa_json(e) for e in data.get("entities") or [])
                           if _known(span)),
        )


def _known(span: EntitySpan) -> bool:
    """Whether an entity's value is one the desk knows: DIET may tag « poste 3 » as equipment
    where no synonym maps it to a device type."""
    return span.entity != EntityType.EQUIPMENT or span.value in _EQUIPMENT_VALUES


def _to_intent(name: object, fallback: Intent) -> Intent:
    try:
        return Intent(str(name))
    except ValueError:
        return fallback
