"""How many devices a teacher names: one pure function read by every door's report."""

from __future__ import annotations

import pytest

from domain.formats import quantity_in


@pytest.mark.parametrize(("text", "expected"), [
    ("on nous a volé deux tablettes cette nuit", 2),
    ("3 PC ne démarrent plus", 3),
    ("les deux vidéoprojecteurs de la salle 4", 2),
    ("Deux iPad volés dans la classe", 2),
    ("douze ordinateurs portables à réinstaller", 12),
    ("deux nouvelles tablettes cassées", 2),
    ("la tablette est cassée", None),
    ("1 tablette", None),
    ("depuis deux jours le vidéoprojecteur ne s'allume plus", None),
    ("la classe de CM2 tablettes en panne", None),  # « CM2 » is a class, not a count
    ("", None),
])
def test_the_number_before_a_device_is_its_quantity(text: str, expected: int | None) -> None:
    assert quantity_in(text) == expected
