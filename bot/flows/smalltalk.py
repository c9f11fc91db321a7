"""Small talk, help and out-of-scope messages: short, kind, and back to the point."""

from __future__ import annotations

from bot.payloads import button
from bot.turn import Turn
from domain.vocabulary import Intent

EXAMPLE = "« le vidéoprojecteur de la classe de CM2 ne s'allume plus »"


def menu_buttons() -> list:
    return [
        button("Signaler un problème", "menu", "report"),
        button("Suivre mes demandes", "menu", "status"),
    ]


def ask_for_problem(turn: Turn, prefix: str = "") -> None:
    turn.say(
        (prefix + "\n" if prefix else "")
        + f"Décrivez-moi votre problème en une phrase, par exemple : {EXAMPLE}.",
        menu_buttons(),
    )


def help_message(turn: Turn) -> None:
    turn.say(
        "Je suis le guichet numérique des écoles. Je peux :\n"
        "• enregistrer une panne ou une demande (matériel, internet, logiciel, compte, vol ou casse…) "
        "et vous donner un numéro de suivi ;\n"
        "• vous proposer un tutoriel quand le problème peut se régler sur place ;\n"
        "• vous dire où en sont vos demandes (« où en est ma demande ? »).\n"
        f"Décrivez simplement votre problème, par exemple : {EXAMPLE}.",
        menu_buttons(),
    )


def reply(turn: Turn, intent: Intent) -> None:
    """The answer to a small-talk intent."""
    if intent is Intent.GREET:
        ask_for_problem(turn, "Bonjour ! Que puis-je faire pour vous ?")
    elif intent is Intent.THANKS:
        turn.say("Avec plaisir ! Je reste à votre disposition si besoin.")
    elif intent is Intent.GOODBYE:
        turn.say("Bonne journée ! Vous pouvez revenir ici à tout moment pour suivre vos demandes.")
    elif intent is Intent.HELP:
        help_message(turn)
    elif intent in (Intent.AFFIRM, Intent.DENY):
        ask_for_problem(turn, "Je n'ai pas de question en cours.")
    else:
        turn.say(
            "Je ne peux répondre qu'aux questions sur le matériel et les services numériques de l'école. "
            f"Décrivez-moi un problème informatique, par exemple : {EXAMPLE}.",
            menu_buttons(),
        )
