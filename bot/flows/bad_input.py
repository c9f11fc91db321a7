"""Messages the engine cannot use as they are: each gets a clear French answer."""

from __future__ import annotations

from bot import messages as m
from bot.turn import Turn

UNSUPPORTED_KINDS = frozenset({m.KIND_STICKER, m.KIND_VOICE, m.KIND_LOCATION, m.KIND_VIDEO, m.KIND_UNSUPPORTED})

_ANSWERS = {
    m.KIND_STICKER: "Merci pour l'autocollant ! Pour que je puisse vous aider, décrivez votre problème en quelques mots.",
    m.KIND_VOICE: "Je ne sais pas écouter les messages vocaux. Pouvez-vous écrire votre message en quelques mots ?",
    m.KIND_LOCATION: "Merci, mais je n'ai pas besoin de votre position : indiquez plutôt l'école et la salle ou la classe concernée.",
    m.KIND_VIDEO: "Je ne peux pas traiter les vidéos. Envoyez plutôt une photo, ou décrivez le problème en quelques mots.",
    m.KIND_UNSUPPORTED: "Je ne sais pas traiter ce type de message. Écrivez-moi en quelques mots ce qui se passe.",
}

APOLOGY = (
    "Désolé, un incident technique m'empêche de traiter votre message pour l'instant. "
    "Il est bien enregistré : l'équipe du guichet est prévenue. Vous pouvez réessayer dans quelques minutes."
)
FLOOD = (
    "Vous envoyez beaucoup de messages ; je traite les précédents. "
    "Vos messages sont bien enregistrés : patientez une minute avant d'en envoyer d'autres."
)
STALE = "Ce bouton n'est plus valable : la conversation a avancé depuis."
STALE_BUTTON = STALE + " Décrivez votre problème ou écrivez « aide » pour voir ce que je peux faire."
#: A stale button while the teacher is still signing up: the pending question comes back instead.
STALE_ONBOARDING = STALE + " Répondez plutôt à ma dernière question, ou écrivez le nom de votre école."
GROUP_CHAT = (
    "Je ne réponds qu'en conversation privée, pour protéger les informations de votre école. "
    "Écrivez-moi directement."
)
EMPTY = (
    "Je n'ai pas trouvé de texte dans votre message. Décrivez votre problème en quelques mots, "
    "par exemple : « le vidéoprojecteur de la classe de CM2 ne s'allume plus »."
)
LONG = "Votre message est long ; je l'ai bien reçu en entier et je m'appuie sur son début pour l'orienter."
TOO_LARGE = "Ce fichier est trop volumineux pour être transmis (20 Mo au plus). Pouvez-vous envoyer une photo plus légère ?"


def unsupported(turn: Turn) -> None:
    turn.say(_ANSWERS.get(turn.inbound.kind, _ANSWERS[m.KIND_UNSUPPORTED]))
