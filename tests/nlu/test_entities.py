"""Entity extraction: equipment names, typos, the main device, codes, rooms and quantities."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.entities import EntityExtractor, equipment_accuracy
from nlu.training_data import load_training_data


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    """The extractor built from the built-in lexicon only."""
    return EntityExtractor.from_training_data(None)


def values(extractor: EntityExtractor, text: str, entity: str) -> list[str]:
    return [e.value for e in extractor.extract(text) if e.entity == entity]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le vidéoprojecteur de la classe ne s'allume plus", "projector"),
        ("le videoprojecteur fait du bruit", "projector"),
        ("le vidéo-projecteur clignote", "projector"),
        ("le projo est HS", "projector"),
        ("il faudrait fixer le VPI au mur", "interactive_projector"),
        ("le TBI ne répond plus au stylet", "interactive_display"),
        ("l'écran interactif reste noir", "interactive_display"),
        ("mon PC redémarre tout seul", "desktop"),
        ("l'ordinateur de la direction est lent", "desktop"),
        ("l'ordinateur portable ne charge plus", "laptop"),
        ("3 tablettes volées", "tablet"),
        ("les iPad ne se connectent pas", "tablet"),
        ("l'imprimante affiche une erreur", "printer"),
        ("le photocopieur est bloqué", "copier"),
        ("la borne wifi clignote", "wifi_access_point"),
        ("la box clignote rouge", "router"),
        ("le visualiseur ne s'allume pas", "document_camera"),
        ("les enceintes grésillent", "speaker"),
        ("un casque audio cassé", "headset"),
        ("le clavier ne tape plus", "keyboard_mouse"),
        ("la ligne téléphonique est coupée", "phone"),
        ("le tableau blanc est décroché", "whiteboard"),
        ("le chariot de recharge ne charge plus", "charging_cart"),
        ("la prise réseau est arrachée", "network_socket"),
        ("la clé HDMI ne se connecte plus", "display_dongle"),
        ("le NAS ne répond plus", "nas"),
    ],
)
def test_equipment_names(extractor: EntityExtractor, text: str, expected: str) -> None:
    """Common French names of the plan's devices map to their canonical value."""
    assert values(extractor, text, "equipment") == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'imprimente ne marche plus", "printer"),
        ("la tabelte ne charge plus", "tablet"),
        ("l'ordinnateur est bloqué", "desktop"),
        ("le videoprojecter s'éteint", "projector"),
        ("le visualiser est cassé", "document_camera"),
        ("LE VIDEOPROJECTEUR NE MARCHE PLUS", "projector"),
    ],
)
def test_typos_and_case(extractor: EntityExtractor, text: str, expected: str) -> None:
    """Misspelt or shouted device names are still recognised."""
    assert values(extractor, text, "equipment") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "le sourire des élèves",
        "je voudrais imprimer un document",
        "la porte de la classe est cassée",
        "on a un projet pour la rentrée",
        "merci pour votre aide",
        "la table est bancale",
    ],
)
def test_short_or_common_words_are_not_devices(extractor: EntityExtractor, text: str) -> None:
    """Fuzzy matching does not turn ordinary words into devices."""
    assert values(extractor, text, "equipment") == []


def test_main_device_is_the_subject(extractor: EntityExtractor) -> None:
    """With two devices named, the one after « sur le » is the context, not the subject."""
    assert values(extractor, "le portable ne s'affiche pas sur le vidéoprojecteur", "equipment") == ["laptop"]
    assert values(extractor, "écran noir sur le PC", "equipment") == ["desktop"]


def test_all_devices_on_request(extractor: EntityExtractor) -> None:
    """`keep_all` lists every device named, in text order."""
    spans = extractor.equipment("le portable ne s'affiche pas sur le vidéoprojecteur", keep_all=True)
    assert [s.value for s in spans] == ["laptop", "projector"]
    assert spans[0].confidence is not None and spans[0].confidence > spans[1].confidence  # type: ignore[operator]


def test_span_offsets_point_into_original_text(extractor: EntityExtractor) -> None:
    """Offsets are in the original text, accents and all."""
    text = "Écran noir : le vidéoprojecteur de la salle 3 ne démarre pas"
    for span in extractor.extract(text):
        assert text[span.start : span.end]
    eq = next(e for e in extractor.extract(text) if e.entity == "equipment")
    assert text[eq.start : eq.end] == "vidéoprojecteur"


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("étiquette ABC-123456 sur le PC", "asset_tag", "ABC-123456"),
        ("école 0421234A, le wifi ne marche pas", "school", "0421234A"),
        ("où en est ma demande 2024-0042 ?", "ticket_ref", "2024-0042"),
        ("ticket 2025-12345 toujours ouvert", "ticket_ref", "2025-12345"),
        ("école Jean Rostand : plus d'internet", "school", "Jean Rostand"),
    ],
)
def test_codes(extractor: EntityExtractor, text: str, entity: str, value: str) -> None:
    """Asset tags, UAI codes, ticket references and school names."""
    assert values(extractor, text, entity) == [value]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("le projo de la salle 3 est en panne", "salle 3"),
        ("dans la classe de CE1 le PC ne démarre pas", "classe de CE1"),
        ("en CM2 l'imprimante bourre", "CM2"),
        ("le TBI des CP ne marche plus", "CP"),
        ("plus de réseau en salle info", "salle info"),
        ("l'ordinateur de la BCD est lent", "BCD"),
        ("salle n°12 : écran noir", "salle n°12"),
    ],
)
def test_rooms(extractor: EntityExtractor, text: str, value: str) -> None:
    """Rooms from patterns and the lookup list."""
    assert values(extractor, text, "room") == [value]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cambriolage : 3 tablettes volées", ["3"]),
        ("trois ordinateurs portables cassés", ["3"]),
        ("il nous faudrait une dizaine de casques", ["10"]),
        ("vol de deux vidéoprojecteurs", ["2"]),
        ("le projo se coupe au bout de 10 min depuis 2 jours", []),
        ("le projo de la salle 3 est en panne", []),
        ("rendez-vous à 14h30", []),
    ],
)
def test_quantities(extractor: EntityExtractor, text: str, expected: list[str]) -> None:
    """Counts of things, but not durations, times or room numbers."""
    assert values(extractor, text, "quantity") == expected


def test_no_overlapping_entities(extractor: EntityExtractor) -> None:
    """A ticket reference is not also read as a quantity."""
    ents = extractor.extract("demande 2024-0042 pour 2 tablettes")
    spans = sorted((e.start, e.end) for e in ents)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert {e.entity for e in ents} == {"ticket_ref", "quantity", "equipment"}


def test_training_synonyms_extend_the_lexicon(tmp_path: Path) -> None:
    """A synonym from the data is recognised even if the built-in lexicon lacks it."""
    (tmp_path / "entities.yml").write_text(
        'version: "3.1"\nnlu:\n- synonym: interactive_display\n  examples: |\n    - Promethean\n',
        encoding="utf-8",
    )
    extractor = EntityExtractor.from_training_data(load_training_data(tmp_path))
    assert values(extractor, "le Promethean de la salle 2 est figé", "equipment") == ["interactive_display"]


def test_equipment_accuracy_on_fixture(data_dir: Path) -> None:
    """The measured accuracy counts examples annotated with equipment."""
    data = load_training_data(data_dir)
    extractor = EntityExtractor.from_training_data(data)
    scores = equipment_accuracy(extractor, data.examples)
    assert scores["examples"] >= 10
    assert scores["accuracy"] >= 0.9
