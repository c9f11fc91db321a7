"""Cutting a message into the parts that may each be a problem."""

from __future__ import annotations

import pytest

from nlu.problems import problem_spans


def _parts(text: str) -> list[str]:
    return [text[a:b] for a, b in problem_spans(text)]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("le vidéoprojecteur ne marche plus et la prise est arrachée",
         ["le vidéoprojecteur ne marche plus", "la prise est arrachée"]),
        ("plus d'internet depuis hier et aussi le néon est grillé", ["plus d'internet depuis hier", "le néon est grillé"]),
        ("écran cassé et fissuré", ["écran cassé et fissuré"]),
        ("Le portable ne démarre plus et je n'arrive plus à me connecter à i-Prof",
         ["Le portable ne démarre plus", "je n'arrive plus à me connecter à i-Prof"]),
        ("l'imprimante affiche erreur papier + il nous faudrait du toner",
         ["l'imprimante affiche erreur papier", "il nous faudrait du toner"]),
        ("il y a + de papier dans le bac", ["il y a + de papier dans le bac"]),
        ("The interactive display has no picture, and my email account is locked",
         ["The interactive display has no picture", "my email account is locked"]),
        ("the laptop and the projector are broken", ["the laptop and the projector are broken"]),
        ("Bonjour,\nle PC ne marche plus.\nMerci", ["Bonjour,\nle PC ne marche plus.\nMerci"]),
        ("plus de ligne tél ET plus d'internet, box éteinte", ["plus de ligne tél", "plus d'internet, box éteinte"]),
        ("le PC ne démarre plus et plus personne ne sait pourquoi", ["le PC ne démarre plus et plus personne ne sait pourquoi"]),
        # what was tried is one list, not a second problem
        ("le visualiseur ne s'allume plus. on a essayé un autre cable et une autre prise",
         ["le visualiseur ne s'allume plus", "on a essayé un autre cable et une autre prise"]),
        ("j'ai redémarré le PC et la box ne marche toujours pas", ["j'ai redémarré le PC et la box ne marche toujours pas"]),
        # the connector that opens a new sentence stays out of the part
        ("plus d'internet depuis ce matin. Et autre chose : la prise réseau est arrachée",
         ["plus d'internet depuis ce matin", "la prise réseau est arrachée"]),
    ],
)
def test_problem_spans(text: str, parts: list[str]):
    """A new problem starts at a sentence or a linking phrase; greetings and short tails stay attached."""
    assert _parts(text) == parts
