"""The fast paths of `guichet triage` decide as the plain ones do (issue 17, speed).

- the parts of a two-problem message are parsed for routing only: same intent, confidence and
  main equipment as a full parse;
- routing pre-selects the rules by the triage facts: the same rule as trying every rule in order;
- the cache key is found from the data files' hash without parsing them;
- the compiled classifier's per-word sums, the lighter parses (`ranking=1`, entities later),
  the digit pre-test of the code patterns, the keywords' substring test and the territory of
  `triage` without the settings give what the plain paths give.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import yaml

from domain.vocabulary import AssetOwner, Equipment, Intent, SchoolStatus
from nlu import LocalNlu, load_training_data
from nlu.local import cache_key
from nlu.problems import problem_spans
from routing import decide, load_territory
from routing.rules import Facts, first_match
from routing.text import normalise

ROOT = Path(__file__).resolve().parents[2]
GREETINGS = ["", "bjr ", "Bonjour,\n", "Hello, "]
JOINS = [" et ", ". ", " ; autre souci : ", ", en plus "]
TAILS = ["", " merci", " svp c urgent", "\nCordialement,\nMme Martin", " salle 12", " (PC SEM-004512)"]


def _varied_messages(count: int) -> list[str]:
    """Messages built from the training texts (never from an evaluation file): greetings, two
    problems, codes, rooms, signatures, English words."""
    texts = [e.text for e in load_training_data().examples]
    rng = random.Random(17)
    out = []
    for _ in range(count):
        body = rng.choice(texts)
        if rng.random() < 0.6:
            body += rng.choice(JOINS) + rng.choice(texts)
        out.append(rng.choice(GREETINGS) + body + rng.choice(TAILS))
    return out + ["", "  ", "the projector is broken and the printer has no ink", "salle 3 CM2 2026-00042"]


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> LocalNlu:
    return LocalNlu(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


def test_routing_only_parse_equals_the_full_parse_on_varied_parts(nlu: LocalNlu) -> None:
    messages = _varied_messages(300)
    parts = [m[a:b] for m in messages for a, b in problem_spans(m)] + messages
    full = nlu.parse_many(parts)
    light = nlu.parse_many(parts, routing_only=True)
    assert len(parts) > 400
    for f, r in zip(full, light, strict=True):
        assert (r.text, r.intent, r.confidence, r.language) == (f.text, f.intent, f.confidence, f.language)
        assert r.equipment == f.equipment
        assert [e for e in f.entities if e.entity == "equipment"] == list(r.entities)
        assert r.intent_ranking == f.intent_ranking[:1]


def test_rules_preselected_by_facts_pick_the_rule_of_the_plain_scan() -> None:
    texts = ["", "la prise électrique est arrachée", "vol avec effraction, plainte déposée",
             "mot de passe ENT académique", "le filtrage bloque le site", "néon qui clignote"]
    checked = 0
    for name in ("sem", "saint-denis", "vienne-condrieu"):
        territory = load_territory(name)
        for intent, equipment, status, owner, text in itertools.product(
            Intent, [None, *Equipment], SchoolStatus, [None, *AssetOwner], texts
        ):
            decision = decide(territory, intent=intent, equipment=equipment, school_status=status,
                              asset_owner=owner, text=text)
            facts = Facts(intent, equipment, status,
                          territory.effective_owner(equipment, owner, school_status=status), normalise(text))
            rule = first_match(territory.rules, facts)
            assert rule is not None and decision.rule_id == rule.outcome.rule_id
            checked += 1
    assert checked == 3 * len(Intent) * (len(Equipment) + 1) * len(SchoolStatus) * (len(AssetOwner) + 1) * 6


def test_cache_key_without_parsing_equals_the_parsed_key(tmp_path: Path) -> None:
    data_dir = ROOT / "nlu" / "data"
    nlu = LocalNlu(data_dir, cache_dir=tmp_path)
    assert nlu._key_only() == cache_key(load_training_data(data_dir), nlu.variant)


def test_heldout_file_is_only_read_here_for_its_shape() -> None:
    """The held-out set stays out of these speed tests' inputs (they use training texts only)."""
    heldout = yaml.safe_load((ROOT / "nlu" / "heldout" / "messages.yml").read_text(encoding="utf-8"))
    held = {m["text"] for m in heldout["messages"]}
    assert not held & set(_varied_messages(300))


def test_word_summed_classifier_equals_the_entry_by_entry_scoring(nlu: LocalNlu, monkeypatch: pytest.MonkeyPatch) -> None:
    """Char n-grams summed per word (repeats corrected) give the probabilities of the plain
    sparse products, also when the word tables are emptied between batches."""
    import numpy as np

    from nlu import compiled

    classifier = nlu.compiled().classifier
    assert classifier is not None and classifier._split_blocks()
    messages = _varied_messages(400)
    monkeypatch.setattr(compiled, "WORD_MEMO_SIZE", 500)
    fast = np.vstack([classifier.predict_proba_many(messages[i : i + 37]) for i in range(0, len(messages), 37)])
    monkeypatch.setattr(compiled.CompiledClassifier, "_split_blocks", lambda self: False)
    plain = classifier.predict_proba_many(messages)
    assert np.abs(fast - plain).max() < 1e-12


def test_lighter_parses_keep_what_triage_reads(nlu: LocalNlu) -> None:
    """`ranking=1` keeps the ranking's head; `entities=False` + `with_entities` is the same parse."""
    messages = _varied_messages(200)
    parts = [m[a:b] for m in messages for a, b in problem_spans(m)]
    full = nlu.parse_many(messages)
    for f, r in zip(full, nlu.parse_many(messages, ranking=1), strict=True):
        assert (r.intent, r.confidence, r.entities, r.intent_ranking) == (f.intent, f.confidence, f.entities, f.intent_ranking[:1])
    routed = nlu.parse_many(parts, routing_only=True)
    later = [nlu.with_entities(p, routing_only=True) for p in nlu.parse_many(parts, routing_only=True, entities=False)]
    assert later == routed


def test_code_patterns_needing_a_digit() -> None:
    import re

    from nlu.entities import _needs_digit

    for pattern, needs in [(r"\b[A-Z]{3}-\d{6}\b", True), (r"\b20\d{2}-\d{3,7}\b", True), (r"x?[0-9]+", True),
                           (r"abc", False), (r"a|\d", False), (r"\d*", False), (r"[^0-9]", False), (r"[a-z0-9]+", False)]:
        assert _needs_digit(re.compile(pattern)) is needs, pattern


def test_keyword_literal_test_agrees_with_the_pattern() -> None:
    from routing.text import Keyword, any_found_in

    keywords = tuple(Keyword.parse(k) for k in ("prise", "vidéo*", "tableau numérique", "wifi"))
    for text in ("la prise est arrachee", "les prises", "videoprojecteur", "tableau numerique casse",
                 "un tableau", "wifi", "pas de wi fi", "surprise"):
        norm = normalise(text)
        for k in keywords:
            assert k.found_in(norm) is (k.pattern.search(norm) is not None)
        assert any_found_in(keywords, norm) is any(k.pattern.search(norm) is not None for k in keywords)


def test_triage_territory_without_settings_is_the_settings_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from guichet.cli import _triage_territory
    from guichet.settings import Settings

    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("GUICHET_")]:
        monkeypatch.delenv(name)
    assert _triage_territory(None) == Settings().territory
    assert _triage_territory("saint-denis") == "saint-denis"
    monkeypatch.setenv("GUICHET_TERRITORY", "saint-denis")
    assert _triage_territory(None) is None  # the settings decide
