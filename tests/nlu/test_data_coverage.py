"""The real training data in nlu/data (written by the data team) covers every intent.

DATA CONTRACT: these tests read nlu/data/*.yml itself, not fixtures. They fail while the
training data is missing or incomplete: that is intended (every intent of
domain.vocabulary.Intent must be learnable), so do not skip them.
"""

from __future__ import annotations

from collections import Counter

from domain.vocabulary import Equipment, Intent
from nlu.training_data import DEFAULT_DATA_DIR, load_training_data

MIN_EXAMPLES = 10


def test_every_intent_has_training_examples() -> None:
    """Each intent of the vocabulary has at least MIN_EXAMPLES examples in nlu/data."""
    counts = Counter(ex.intent for ex in load_training_data(DEFAULT_DATA_DIR).examples)
    missing = {i.value: counts.get(i.value, 0) for i in Intent if counts.get(i.value, 0) < MIN_EXAMPLES}
    assert not missing, f"intents with fewer than {MIN_EXAMPLES} examples in {DEFAULT_DATA_DIR}: {missing}"


def test_training_intents_are_known() -> None:
    """No example uses an intent name outside the vocabulary (a typo would be silently ignored)."""
    names = {ex.intent for ex in load_training_data(DEFAULT_DATA_DIR).examples}
    assert names <= {i.value for i in Intent}


def test_equipment_values_are_canonical() -> None:
    """Annotated equipment values and equipment synonyms use the canonical values."""
    data = load_training_data(DEFAULT_DATA_DIR)
    canonical = {e.value for e in Equipment}
    bad = {
        ent.value
        for ex in data.examples
        for ent in ex.entities
        if ent.entity == "equipment" and ent.value not in canonical
    }
    assert not bad, f"non-canonical equipment values: {sorted(bad)}"
