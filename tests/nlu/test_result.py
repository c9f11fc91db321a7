"""ParseResult <-> Rasa `/model/parse` JSON."""

from __future__ import annotations

from domain.vocabulary import Intent
from nlu.result import EntitySpan, IntentScore, ParseResult

RASA_ANSWER = {
    "text": "le projo de la salle 3 est HS",
    "intent": {"name": "hardware_failure", "confidence": 0.91},
    "entities": [
        {
            "entity": "equipment",
            "start": 3,
            "end": 8,
            "confidence_entity": 0.99,
            "value": "projector",
            "extractor": "DIETClassifier",
            "processors": ["EntitySynonymMapper"],
        },
        {"entity": "room", "start": 15, "end": 22, "value": "salle 3", "extractor": "RegexEntityExtractor"},
    ],
    "intent_ranking": [
        {"name": "hardware_failure", "confidence": 0.91},
        {"name": "damage", "confidence": 0.05},
        {"name": "nlu_fallback", "confidence": 0.02},
    ],
    "text_tokens": [[0, 2], [3, 8]],
}


def test_from_rasa_json_reads_a_real_answer() -> None:
    """Intent, ranking and entities are read; extra keys are ignored."""
    result = ParseResult.from_rasa_json(RASA_ANSWER)
    assert result.intent is Intent.HARDWARE_FAILURE
    assert result.confidence == 0.91
    assert [s.intent for s in result.intent_ranking] == [Intent.HARDWARE_FAILURE, Intent.DAMAGE, Intent.OUT_OF_SCOPE]
    assert result.equipment == "projector"
    assert result.entities[1].confidence is None


def test_to_rasa_json_has_exactly_rasa_keys() -> None:
    """The output has Rasa's keys and nothing else; confidence_entity only when known."""
    out = ParseResult.from_rasa_json(RASA_ANSWER).to_rasa_json()
    assert set(out) == {"text", "intent", "intent_ranking", "entities"}
    assert set(out["intent"]) == {"name", "confidence"}
    assert all(set(r) == {"name", "confidence"} for r in out["intent_ranking"])
    assert set(out["entities"][0]) == {"entity", "start", "end", "value", "extractor", "confidence_entity"}
    assert set(out["entities"][1]) == {"entity", "start", "end", "value", "extractor"}


def test_round_trip() -> None:
    """to_rasa_json then from_rasa_json gives the same result."""
    result = ParseResult(
        "3 tablettes volées",
        Intent.THEFT,
        0.8,
        tuple(IntentScore(i, c) for i, c in [(Intent.THEFT, 0.8), (Intent.DAMAGE, 0.15), (Intent.HELP, 0.05)]),
        (
            EntitySpan("quantity", "3", 0, 1, "GuichetEntityExtractor", 0.9),
            EntitySpan("equipment", "tablet", 2, 11, "GuichetEntityExtractor", 1.0),
        ),
    )
    assert ParseResult.from_rasa_json(result.to_rasa_json()) == result


def test_ranking_is_capped_at_ten() -> None:
    """Like Rasa, at most ten intents are ranked."""
    ranking = tuple(IntentScore(i, 1 / 21) for i in Intent)
    out = ParseResult("x", Intent.GREET, 1 / 21, ranking).to_rasa_json()
    assert len(out["intent_ranking"]) == 10


def test_nlu_fallback_maps_to_out_of_scope() -> None:
    """Rasa's FallbackClassifier intent becomes out_of_scope, merged with a real out_of_scope."""
    result = ParseResult.from_rasa_json(
        {
            "text": "recette de la tarte",
            "intent": {"name": "nlu_fallback", "confidence": 0.7},
            "entities": [],
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.7},
                {"name": "out_of_scope", "confidence": 0.3},
                {"name": "printer_stuff_unknown", "confidence": 0.2},
            ],
        }
    )
    assert result.intent is Intent.OUT_OF_SCOPE
    assert [(s.intent, s.confidence) for s in result.intent_ranking] == [(Intent.OUT_OF_SCOPE, 0.7)]


def test_an_equipment_value_the_desk_does_not_know_is_dropped() -> None:
    """DIET tags « poste 3 » as equipment with no synonym to a device type: the dialogue would
    build an Equipment from it. Known devices and other entities stay."""
    answer = {
        "text": "le poste 3 et le vidéoprojecteur salle 2",
        "intent": {"name": "hardware_failure", "confidence": 0.9},
        "entities": [
            {"entity": "equipment", "value": "poste 3", "start": 3, "end": 10},
            {"entity": "equipment", "value": "projector", "start": 17, "end": 31},
            {"entity": "room", "value": "salle 2", "start": 32, "end": 39},
        ],
    }
    result = ParseResult.from_rasa_json(answer)
    assert result.equipment == "projector" and result.first("room") == "salle 2"
    assert [e.value for e in result.entities] == ["projector", "salle 2"]
