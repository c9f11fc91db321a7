"""Small Rasa-format training data written for the NLU tests (independent of nlu/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.local import clear_memory

INCIDENTS = """\
version: "3.1"
nlu:
- intent: hardware_failure
  examples: |
    - le [vidéoprojo]{"entity": "equipment", "value": "projector"} de la [salle 3](room) ne s'allume plus
    - l'[imprimante](equipment:printer) affiche une erreur
    - la [tablette]{"entity": "equipment", "value": "tablet"} ne charge plus
    - écran noir sur le [PC]{"entity": "equipment", "value": "desktop"}
    - le [projecteur]{"entity": "equipment", "value": "projector"} fait un bruit bizarre
    - mon [ordinateur]{"entity": "equipment", "value": "desktop"} redémarre sans arrêt
    - l'[imprimante]{"entity": "equipment", "value": "printer"} bourre à chaque impression
    - le [portable]{"entity": "equipment", "value": "laptop"} ne s'affiche pas sur le vidéoprojecteur
    - la [souris]{"entity": "equipment", "value": "keyboard_mouse"} ne marche plus
    - le [visualiseur]{"entity": "equipment", "value": "document_camera"} ne s'allume pas
- intent: network_outage
  examples: |
    - plus d'internet depuis ce matin
    - le wifi ne marche pas
    - connexion très lente dans toute l'école
    - la [box]{"entity": "equipment", "value": "router"} clignote rouge
    - pas de réseau dans la [salle info](room)
    - internet coupé depuis hier
    - impossible d'aller sur internet
    - la [borne wifi]{"entity": "equipment", "value": "wifi_access_point"} est éteinte
- intent: theft
  examples: |
    - cambriolage cette nuit, [3](quantity) [tablettes]{"entity": "equipment", "value": "tablet"} volées
    - le [portable]{"entity": "equipment", "value": "laptop"} a disparu
    - vol de [deux]{"entity": "quantity", "value": "2"} ordinateurs
    - on nous a volé le [vidéoprojecteur]{"entity": "equipment", "value": "projector"}
    - effraction dans l'école, du matériel a été volé
    - des [tablettes]{"entity": "equipment", "value": "tablet"} ont été dérobées
"""

REQUESTS = """\
version: "3.1"
nlu:
- intent: consumables
  examples: |
    - plus d'encre
    - besoin de cartouches pour l'[imprimante]{"entity": "equipment", "value": "printer"}
    - il nous faut du toner
    - on n'a plus de papier
    - commande de cartouches d'encre svp
    - pouvez-vous nous envoyer du toner
- intent: ticket_status
  examples: |
    - où en est ma demande [2024-0042](ticket_ref) ?
    - des nouvelles du ticket ?
    - quel est le suivi de mon ticket [2023-12345](ticket_ref)
    - ma demande a-t-elle été prise en compte ?
    - toujours rien pour le ticket [2024-00017](ticket_ref)
    - avez-vous du nouveau sur ma demande
"""

SMALLTALK = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - bonjour
    - salut
    - bonsoir
    - hello
    - coucou
    - bonjour à vous
- intent: thanks
  examples: |
    - merci
    - merci beaucoup
    - merci bien
    - c'est gentil, merci
    - super merci
    - mille mercis
"""

ENTITIES = """\
version: "3.1"
nlu:
- synonym: projector
  examples: |
    - vidéoprojo
    - videoprojecteur
    - projo
- synonym: interactive_projector
  examples: |
    - VPI
- regex: asset_tag
  examples: |
    - \\b[A-Z]{3}-\\d{6}\\b
- regex: school
  examples: |
    - \\b\\d{7}[A-Z]\\b
- regex: ticket_ref
  examples: |
    - \\b20\\d{2}-\\d{3,5}\\b
- lookup: room
  examples: |
    - salle info
    - BCD
    - salle de motricité
"""

FILES = {
    "incidents.yml": INCIDENTS,
    "requests.yml": REQUESTS,
    "smalltalk.yml": SMALLTALK,
    "entities.yml": ENTITIES,
}


def write_data(directory: Path) -> Path:
    """Write the fixture training files into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in FILES.items():
        (directory / name).write_text(content, encoding="utf-8")
    return directory


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A directory holding the fixture training data."""
    return write_data(tmp_path / "data")


@pytest.fixture(autouse=True)
def _fresh_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without models shared in memory and with a private cache dir."""
    clear_memory()
    monkeypatch.setenv("GUICHET_NLU_CACHE", str(tmp_path / "nlu-cache"))
