"""Loading Rasa 3.x NLU YAML: annotations, synonyms, regexes, lookups and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.training_data import TrainingDataError, load_file, load_training_data, parse_example


def test_json_annotation_gives_plain_text_and_span() -> None:
    """A `[text]{"entity", "value"}` annotation is removed and its span points into the plain text."""
    ex = parse_example(
        'le [vidéoprojo]{"entity": "equipment", "value": "projector"} de la [salle 3](room)', "hardware_failure"
    )
    assert ex.text == "le vidéoprojo de la salle 3"
    eq, room = ex.entities
    assert (eq.entity, eq.value, ex.text[eq.start : eq.end]) == ("equipment", "projector", "vidéoprojo")
    assert (room.entity, room.value, ex.text[room.start : room.end]) == ("room", "salle 3", "salle 3")


def test_short_value_annotation() -> None:
    """`[text](entity:value)` sets the value."""
    ex = parse_example("l'[imprimante](equipment:printer) bourre", "hardware_failure")
    assert ex.entities[0].value == "printer"
    assert ex.text == "l'imprimante bourre"


def test_plain_brackets_are_text() -> None:
    """Brackets that are not an annotation stay in the text, as in Rasa."""
    ex = parse_example("appuyer sur [Entrée] puis redémarrer", "howto")
    assert ex.text == "appuyer sur [Entrée] puis redémarrer"
    assert ex.entities == ()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('le [projo]{"entity": "equipment", "value": } est cassé', "invalid JSON"),
        ('le [projo]{"value": "projector"} est cassé', 'no "entity"'),
        ("le [projo](equipment est cassé", "malformed entity annotation"),
        ("le [projo(equipment) est cassé", "malformed entity annotation"),
        ("le [](equipment) est cassé", "malformed entity annotation"),
    ],
)
def test_malformed_annotations_name_file_and_example(raw: str, fragment: str) -> None:
    """A broken annotation raises TrainingDataError naming the source and quoting the example."""
    with pytest.raises(TrainingDataError) as err:
        parse_example(raw, "hardware_failure", "incidents.yml (intent hardware_failure)")
    message = str(err.value)
    assert fragment in message
    assert "incidents.yml" in message
    assert raw in message


def test_malformed_file_error_names_the_file(tmp_path: Path) -> None:
    """Errors found while loading a directory name the offending file."""
    bad = tmp_path / "incidents.yml"
    bad.write_text(
        'version: "3.1"\nnlu:\n- intent: theft\n  examples: |\n    - vol du [portable](equipment\n',
        encoding="utf-8",
    )
    with pytest.raises(TrainingDataError, match=r"incidents\.yml.*vol du \[portable\]\(equipment"):
        load_training_data(tmp_path)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    """Broken YAML is a TrainingDataError with the file name."""
    bad = tmp_path / "requests.yml"
    bad.write_text("nlu:\n- intent: x\n  examples: |\n- : :\n  bad: [", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="requests.yml"):
        load_file(bad)


def test_load_directory(data_dir: Path) -> None:
    """Every file's examples, synonyms, regexes and lookups are merged."""
    data = load_training_data(data_dir)
    intents = set(data.intents)
    assert {"hardware_failure", "network_outage", "theft", "consumables", "ticket_status", "greet", "thanks"} <= intents
    assert data.synonyms["vidéoprojo"] == "projector"
    assert data.synonyms["VPI"] == "interactive_projector"
    # annotated values become synonyms too, as Rasa's EntitySynonymMapper does
    assert data.synonyms["tablettes"] == "tablet"
    assert data.regexes["asset_tag"] == (r"\b[A-Z]{3}-\d{6}\b",)
    assert "BCD" in data.lookups["room"]
    assert len(data.fingerprint) == 64


def test_fingerprint_changes_with_content(data_dir: Path) -> None:
    """Editing a data file changes the fingerprint (and so the model cache key)."""
    before = load_training_data(data_dir).fingerprint
    with (data_dir / "smalltalk.yml").open("a", encoding="utf-8") as fh:
        fh.write("    - yo\n")
    assert load_training_data(data_dir).fingerprint != before


def test_examples_as_list_of_text_items(tmp_path: Path) -> None:
    """The `examples: [{text: ...}]` variant of the format is read as well."""
    (tmp_path / "x.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples:\n  - text: |\n      bonjour\n  - text: salut\n',
        encoding="utf-8",
    )
    data = load_training_data(tmp_path)
    assert [ex.text for ex in data.examples] == ["bonjour", "salut"]


def test_missing_directory_is_empty(tmp_path: Path) -> None:
    """A missing data directory yields no examples rather than an exception."""
    assert load_training_data(tmp_path / "absent").examples == ()


def test_dump_round_trip(data_dir: Path, tmp_path: Path) -> None:
    """Writing the data back as Rasa YAML and reading it again gives the same examples."""
    from nlu.training_data import dump_yaml

    data = load_training_data(data_dir)
    out = tmp_path / "again"
    out.mkdir()
    (out / "all.yml").write_text(dump_yaml(data), encoding="utf-8")
    again = load_training_data(out)
    assert [(e.text, e.intent, e.entities) for e in again.examples] == [
        (e.text, e.intent, e.entities) for e in data.examples
    ]
    assert again.regexes == data.regexes and again.lookups == data.lookups
