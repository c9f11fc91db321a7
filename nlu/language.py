"""Which language a message is in, and a French gloss of an English one (issue 12, item 15).

The desk answers in French. A teacher who writes « Hello, the projector… » should still be
understood: `detect_language` tells French from English by their function words, and
`french_gloss` rewrites the English words the desk knows (devices, failures, requests) into
the French the classifier was trained on. The dialogue decides what to say (see nlu/README.md).
"""

from __future__ import annotations

import re

from .text import fold

FRENCH = "fr"
ENGLISH = "en"
UNDETERMINED = "und"

_WORD = re.compile(r"[a-z']+")

_FR_WORDS = frozenset(
    "le la les un une des du de et est sont ne pas plus je j nous vous il elle on ça ca c qui que quoi "
    "dans sur pour avec mon ma mes notre nos votre vos au aux ce cette merci bonjour bonsoir salut oui "
    "non svp stp depuis marche fonctionne classe ecole ordi me se en mais ou rien tout toujours encore "
    "aussi tres trop sans par sa son ses leur moi lui y d l n s m t qu".split()
)
_EN_WORDS = frozenset(
    "the a an and is are isn't doesn't don't can't cannot won't not no yes my our your it this that "
    "of in on at to for with from has have had been was were since please thanks thank hello hi "
    "hey bye goodbye how what where when who why can could would should do does i we you there any "
    "working broken anymore".split()
)
# Single words that are greetings or answers in both languages are not evidence of English, nor
# « a » (French « à », « il y a ») and « on » (the French pronoun).
_SHARED = frozenset({"ok", "help", "super", "merci", "no", "a", "on"})
_EN_ONLY = _EN_WORDS - _SHARED

#: English → French, longest phrases first; only what a school IT desk needs to route a report.
_GLOSS: tuple[tuple[str, str], ...] = (
    ("doesn't work", "ne marche plus"), ("does not work", "ne marche plus"),
    ("not working", "ne marche plus"), ("isn't working", "ne marche plus"),
    ("won't turn on", "ne s'allume plus"), ("doesn't turn on", "ne s'allume plus"),
    ("turn on", "allumer"), ("switch on", "allumer"), ("switch it on", "l'allumer"),
    ("switch off", "éteindre"), ("switch it off", "l'éteindre"), ("turn off", "éteindre"),
    ("is down", "est en panne"), ("has been down", "est coupé"),
    ("log in", "me connecter"), ("sign in", "me connecter"), ("can't", "je n'arrive pas à"),
    ("cannot", "je n'arrive pas à"), ("how do i", "comment"), ("how can i", "comment"),
    ("how to", "comment"), ("any news", "des nouvelles"), ("thank you", "merci"),
    ("thanks", "merci"), ("hello", "bonjour"), ("hi", "bonjour"), ("goodbye", "au revoir"),
    ("bye", "au revoir"), ("yes", "oui"), ("no", "non"), ("help", "aide"),
    ("projector", "vidéoprojecteur"), ("interactive whiteboard", "tableau interactif"),
    ("smartboard", "tableau interactif"), ("whiteboard", "tableau blanc"), ("printer", "imprimante"),
    ("laptop", "ordinateur portable"), ("computer", "ordinateur"), ("pc", "pc"),
    ("tablet", "tablette"), ("ipad", "tablette"), ("screen", "écran"), ("monitor", "écran"),
    ("keyboard", "clavier"), ("mouse", "souris"), ("speakers", "enceintes"), ("speaker", "enceinte"),
    ("headphones", "casques"), ("headset", "casque"), ("phone line", "ligne téléphonique"),
    ("phone", "téléphone"), ("internet", "internet"), ("wifi", "wifi"), ("network", "réseau"),
    ("router", "box"), ("password", "mot de passe"), ("account", "compte"), ("email", "messagerie"),
    ("mail", "messagerie"), ("website", "site"), ("blocked", "bloqué"), ("stolen", "volé"),
    ("theft", "vol"), ("burglary", "cambriolage"), ("broken", "cassé"), ("cracked", "fissuré"),
    ("dropped", "fait tomber"), ("ink", "encre"), ("toner", "toner"), ("paper", "papier"),
    ("training", "formation"), ("light", "lumière"), ("lights", "lumières"),
    ("socket", "prise électrique"), ("plug", "prise électrique"), ("lock", "serrure"),
    ("blind", "store"), ("ticket", "demande"), ("request", "demande"), ("classroom", "classe"),
    ("school", "école"), ("slow", "lent"), ("update", "mise à jour"), ("virus", "virus"),
    ("connect", "brancher"), ("down", "en panne"), ("anymore", "plus"), ("please", "svp"),
    # plurals, failures, thefts and requests as teachers write them (issue 17)
    ("projectors", "vidéoprojecteurs"), ("printers", "imprimantes"), ("laptops", "ordinateurs portables"),
    ("computers", "ordinateurs"), ("tablets", "tablettes"), ("ipads", "tablettes"), ("screens", "écrans"),
    ("interactive board", "tableau interactif"), ("interactive display", "écran interactif"),
    ("interactive screen", "écran interactif"), ("document camera", "visualiseur"),
    ("visualiser", "visualiseur"), ("visualizer", "visualiseur"), ("access point", "borne wifi"),
    ("charging cart", "chariot de recharge"), ("charging trolley", "chariot de recharge"),
    ("cart", "chariot"), ("trolley", "chariot"), ("server", "serveur"), ("shared folder", "dossier partagé"),
    ("cartridges", "cartouches"), ("cartridge", "cartouche"), ("usb keys", "clés usb"),
    ("wireless adapter", "dongle"), ("screen-sharing dongle", "dongle"), ("hdmi dongle", "dongle"),
    ("usb sticks", "clés usb"), ("battery", "batterie"), ("charger", "chargeur"), ("cable", "câble"),
    ("sound", "son"), ("no sound", "plus de son"), ("no picture", "pas d'image"), ("no image", "pas d'image"),
    ("picture", "image"), ("image", "image"), ("vertical lines", "lignes verticales"),
    ("horizontal lines", "lignes horizontales"), ("lines", "lignes"), ("shows", "affiche"),
    ("flickering", "clignote"), ("flickers", "clignote"), ("blinking", "clignote"), ("blinks", "clignote"),
    ("black screen", "écran noir"), ("blank screen", "écran noir"), ("frozen", "figé"), ("freezes", "se fige"),
    ("stuck", "bloqué"), ("crashes", "plante"), ("keeps crashing", "plante tout le temps"),
    ("paper jam", "bourrage papier"), ("jammed", "bourrage"), ("error", "erreur"),
    ("no internet", "plus d'internet"), ("no wifi", "plus de wifi"), ("connection", "connexion"),
    ("whole school", "toute l'école"), ("since yesterday", "depuis hier"),
    ("since this morning", "depuis ce matin"), ("this morning", "ce matin"), ("last night", "cette nuit"),
    ("weekend", "week-end"), ("were stolen", "ont été volés"), ("was stolen", "a été volé"),
    ("was taken from", "a été volé dans"), ("were taken from", "ont été volés dans"),
    ("has been taken", "a été volé"), ("have been taken", "ont été volés"), ("got stolen", "a été volé"),
    ("touch screen", "écran tactile"), ("touchscreen", "écran tactile"),
    ("steal", "voler"), ("missing", "disparu"), ("disappeared", "disparu"), ("break-in", "cambriolage"),
    ("broke in", "cambriolage"), ("forced", "forcée"), ("police", "police"), ("complaint", "plainte"),
    ("fell", "est tombé"), ("damaged", "abîmé"), ("vandalised", "vandalisé"), ("vandalized", "vandalisé"),
    ("water damage", "dégât des eaux"), ("spilled", "renversé"), ("smashed", "cassé"), ("crack", "fissure"),
    ("we need", "nous avons besoin de"),
    ("what do we need to do", "que faut-il faire"), ("what do i need to do", "que faut-il faire"),
    ("do we need to", "faut-il"), ("get it replaced", "le faire remplacer"),
    ("we would like", "nous voudrions"), ("we'd like", "nous voudrions"),
    ("could we have", "pourrait-on avoir"), ("could we get", "pourrait-on avoir"),
    ("can we have", "pourrait-on avoir"), ("can we get", "pourrait-on avoir"), ("new", "nouveau"),
    ("more", "plus de"), ("extra", "supplémentaires"), ("run out of", "plus de"), ("ran out of", "plus de"),
    ("out of", "plus de"), ("forgot", "oublié"), ("forgotten", "oublié"), ("locked", "bloqué"),
    ("where is", "où en est"), ("status", "suivi"), ("still waiting", "toujours en attente"),
    ("lamp", "lampe"), ("bulb", "ampoule"), ("power", "courant"), ("wall socket", "prise murale"),
    ("power socket", "prise électrique"), ("outlet", "prise électrique"), ("breaker", "disjoncteur"),
    # set J: a device that turns itself off, the look someone should come and have, settings
    ("switches itself off", "s'éteint tout seul"), ("turns itself off", "s'éteint tout seul"),
    ("switches off", "s'éteint"), ("turns off", "s'éteint"), ("dark", "sombre"), ("sticker", "étiquette"),
    ("label", "étiquette"), ("have a look", "venir voir"), ("language", "langue"), ("pen", "stylet"),
    ("stylus", "stylet"), ("settings", "paramètres"),
    # set O: a device that will not start, who bought it, what is asked for and how
    ("won't start", "ne démarre plus"), ("doesn't start", "ne démarre plus"), ("does not start", "ne démarre plus"),
    ("won't boot", "ne démarre plus"), ("doesn't boot", "ne démarre plus"), ("won't work", "ne marche plus"),
    ("bought", "acheté"), ("own funds", "fonds propres"), ("would like", "voudraient"),
    ("apply for", "demander"), ("copier", "photocopieur"), ("photocopier", "photocopieur"),
    ("log this", "enregistrer la demande"),
    # set P: a class or a school asking for more
    ("could our class get", "pourrait-on avoir"), ("could our school get", "pourrait-on avoir"),
    ("could our class have", "pourrait-on avoir"), ("could our school have", "pourrait-on avoir"),
    ("a set of", "des"), ("pairs", "paires"),
)
_GLOSS_RE = re.compile(
    r"(?<![a-z'])(" + "|".join(re.escape(src) for src, _ in sorted(_GLOSS, key=lambda kv: -len(kv[0]))) + r")(?![a-z'])"
)
_GLOSS_MAP = dict(_GLOSS)


def detect_language(text: str) -> str:
    """`fr`, `en`, or `und` when the message is too short or carries no function word of either."""
    words = _WORD.findall(fold(text).replace("’", "'"))
    if not words:
        return UNDETERMINED
    fr_words = _FR_WORDS
    # The word, or what comes before its apostrophe (« l'ecran », « j'ai »).
    fr = len([w for w in words if w in fr_words or ("'" in w and w.split("'")[0] in fr_words)])
    en = len([w for w in words if w in _EN_ONLY])
    if en > fr:
        return ENGLISH
    if fr or len(words) > 2:
        return FRENCH
    return UNDETERMINED


def french_gloss(text: str) -> str:
    """The English words the desk knows replaced by their French (unknown words kept as they are)."""
    lowered = text.lower().replace("’", "'")
    return _GLOSS_RE.sub(lambda m: _GLOSS_MAP[m.group(1)], lowered)


#: « switch on / off », « switch the display to … » (a verb): blanked in an English message before
#: its devices are looked up, where « switch » alone is the network switch (a router).
_SWITCH_VERB = re.compile(
    r"\bswitch(?:es|ed|ing)?(?:\s+(?:it|them|itself))?\s+(?:on|off)\b"
    r"|\bswitch(?:es|ed|ing)?(?=\s+(?:the|my|our|this|that|these|those|to|between|back|it|them|itself)\b)",
    re.IGNORECASE,
)


def without_switch_verb(text: str) -> str:
    """`text` with « switch on / off » blanked out (same length: the entities' offsets hold)."""
    return _SWITCH_VERB.sub(lambda m: " " * len(m.group()), text)
