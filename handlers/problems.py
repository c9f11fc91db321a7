"""One message, several problems: the parts that each call for a ticket of their own.

« le vidéoprojecteur ne marche plus et la prise est arrachée » is two problems for two bodies:
the SEM repairs or replaces the projector, the commune the socket of its premises (convention,
art. 2). The message is cut where a second problem usually starts (`nlu.problems.problem_spans`),
each part is triaged and routed on its own, and a part counts as a problem of its own only when
it is confidently understood, would open a ticket, and is not the same problem said again
(`same_problem`). `guichet triage` lists them; the chat doors offer a second ticket after the
first; the mail door opens it and answers on its own thread.

No database here: the callers name the organisations and open the tickets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from domain.vocabulary import AssetOwner, Equipment, Intent, SchoolStatus
from nlu import CLARIFY_THRESHOLD, NluBackend, ParseResult
from nlu.entities import NETWORK_DEVICES, school_spans
from nlu.problems import CONNECTOR, problem_spans
from nlu.text import fold
from routing import Decision, Territory, decide

#: Intents where one message is one event or one list, whatever the devices it names: a burglary
#: is one declaration (art. 6), a request or an order lists its items, a class change is one move.
ONE_PER_MESSAGE = frozenset({
    Intent.THEFT, Intent.DAMAGE, Intent.EQUIPMENT_REQUEST, Intent.CONSUMABLES, Intent.CLASS_CHANGE,
    Intent.EQUIPMENT_REMOVAL,
})
_ONE_PER_MESSAGE_VALUES = frozenset(i.value for i in ONE_PER_MESSAGE)
# The members by value (a dictionary lookup instead of the enum's call: `guichet triage` is hot).
_EQUIPMENT = {e.value: e for e in Equipment}

#: « Par ailleurs », « De plus »… left at the start of a part cut after a full stop.
_LEADING_LINK = re.compile(rf"^{CONNECTOR}", re.IGNORECASE)

#: What tells two problems apart: intent, organisation kind, equipment (None: no device named).
ProblemKey = tuple[str, str, str | None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One part of a message, triaged and routed on its own."""

    start: int
    end: int
    text: str
    intent: Intent
    confidence: float
    equipment: str | None
    decision: Decision

    @property
    def key(self) -> ProblemKey:
        return (self.intent.value, self.decision.org_kind, self.equipment)

    def to_pending(self, room: str | None = None) -> dict[str, Any]:
        """The problem as a conversation or a ticket event keeps it until she answers the offer."""
        d = self.decision
        return {"text": _LEADING_LINK.sub("", self.text.strip(" ,;.\n")), "intent": self.intent.value,
                "equipment": self.equipment, "org": d.org_kind, "role": d.role.value if d.role else None,
                "room": room}

    def to_json(self) -> dict[str, Any]:
        """The part as `guichet triage --jsonl` prints it."""
        d = self.decision
        return {
            "start": self.start, "end": self.end, "text": self.text, "intent": self.intent.value,
            "confidence": round(self.confidence, 4), "equipment": self.equipment,
            "role": d.role.value if d.role else None, "org": d.org_kind,
            "sla": d.sla.value if d.sla else None, "reason": d.reason, "rule": d.rule_id,
        }


#: An accident or a theft, and what it left the device doing: « des coups de pied dans le copieur,
#: la vitre est brisée et le bac papier ne rentre plus » is one damage to declare (convention,
#: art. 6), not a damage and a failure.
_EVENTS = frozenset({Intent.DAMAGE.value, Intent.THEFT.value})
#: Devices whose screen is part of them (« la charnière du portable est cassée et l'écran ne tient plus »).
_SCREENED = frozenset({Equipment.LAPTOP.value, Equipment.TABLET.value, Equipment.INTERACTIVE_DISPLAY.value})
_FAILURE = Intent.HARDWARE_FAILURE.value
_DAMAGE = Intent.DAMAGE.value
_WORKS_INTENT = Intent.BUILDING_WORKS.value
_OUTAGE = Intent.NETWORK_OUTAGE.value
_OUTAGE_AND_FAILURE = frozenset({_OUTAGE, _FAILURE})
_CLASS_CHANGE = Intent.CLASS_CHANGE.value
_REMOVAL = Intent.EQUIPMENT_REMOVAL.value
_MONITOR = Equipment.MONITOR.value
_PROJECTORS = frozenset({Equipment.PROJECTOR.value, Equipment.INTERACTIVE_PROJECTOR.value})
_SOCKET = Equipment.NETWORK_SOCKET.value
_WORKS_AND_OUTAGE = frozenset({Intent.BUILDING_WORKS.value, Intent.NETWORK_OUTAGE.value})
#: Network devices other than the wall socket (an outage beside one is that device's).
_NETWORK_BOXES = NETWORK_DEVICES - {_SOCKET}
#: Devices a screen said after them belongs to (the desktop's monitor is its own device, but « le
#: poste ne démarre plus, l'écran reste noir » tells the desktop's failure).
_WITH_SCREEN = _SCREENED | {Equipment.DESKTOP.value}
#: What works install (a socket, a whiteboard, a projector on its mount): asked for beside a damage,
#: a work of its own (« Un orage a inondé la salle. Par ailleurs il faudrait poser une prise réseau »).
_INSTALLED = NETWORK_DEVICES | {Equipment.WHITEBOARD.value, Equipment.PROJECTOR.value,
                                Equipment.INTERACTIVE_PROJECTOR.value, Equipment.INTERACTIVE_DISPLAY.value}


def same_problem(found: ProblemKey, part: ProblemKey) -> bool:
    """Whether a part says more of a problem already found rather than reporting another one.

    Same intent and organisation: the same problem when either part names no device (« on l'a
    éteinte et rallumée », « pour la classe de CM1 » are details of the problem before), when the
    devices are the same, or when the intent is one event or one list per message. After a damage
    or a theft, a failure of no other device is what the event did to it (`_EVENTS`); after a class
    change, taking back its equipment (no device named) is the change itself; after a damage that
    names no device, a device's failure is what the damage did.
    """
    if found[0] == _OUTAGE == part[0] and found[1] == part[1] and (
        (found[2] in _NETWORK_BOXES and part[2] not in NETWORK_DEVICES)
        or (part[2] in _NETWORK_BOXES and found[2] not in NETWORK_DEVICES)
    ):
        return True  # « le SSID n'apparaît plus sur les tablettes … La borne wifi de la salle clignote »: one outage
    if found[0] == _OUTAGE and part[0] == _WORKS_INTENT and part[2] in _NETWORK_BOXES:
        return True  # « les tablettes ne captent plus le wifi … La borne accrochée au plafond a son voyant éteint »
    if {found[0], part[0]} == _OUTAGE_AND_FAILURE and found[1] == part[1]:
        # « plus aucune connexion internet ; tous les voyants de la box sont éteints »: the network
        # device's failure is the outage (either way round).
        failed = found[2] if found[0] == _FAILURE else part[2]
        other = part[2] if found[0] == _FAILURE else found[2]
        if failed in NETWORK_DEVICES and other in (None, failed):
            return True
    if {found[0], part[0]} == _WORKS_AND_OUTAGE and _SOCKET in (found[2], part[2]) \
            and (part[2] if found[2] == _SOCKET else found[2]) not in _NETWORK_BOXES:
        return True  # « la prise réseau murale a été arrachée … L'ordinateur de la classe n'a plus de réseau »
    if _WORKS_INTENT in (found[0], part[0]) and found[1] == part[1] and found[2] is not None and found[2] == part[2]:
        return True  # « passer un câble réseau jusqu'à la classe 6 ? Il n'y a aucune prise réseau. »
    if found[0] == _DAMAGE and found[2] is None and part[0] == _FAILURE:
        return True  # « une branche a cassé la fenêtre ; la pluie a trempé le vidéoprojecteur, qui ne s'allume plus »
    if found[0] == _DAMAGE and found[2] is None and part[0] == _WORKS_INTENT and found[1] == part[1] \
            and part[2] not in _INSTALLED:
        # « la foudre est tombée … le disjoncteur de l'école avait sauté », « une fuite de toiture …
        # L'eau a coulé directement sur quatre ordinateurs fixes »: one event to declare
        return True
    if found[0] == _CLASS_CHANGE and part[0] == _REMOVAL and part[2] is None:
        return True  # « fermeture d'une classe : qui vient reprendre le matériel ? » is the move (art. 1-2)
    if found[0] in _EVENTS and part[0] == _FAILURE and (
        part[2] is None or part[2] == found[2] or (part[2] == _MONITOR and found[2] in _SCREENED)
    ):
        return True
    if found[0] != part[0] or found[1] != part[1]:
        return False
    if found[2] is None or part[2] is None or found[2] == part[2] or {found[2], part[2]} == _PROJECTORS:
        return True  # « le projecteur avec le stylet … un voyant clignote sur le projecteur »: one VPI
    if part[2] == _MONITOR and found[2] in _WITH_SCREEN:
        return True  # « le portable ne démarre plus … un voyant clignote, l'écran reste noir »
    return part[0] in _ONE_PER_MESSAGE_VALUES


#: Words that say where or who, not what is wrong (« Salle 8, classe de CE1 », « École privée La Salle »).
_PLACE_WORDS = frozenset({
    "ecole", "privee", "publique", "maternelle", "elementaire", "primaire", "classe", "salle", "bureau",
    "cordialement", "merci", "bonjour", "bonne", "journee", "madame", "monsieur", "directrice", "directeur",
    "direction",  # « La direction, école élémentaire de Saint-Héand »
    "mme", "mlle", "melle", "mr",  # « Mme Garnier, école élémentaire Jules Ferry »
})
_WORD = re.compile(r"[^\W\d_]{3,}")


#: A part saying that something works (« Internet, lui, fonctionne normalement », « mon mot de
#: passe de messagerie, lui, marche très bien », « tout semble bien branché »): what was checked
#: beside the problem, not a second one — unless it also says what fails.
_WORKS = re.compile(
    r"\b(?:fonctionne|marche|s'allume|s'affiche|tourne|charge|capte|imprime|d[ée]marre|s'ouvre|r[ée]pond"
    r"|reconna[iî]t)"
    r"(?:nt|ent)?\s+(?:(?:tr[eè]s|tout [àa] fait|parfaitement|encore)\s+)?"
    r"(?:bien|normalement|correctement|toujours)\b"
    r"|\b[çc]a (?:fonctionne|marche)(?:\s+(?:encore|toujours))?\s*(?:[.!,;]|$)"
    # « … et le logiciel de calcul mental fonctionnent. », « là, internet revient »
    r"|\b(?:fonctionnent|fonctionne|marchent|marche)\s*(?:[.!,;)]|$)"
    r"|\bl[àa],?\s+(?:[\w'’]+\s+){0,4}revien(?:t|nent)\b"
    # « internet n'est pas en panne », « le reste du matériel n'a rien »
    r"|\b(?:n'est|ne sont|n'[ée]tait|n'[ée]taient)\s+pas\s+(?:en panne|coup[ée]e?s?|cass[ée]e?s?|hs)\b"
    r"|\bn'(?:a|ont)\s+rien\s*(?:[.!,;()]|$)"
    # « Les autres VPI de l'école ne présentent pas ce défaut »
    r"|\b(?:ne\s+(?:pr[ée]sente|pr[ée]sentent|rencontre|rencontrent)|n['’](?:a|ont))\s+pas\s+(?:ce|le m[eê]me|de)\s+(?:d[ée]faut|probl[eè]me|souci)\b"
    r"|\b(?:lui|elle|eux|elles)(?:-m[eê]mes?)?,?\s+(?:(?:fonctionne|marche|s'allume|s'affiche)(?:nt)?|va bien|vont bien)\b"
    # (not where it is plugged in: « la prise du mur où elle est branchée sort du mur »)
    r"|(?<!o[uù] elle )(?<!o[uù] il )(?<!o[uù] elles )(?<!o[uù] ils )"
    r"\b(?:est|sont|semble|semblent|para[iî]t|paraissent)\s+(?:bien\s+)?branch[ée]e?s?\b",
    re.IGNORECASE,
)
_FAILS = re.compile(
    r"\b(?:ne|n'|n’|pas|plus|rien|aucune?|jamais|hs|panne|cass[ée]e?s?|arrach[ée]e?s?|bloqu[ée]e?s?|[ée]teinte?s?|erreur|impossible|plant\w*)\b",
    re.IGNORECASE,
)
#: A part telling only who was told or what was filed (« La mairie est au courant », « une main
#: courante a été déposée », « la police est prévenue »): the procedure of the problem before.
_PROCEDURE = re.compile(
    r"\b(?:mairie|commune|police|gendarmerie|assureur|assurance|ogec|services? techniques?)\b[^.!?\n]{0,40}"
    r"\b(?:au courant|pr[ée]venue?s?|avertie?s?|inform[ée]e?s?|fera|vont faire|va faire|a fait|ont fait|passée?s?"
    # what they did already (« Les services techniques de la mairie ont sécurisé la fenêtre »)
    r"|(?:a|ont)\s+(?:s[ée]curis|b[âa]ch|condamn|nettoy|fait venir)\w*|(?:est|sont)\s+intervenue?s?)\b"
    # the people told (« Les parents ont été informés », « La famille a été reçue »)
    r"|\b(?:parents|familles?|direction|directeur|directrice|chef d'[ée]tablissement|coll[eè]gues|gestionnaire)\b"
    r"[^.!?\n]{0,40}\b(?:au courant|pr[ée]venue?s?|avertie?s?|inform[ée]e?s?|re[çc]ue?s?)\b"
    r"|\b(?:plainte|main courante|d[ée]claration|constat)\b[^.!?\n]{0,30}\b(?:d[ée]pos[ée]e?s?|faite?s?|envoy[ée]e?s?|transmise?s?|en cours)\b"
    r"|\b(?:j'ai|nous avons|on a)\s+(?:inform[ée]|pr[ée]venu|averti|appel[ée])\s+(?:la mairie|la commune|la police|l'ogec)\b"
    # the complaint to come and the file's papers (« Nous allons déposer plainte. Que devons-nous fournir pour le dossier ? »)
    r"|\b(?:allons|allez|va|vais|vont|devons|doit|dois|faut)\s+(?:d[ée]poser|porter)\s+plainte\b"
    r"|\b(?:que|quels?|quelles?)\s+(?:documents?\s+|pi[eè]ces?\s+|justificatifs?\s+|papiers?\s+)?"
    r"(?:devons-nous|dois-je|faut-il|doit-on|doit-il|devrions-nous)\s+(?:vous\s+)?(?:fournir|envoyer|transmettre|joindre|remplir)\b",
    re.IGNORECASE,
)


#: A part saying what there is (« la classe … dispose d'un vidéoprojecteur et d'un visualiseur »,
#: « Il y a déjà une prise réseau libre dans le bureau »): the setting, not a problem.
_HAS = re.compile(
    r"\b(?:dispose|disposent|disposons|poss[eè]de|poss[eè]dent|est [ée]quip[ée]e?|sont [ée]quip[ée]e?s)\s+(?:d'|d’|de)"
    r"|\bil y a d[ée]j[àa]\b"
    # who owns it (« Le portable a été fourni par le plan numérique, il porte l'étiquette de la Métropole »)
    r"|\b(?:a|ont) [ée]t[ée] (?:fourni|achet|install|financ|offert)\w* par\b|\bporte(?:nt)? l['’][ée]tiquette\b"
    r"|\bne rel[eè]ve(?:nt)? pas du plan\b",
    re.IGNORECASE,
)
#: A part that tells more of the problem before: what was tried or checked (« J'ai redémarré
#: l'ordinateur deux fois… », « J'ai cliqué sur « mot de passe oublié » mais… »), its history (« J'ai
#: déjà signalé un souci avec ce même ordinateur »), an example of it (« Nous souhaiterions
#: notamment apprendre… »), or a request about it (« Serait-il possible de le débloquer ? »).
_DETAIL = re.compile(
    r"^\W*(?:(?:j'ai|j’ai|on a|nous avons|il a|elle a|(?:la|le|les|notre|mon|ma)\s+(?:directrice|directeur"
    r"|coll[eè]gues?|ma[îi]tresse|ma[îi]tre|technicien|atsem|aesh|secr[ée]taire|enseignante?|rempla[çc]ante?)\s+(?:a|ont))\s+"
    r"(?:d[ée]j[àa]\s+|bien\s+|aussi\s+|m[eê]me\s+)?"
    r"(?:essay|test|v[ée]rifi|red[ée]marr|rebranch|d[ée]branch|cliqu|relanc|r[ée]initialis|chang|remplac|appuy"
    r"|signal|regard|contr[ôo]l|tap|saisi|suivi)\w*"
    r"|(?:\S+\s+){0,3}?(?:notamment|en particulier|par exemple)\b"
    # what someone said of it (« Selon les services techniques de la mairie, aucune intervention… »)
    r"|(?:selon|d'apr[eè]s|d’apr[eè]s)\s+(?:la|le|les|l'|l’|notre|nos|mon|ma|mes)\s*[^,.!?\n]{0,60},"
    r"|(?:serait-il possible|est-il possible|pourriez-vous|pouvez-vous|merci)\s+(?:de\s+)?(?:le|la|les|l'|l’)\s*\w+\W*$)"
    r"|\b(?:ce|cette|le|la)\s+m[eê]me\s+(?:ordinateur|poste|pc|tablette|imprimante|appareil|mat[ée]riel|probl[eè]me|souci)\b",
    re.IGNORECASE,
)
#: A part saying it is another problem (« Sans aucun rapport, une autre tablette ne s'allume plus »).
_ANOTHER = re.compile(
    r"\b(?:sans (?:aucun )?rapport|rien [àa] voir|(?:un |une )?(?:autre|deuxi[eè]me|second|seconde) (?:souci|probl[eè]me|chose))\b",
    re.IGNORECASE,
)
#: A connector just before a part: what it says is new (« Par ailleurs, j'ai essayé… »).
_CONNECTED = re.compile(
    r"\b(?:par ailleurs|d'autre part|de plus|en plus|aussi|au passage|au fait|autre (?:souci|probl[eè]me|chose)|sinon"
    r"|oubli[ée] de (?:vous )?(?:dire|pr[ée]ciser|signaler|mentionner)(?: aussi)?(?: que)?"
    r")\W*$",
    re.IGNORECASE,
)


def tells_more(text: str, start: int, end: int) -> bool:
    """Whether the part `text[start:end]` tells more of the problem before it (what was tried, its
    history, an example of it, a request about it, an item of the list of what was tried) rather
    than a problem of its own; never when a connector (« par ailleurs », « autre chose ») introduces it."""
    if _CONNECTED.search(text[max(0, start - 40) : start]) is not None:
        return False
    return _DETAIL.search(text[start:end]) is not None or _tried_list_item(text, start)


#: A part whose subject is a pronoun (« Il affiche une erreur », « Elle clignote ») and that names
#: no device is about the device before (not « il y a », « il faut », « il manque »).
_ANAPHORA = re.compile(
    r"\W*(?:il|elle|ils|elles|[çc]a|cela|celui-ci|celle-ci)\s+(?!y\b|n'y\b|n’y\b|fau(?:t|dra|drait)\b|manque|me\b|m'|m’|nous\b|serait\b|pleut|reste|semble|s'agit|s’agit"
    r"|est\s+(?:impossible|possible|urgent|n[ée]cessaire|difficile|dommage|temps)\b)"
    r"(?!.*\b(?:aussi|[ée]galement|en plus|de plus|autres?)\b)",  # « Il faudra aussi refaire la fixation »
    re.IGNORECASE | re.DOTALL,
)
#: What was tried, said with a participle in its first words (« Testé depuis trois postes », « -
#: recalibrage tenté », « Par précaution j'ai débranché le portable », « Désinstallation /
#: réinstallation tentée », « les mises à jour Windows sont terminées »).
_TRIED_PARTICIPLE = re.compile(
    r"\s*(?P<item>(?:[-–•*]|\d{1,2}\s*[).])\s*)?(?P<lead>(?:\S+\s+){0,4}?)"
    r"(?:tent|test|essay|v[ée]rifi|remplac|chang|red[ée]marr|r[ée]install|d[ée]sinstall|recalibr|d[ée]branch"
    r"|rebranch|termin|r[ée]initialis)(?:é|ée|és|ées)\b"  # the participle, not « redémarre », « change »
    r"|\W*(?:[-–•*]\s*)?(?P<state>(?:\S+\s+){1,3}?(?:d[ée]j[àa]|est|sont)\s+[àa] jour)\b",  # « - firmware déjà à jour »
    re.IGNORECASE,
)
_FAILURES = frozenset({Intent.HARDWARE_FAILURE, Intent.NETWORK_OUTAGE, Intent.SOFTWARE_ISSUE})


def _tried_part(text: str) -> bool:
    """Whether a part only tells what was tried: its participle comes first, or opens a list item,
    or the part says nothing fails (not « L'imprimante a été changée hier et elle ne marche pas »)."""
    found = _TRIED_PARTICIPLE.match(text)
    if found is None:
        return False
    if found.group("state"):
        return _FAILS.search(text) is None
    return bool(found.group("item")) or not found.group("lead") or _FAILS.search(text) is None


#: Needing the device said before (« We need it for the rehearsal on Friday », « on en a besoin pour vendredi »).
_NEED_IT = re.compile(r"\bneeds?\s+(?:it|them)\b", re.IGNORECASE)
_NEED_IT_FR = re.compile(r"\ben\s+(?:avons|a|ont|aurions|aurait)\s+(?:vraiment\s+|absolument\s+)?besoin\b", re.IGNORECASE)
#: An item of a list (« 1) », « 2. », « - », « • »).
_LIST_ITEM = re.compile(r"\s*(?:\d{1,2}\s*[).]|[-–•*])\s+")
#: The line introducing a list of what was tried (« Nous avons déjà : », « Vérifications faites : »).
_TRIED_INTRO = re.compile(
    r"(?:\bd[ée]j[àa]|\b(?:avons|ai|on a)\s+(?:essay|test|v[ée]rifi)\w*|\bv[ée]rifications?\s+(?:faites|effectu[ée]es))"
    r"[^\n:]{0,40}:\s*$", re.IGNORECASE
)


def _tried_list_item(text: str, start: int) -> bool:
    """Whether the part at `start` is an item of a list the line before the list says was tried
    (« Nous avons déjà : ⏎ 1) vérifié le câble d'alimentation et la prise ; ⏎ 2) changé les piles… »)."""
    if _LIST_ITEM.match(text, start) is None:
        return False
    for line in reversed(text[:start].split("\n")):
        if not line.strip() or _LIST_ITEM.match(line) is not None:
            continue  # the items before this one
        return _TRIED_INTRO.search(line) is not None
    return False


#: A part where the writer only says who she is (« Je suis professeure des écoles stagiaire,
#: affectée depuis le 1er septembre à l'école Paul-Bert (classe de CE1). »): the problem comes after.
_INTRODUCTION = re.compile(
    r"^\W*(?:bonjour\W+)?(?:je suis|nous sommes|je viens d'arriver|je remplace|ici)\b.{0,80}?"
    r"\b(?:professeure?s?|enseignante?s?|directeur|directrice|rempla[çc]ante?|stagiaire|atsem|aesh|"
    r"secr[ée]taire|nouvel(?:le)?|nouveau|affect[ée]e?s?|arriv[ée]e?s?)\b",
    re.IGNORECASE | re.DOTALL,
)
#: A signature on a line of its own (« Services techniques, Ville de La Talaudière », « La comptable de
#: l'OGEC », « Service scolaire, Sorbiers »): who writes, not a problem.
_SIGNATURE = re.compile(
    r"^\W*(?:(?:le|la|les|l'|l’)\s*)?(?:services?\s+(?:techniques?|scolaires?|[ée]ducation|enfance|informatiques?)"
    r"|mairie|ville|commune|secr[ée]tariat|comptable|pr[ée]sidente?|tr[ée]sori[eè]re?|adjointe?|ogec)\b[^.!?\n:]{0,70}$",
    re.IGNORECASE,
)
#: A town after a school's name, to the end of the part: « , Saint-Étienne », « (La Talaudière). »
_TOWN = re.compile(r"[\s,()–-]*(?:(?:[A-ZÀ-Ý][\w'’-]*|de|la|le|les|du|sur|en)[\s()-]*){1,5}[.\s)]*")
#: A part that only announces what the message is about (« Je me permets de vous écrire au sujet du
#: vidéoprojecteur de la classe de CM2 »): its device is the next part's problem's.
_SUBJECT = re.compile(
    r"^\W*(?:(?:bonjour|madame|monsieur|madame, monsieur)\W+)*(?:je me permets de vous (?:écrire|contacter|solliciter)"
    r"|je vous (?:écris|contacte|sollicite)|je reviens vers vous|je vous signale un (?:souci|problème))"
    r"\s+(?:au sujet|à propos|concernant|pour|avec|sur)\b",
    re.IGNORECASE,
)
#: A class that moved already (« Nous avons déménagé la classe de CE2 dans le préfabriqué pendant les
#: vacances », « Suite au réaménagement des classes, la classe de CE1 a changé de salle »): the
#: setting of what the message reports, not a class change to prepare (art. 1-2).
_MOVED = re.compile(
    r"\b(?:suite (?:au|à|a) (?:r[ée]am[ée]nagement|d[ée]m[ée]nagement)|depuis (?:le|notre) d[ée]m[ée]nagement"
    r"|(?:avons|a|ont|on a)\s+(?:d[ée]m[ée]nag[ée]|chang[ée] de (?:salle|classe|b[âa]timent))"
    r"|(?:a|ont) [ée]t[ée] d[ée]plac[ée]e?s?"
    # « L'OGEC a aménagé cet été une nouvelle salle de classe dans l'ancien logement de fonction »
    r"|(?:(?:avons|a|ont|on a)\s+am[ée]nag[ée]|am[ée]nage(?:nt)?)\s+(?:[\w'’]+\s+){0,3}?une\s+(?:nouvelle\s+)?salle)\b",
    re.IGNORECASE,
)
#: What makes a part ask for something (« Je suis la nouvelle directrice et nous voudrions… »).
_ASKS = re.compile(r"voudr|souhait|besoin|faudr|pourr|pouvez|demand|merci de|\?", re.IGNORECASE)
#: Requests: a part that neither asks nor names what a request is for says why it is asked.
_REQUESTS = frozenset({Intent.TRAINING_REQUEST, Intent.EQUIPMENT_REQUEST})
_REQUEST_WORDS = re.compile(
    r"\b(?:aimeri\w*|aimerai\w*|possible|de plus|en plus|d'autres|bienvenue?s?|utiles?|serait"
    r"|formations?|stages?|accompagnement|ateliers?|animations?|initiation|suppl[ée]mentaires?|nouveaux|nouvelles?"
    r"|nouvel|dot(?:er|ation)|[ée]quiper|acqu[ée]rir|obtenir|achat|commande[rz]?|manque(?:nt)?)\b",
    re.IGNORECASE,
)


def announces_subject(result: ParseResult) -> bool:
    """Whether a part only says what the message is about (« Je me permets de vous écrire au sujet
    du vidéoprojecteur de la classe de CM2 »), the problem being told in the next ones."""
    return _SUBJECT.search(result.text) is not None and _FAILS.search(result.text) is None \
        and len(_WORD.findall(result.text)) <= 25


#: How sure the model must be of a part the writer says is another problem (« Et, autre chose, deux
#: collègues n'arrivent plus à se connecter à l'ENT »): the words already say it is one.
ANOTHER_THRESHOLD = 0.5


def confident_part(result: ParseResult) -> bool:
    """Whether a part is read surely enough to be a problem of its own: at the clarify threshold,
    or, when it says it is another problem, at `ANOTHER_THRESHOLD`."""
    if result.confidence >= CLARIFY_THRESHOLD:
        return True
    return result.confidence >= ANOTHER_THRESHOLD and _ANOTHER.search(result.text) is not None


def names_a_problem(result: ParseResult) -> bool:
    """Whether a part says what is wrong, not only where or who: a part that is a room, a school
    or a signature (« Salle 8, classe de CE1 ») is read confidently as something by the model, and
    so is a part saying that something works, only telling the procedure under way, or only who
    the writer is."""
    text = result.text
    # The school's name, whether the parse kept its entity or not (a part parsed for routing only).
    spans = [(e.start, e.end) for e in result.entities if e.entity in ("room", "school", "asset_tag")]
    schools = school_spans(text)
    for start, end in [*spans, *schools]:
        text = text[:start] + " " * (end - start) + text[end:]
    if schools:
        last = max(e for _, e in schools)
        if _TOWN.fullmatch(text, last):
            text = text[:last]  # « École élémentaire Jules-Ferry, Saint-Étienne »
        # beside a school's name, a capitalised word is a place (« École Fauriel, Saint-Étienne, classe de CE2 »)
        if result.equipment is None and _FAILS.search(text) is None:
            lowercase = [w for w in _WORD.findall(text) if not w[0].isupper()]
            text = " ".join(lowercase) if len(lowercase) < 2 else text
    words = [w for w in _WORD.findall(fold(text)) if w not in _PLACE_WORDS]
    if len(words) < 2:
        return False
    fails = _FAILS.search(text) is not None
    asks = _ASKS.search(text) is not None
    if not asks and _WORKS.search(text) is not None and _FAILS.search(_WORKS.sub(" ", text)) is None:
        return False  # not « il faudrait refaire la fixation au mur (l'appareil lui-même fonctionne) »
    if not fails and _HAS.search(text) is not None:
        return False
    if not fails and not asks and len(words) <= 8 and result.equipment is None and _SIGNATURE.search(text) is not None:
        return False
    if not fails and not asks and len(words) <= 30 and _INTRODUCTION.search(text) is not None:
        return False
    if result.intent in _REQUESTS and not asks and _REQUEST_WORDS.search(text) is None:
        return False  # « Les enseignants utilisent à tour de rôle l'unique visualiseur »: why, not what is asked
    # (a part naming its device reports it: « l'imprimante a pris l'eau, elle est fichue, la mairie a prévenu l'assurance »)
    return fails or result.equipment is not None or len(words) > 14 or _PROCEDURE.search(text) is None


def _lists_what_works(text: str, end: int, next_start: int, result: ParseResult, following: ParseResult) -> bool:
    """Whether a part is the start of a list the next part says works (« Les autres programmes,
    internet | et le logiciel de calcul mental fonctionnent. »): cut at its « et », one sentence."""
    return _FAILS.search(result.text) is None and not _SENTENCE_GAP.search(text, end, next_start) \
        and _WORKS.search(following.text) is not None and _FAILS.search(_WORKS.sub(" ", following.text)) is None


_SENTENCE_GAP = re.compile(r"[.!?;\n]")


def problems_of(
    territory: Territory,
    text: str,
    spans: Sequence[tuple[int, int]],
    parts: Sequence[ParseResult],
    *,
    school_status: SchoolStatus | str = SchoolStatus.PUBLIC,
    asset_owner: AssetOwner | str | None = None,
) -> list[Problem]:
    """The problems among a message's parsed parts; [] when it reports one problem (or none)."""
    found, _ = _reported(territory, text, spans, parts, school_status, asset_owner)
    return found if len(found) > 1 else []


def problems_beside_question(
    territory: Territory,
    text: str,
    spans: Sequence[tuple[int, int]],
    parts: Sequence[ParseResult],
    *,
    school_status: SchoolStatus | str = SchoolStatus.PUBLIC,
    asset_owner: AssetOwner | str | None = None,
) -> list[Problem]:
    """The problems a message reports beside a question on a ticket's progress; [] when it asks
    nothing of the kind or reports nothing.

    « la souris du poste 5 est HS, et svp où en est la demande 2024-0318 ? » reads as a whole as a
    status question, which opens no ticket: the mouse would be lost. The doors answer the question
    and take the report (the chat doors), or take the report with the question in it (the mail door).
    """
    found, asks_status = _reported(territory, text, spans, parts, school_status, asset_owner)
    # A report beside the question names its device or says what fails (« la souris du poste 5 est
    # HS »): « Les élèves de CP en ont vraiment besoin » says why the question is asked.
    return [p for p in found if p.equipment or _FAILS.search(p.text)] if asks_status else []


def _reported(
    territory: Territory,
    text: str,
    spans: Sequence[tuple[int, int]],
    parts: Sequence[ParseResult],
    school_status: SchoolStatus | str,
    asset_owner: AssetOwner | str | None,
) -> tuple[list[Problem], bool]:
    """The parts that call for a ticket of their own, and whether a part asks how a ticket is going."""
    status = SchoolStatus(school_status)
    owner = AssetOwner(asset_owner) if asset_owner else None
    found: list[Problem] = []
    asks_status = False
    subject: str | None = None  # the device a part announcing the subject names
    for k, ((start, end), result) in enumerate(zip(spans, parts, strict=True)):
        if result.intent is Intent.TICKET_STATUS and result.confidence >= CLARIFY_THRESHOLD:
            asks_status = True  # « Je reviens vers vous au sujet de la demande 2026-00315 : avez-vous des nouvelles ? »
            continue
        if announces_subject(result):
            subject = subject or result.equipment
            continue
        if not confident_part(result):
            continue
        if not names_a_problem(result):
            continue
        if found and tells_more(text, start, end):
            continue
        connected = _CONNECTED.search(text[max(0, start - 40) : start]) is not None  # « Par ailleurs, … »
        if result.equipment is None and not connected and (
                (found and (_ANAPHORA.match(result.text) is not None or _NEED_IT_FR.search(result.text) is not None))
                or _NEED_IT.search(result.text) is not None):
            continue  # « Il affiche « Le programme a cessé de fonctionner » »: the device before, said again
        if found and not connected and _tried_part(result.text):
            continue  # « Testé depuis trois postes, en filaire et en wifi, même résultat »
        if found and found[-1].intent is Intent.CLASS_CHANGE and result.intent in _FAILURES \
                and _FAILS.search(result.text) is None:
            continue  # « Tout le matériel des 7 classes est concerné, ainsi que la connexion internet »: the move
        if result.intent is Intent.CLASS_CHANGE and _MOVED.search(result.text) and _ASKS.search(result.text) is None:
            continue
        if k + 1 < len(parts) and _lists_what_works(text, end, spans[k + 1][0], result, parts[k + 1]):
            continue
        equipment = result.equipment or (subject if not found else None)
        decision = decide(
            territory, intent=result.intent,
            equipment=(_EQUIPMENT.get(equipment) or Equipment(equipment)) if equipment else None,
            school_status=status, asset_owner=owner, text=result.text,
        )
        if decision.role is None:
            continue
        problem = Problem(start, end, text[start:end], result.intent, result.confidence, equipment, decision)
        another = _ANOTHER.search(problem.text) is not None
        same = None if another else next((i for i, f in enumerate(found) if same_problem(f.key, problem.key)), None)
        if same is None and equipment is None and not decision.by_words and not another and not connected:
            # « … ma messagerie académique est bloquée. La procédure me demande mon NUMEN … »: the
            # same intent again, routed by the intent's catch-all (no word of its own to route on).
            same = next((i for i, f in enumerate(found) if f.intent is result.intent), None)
        if same is None:
            found.append(problem)
        elif equipment is not None and (found[same].equipment is None or (
                found[same].intent is Intent.NETWORK_OUTAGE and equipment in NETWORK_DEVICES
                and found[same].equipment not in NETWORK_DEVICES)):
            # « plus aucune connexion internet ; tous les voyants de la box sont éteints »: the
            # problem's device is the one its next part names (an outage's, the network device).
            found[same] = replace(found[same], equipment=equipment)
    return found, asks_status


async def find_problems(
    nlu: NluBackend,
    territory: Territory,
    text: str,
    *,
    school_status: SchoolStatus | str = SchoolStatus.PUBLIC,
    asset_owner: AssetOwner | str | None = None,
) -> list[Problem]:
    """The problems of one message, each routed on its own; [] for a message with one problem."""
    return await _find(problems_of, nlu, territory, text, school_status, asset_owner)


async def find_problems_beside_question(
    nlu: NluBackend,
    territory: Territory,
    text: str,
    *,
    school_status: SchoolStatus | str = SchoolStatus.PUBLIC,
    asset_owner: AssetOwner | str | None = None,
) -> list[Problem]:
    """`problems_beside_question` of one message (for a message read as a status question)."""
    return await _find(problems_beside_question, nlu, territory, text, school_status, asset_owner)


async def _find(rule: Callable[..., list[Problem]], nlu: NluBackend, territory: Territory, text: str,
                school_status: SchoolStatus | str, asset_owner: AssetOwner | str | None) -> list[Problem]:
    """`rule` on the parts of one message, each parsed on its own; [] for a message not cut."""
    spans = problem_spans(text)
    if len(spans) < 2:
        return []
    parts = [await nlu.aparse(text[a:b]) for a, b in spans]
    return rule(territory, text, spans, parts, school_status=school_status, asset_owner=asset_owner)


def pending_key(pending: dict[str, Any]) -> ProblemKey:
    """`Problem.key` of a problem kept by `Problem.to_pending`."""
    return (pending["intent"], pending["org"], pending["equipment"])


def reading_of(problems: Sequence[T], intent: str, equipment: str | None, *,
               key: Callable[[T], ProblemKey] = lambda p: p.key) -> tuple[str, str | None]:  # type: ignore[attr-defined]
    """The intent and device of the ticket a message with several problems opens first: the first
    problem she reports, as it was understood on its own.

    « le vidéoprojecteur ne marche plus et la prise est arrachée » reads as a whole as building
    works, or as damage, naming the projector: a mix of its two problems, often leaning to the
    last one (« … et il faudrait aussi une formation » reads as a training request). The ticket
    is the projector's (SEM); the socket's is offered after it. Without problems, the message's
    own reading.
    """
    if not problems:
        return intent, equipment
    first = key(problems[0])
    return first[0], first[2]


def without(text: str, others: Sequence[dict[str, Any]]) -> str:
    """The message without the parts of the other problems (`Problem.to_pending`), for the rules."""
    for other in others:
        text = text.replace(other["text"], " ")
    return text


def not_covered(problems: Sequence[T], intent: str, equipment: str | None, *,
                key: Callable[[T], ProblemKey] = lambda p: p.key) -> list[T]:  # type: ignore[attr-defined]
    """The problems a ticket about this intent and device leaves without a ticket (known before the
    ticket is routed: its rules read the message `without` them).

    When the ticket matches none of them (the whole message was read as something else), it
    stands for the first problem: the rest are left.
    """
    rest = [p for p in problems if not same_problem((intent, key(p)[1], equipment), key(p))]
    return rest[1:] if problems and len(rest) == len(problems) else rest
