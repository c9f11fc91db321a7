"""`fold` (one str.translate) gives exactly the per-character folding."""

from __future__ import annotations

import random

from nlu.text import fold, fold_char


def test_fold_matches_fold_char_on_random_text():
    """Accents, ligatures, apostrophes and ASCII fold as `fold_char` folds them one by one."""
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(32, 127)] + list("éèêàâçôûùïüœŒæÆ’‘´ÉÈÀÇ«» ")
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert fold(text) == "".join(fold_char(ch) for ch in text)
    assert fold("L’ŒUVRE de l’École") == "l'oeuvre de l'ecole"
