"""Onboarding: link a new sender to a school of the territory (UAI or fuzzy name) and a role.

Messages sent before the link are kept and handled once the sender is linked. Schools are
only ever chosen among the territory's: an unknown school is never invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot import messages as m
from bot.flows import common
from bot.payloads import button
from bot.state import Step
from bot.turn import Turn
from domain.formats import UAI_TYPED_RE
from domain.labels import REQUESTER_ROLE_FR
from domain.uai import is_valid_uai, normalise_uai
from nlu import ParseResult
from domain.vocabulary import SMALL_TALK_INTENTS
from handlers import schools as schools_of

WELCOME = "Bonjour ! Je suis le guichet numérique des écoles."
ASK_SCHOOL = (
    "Pour commencer, dans quelle école travaillez-vous ? Écrivez son nom et sa commune "
    "(par exemple « école Jules Ferry Firminy ») ou son code UAI (par exemple 0421234A)."
)
ROLES = {value: label.lower() for value, label in REQUESTER_ROLE_FR.items()}
MAX_HELD = 5
MIN_SCORE = 70.0
#: Scores this close to the best one are as good a match: all of them are offered.
SAME_MATCH = 5.0
#: Schools offered at once (one button each); beyond that, the teacher is asked to narrow.
MAX_OFFERED = 6
NOT_LISTED = (
    "D'accord. Écrivez le nom de votre école suivi de sa commune, ou son code UAI "
    "(sept chiffres et une lettre, par exemple 0421234A, sur les courriers de l'académie) : "
    "je vous proposerai les écoles qui correspondent."
)
#: Words every school name has: they say nothing about which school is meant.
_GENERIC = {
    "ecole", "ecoles", "elementaire", "primaire", "maternelle", "groupe", "scolaire", "publique",
    "privee", "prive", "de", "du", "des", "la", "le", "les", "l", "d", "a", "en", "ec", "mat", "elem",
}
_UAI = UAI_TYPED_RE


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    commune: str
    uai: str

    @property
    def label(self) -> str:
        label = f"{self.name} — {self.commune}"
        return label if len(label) <= 60 else label[:59] + "…"


def _key(text: str) -> str:
    words = re.split(r"[^a-z0-9]+", common.plain(text))
    return " ".join(w for w in words if w and w not in _GENERIC)


async def _schools(turn: Turn) -> list[Candidate]:
    rows = await schools_of.territory_schools(turn.session, turn.territory.id)
    return [Candidate(r.id, r.name, r.commune, r.uai) for r in rows]


async def find_schools(turn: Turn, text: str) -> tuple[list[Candidate], str | None]:
    """The schools matching a UAI or a name (+ commune), best first; or none and the reason in French.

    Every school that matches as well as the best one is kept (six « Jean Jaurès » are six
    answers); when one clearly wins, the next two follow it in case of a typo.
    """
    match = _UAI.search(text)
    if match:
        code = normalise_uai(match.group(1))
        if not is_valid_uai(code):
            return [], f"Le code UAI {code} ne semble pas valide (vérifiez la lettre finale)."
        found = await schools_of.school_by_uai(turn.session, turn.territory.id, code)
        if found is None:
            return [], f"Je ne trouve pas d'école avec le code UAI {code} sur ce territoire."
        return [Candidate(found.id, found.name, found.commune.name, found.uai)], None
    query = _key(text)
    if len(query) < 3:
        return [], "Il me faut un peu plus de précisions : le nom de l'école et sa commune."
    schools = await _schools(turn)
    choices = {s.id: _key(f"{s.name} {s.commune}") for s in schools}
    scored = process.extract(query, choices, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=MIN_SCORE)
    # Break ties of the subset-friendly token_set_ratio with the stricter WRatio.
    ranked = sorted(scored, key=lambda hit: (-hit[1], -fuzz.WRatio(query, hit[0])))
    if not ranked:
        return [], "Je ne trouve pas cette école sur le territoire."
    by_id = {s.id: s for s in schools}
    best_score = ranked[0][1]
    as_good = [hit for hit in ranked if hit[1] >= best_score - SAME_MATCH]
    kept = as_good if len(as_good) > 1 else ranked[:3]
    return [by_id[hit[2]] for hit in kept], None


def ask_school(turn: Turn, prefix: str | None = None) -> None:
    turn.state.step = Step.ONBOARD_SCHOOL
    turn.say((prefix + "\n" if prefix else "") + ASK_SCHOOL)


def _narrowing_hint(text: str, found: list[Candidate], shown: list[Candidate]) -> str:
    """How to find one's school among several: the commune (an example from the list) or the UAI."""
    example = f"{' '.join(text.split())[:60]} {shown[0].commune}"
    said = f" {_key(text)} "
    named = any(f" {_key(c.commune)} " in said for c in found)  # « Saint-Étienne » is two words
    lead = (f"{len(found)} écoles correspondent ; voici les {len(shown)} plus proches. "
            if len(found) > len(shown) else "")
    if named:
        return lead + "Si la vôtre n'y est pas, donnez son code UAI (sur les courriers de l'académie)."
    return (lead + f"Si la vôtre n'y est pas, ajoutez la commune (par exemple « {example} ») "
            "ou donnez son code UAI (sur les courriers de l'académie).")


async def search(turn: Turn, text: str) -> None:
    """Offer the matching schools as buttons, with how to narrow the list when there are several."""
    found, problem = await find_schools(turn, text)
    if not found:
        turn.state.step = Step.ONBOARD_SCHOOL
        turn.say(
            f"{problem} Essayez avec le code UAI de l'école (il figure sur les courriers officiels) "
            "ou écrivez son nom autrement, avec la commune."
        )
        return
    candidates = found[:MAX_OFFERED]
    turn.state.step = Step.ONBOARD_PICK
    turn.state.school_candidates = [c.id for c in candidates]
    if len(candidates) == 1:
        c = candidates[0]
        turn.say(f"Est-ce bien votre école : {c.name} ({c.commune}, UAI {c.uai}) ?",
                 [button(f"Oui : {c.label}", "school", c.id),
                  button("Non, ce n'est pas la mienne", "school", "none")])
        return
    lines = ["Laquelle de ces écoles est la vôtre ?"]
    lines += [f"• {c.name} ({c.commune}, UAI {c.uai})" for c in candidates]
    lines.append(_narrowing_hint(text, found, candidates))
    turn.say(
        "\n".join(lines),
        [button(c.label, "school", c.id) for c in candidates] + [button("Aucune de ces écoles", "school", "none")],
    )


async def on_message(turn: Turn) -> None:
    """A message from a sender not yet linked to a school."""
    inbound, state = turn.inbound, turn.state
    if inbound.kind == m.KIND_START:
        if inbound.start_payload:
            state.held_start = inbound.start_payload
            if await offer_label_school(turn, inbound.start_payload):
                return
        ask_school(turn, WELCOME)
        return
    if inbound.attachments:
        state.held_attachments = state.held_attachments + list(turn.attachment_ids)
    text = (inbound.text or "").strip()
    if state.step in (Step.ONBOARD_SCHOOL, Step.ONBOARD_PICK) and common.has_words(text):
        await search(turn, text)
        return
    if state.step is Step.ONBOARD_HERE and common.has_words(text):
        await _here_text(turn, text)
        return
    if state.step is Step.ONBOARD_ROLE and common.has_words(text):
        role = _role_from_text(text)
        if role:
            await link(turn, role)
        else:
            ask_role(turn, "Je n'ai pas compris.")
        return
    if common.has_words(text) and (_UAI.search(text) or await _names_a_school(turn, text)):
        await search(turn, text)
        return
    parsed = await turn.services.nlu.aparse(text[: common.MAX_TRIAGE_CHARS]) if common.has_words(text) else None
    if parsed is not None:
        common.note_language(turn, parsed.language)
    if parsed is not None and len(state.held_texts) < MAX_HELD and not _is_small_talk(parsed, text):
        state.held_texts = state.held_texts + [text]
        ask_school(turn, WELCOME + " J'ai bien noté votre message : je m'en occupe dès que je connais votre école.")
        return
    ask_school(turn, WELCOME)


async def offer_label_school(turn: Turn, payload: str) -> bool:
    """A label scanned by someone the desk does not know yet: the device names the school, she only
    confirms it (one tap) before her role; False when the label names no school of the inventory."""
    from bot.flows import deeplink

    asset = await deeplink.label_asset(turn, payload)
    school = await common.school(turn, asset.school_id) if asset is not None else None
    if asset is None or school is None:
        return False
    turn.state.school_id = school.id
    turn.state.step = Step.ONBOARD_HERE
    room = f", {asset.room.name}" if asset.room is not None else ""
    turn.say(f"{WELCOME}\nVous signalez un problème sur : {deeplink.device_line(asset)}{room}.\n"
             f"Vous êtes bien {at_school(school.name)} ({school.commune.name}) ?",
             [button("Oui", "here", "yes"), button("Non", "here", "no")])
    return True


def at_school(name: str) -> str:
    """« à l'école élémentaire Jules Ferry » from « École élémentaire Jules Ferry »; « à l'école X » otherwise."""
    words = name.split()
    if words and common.plain(words[0]) == "ecole":
        rest = words[1:]
        if rest and common.plain(rest[0]) in ("elementaire", "primaire", "maternelle", "privee", "publique"):
            rest = [rest[0].lower(), *rest[1:]]
        return "à l'école " + " ".join(rest)
    return "à l'école " + name


async def on_here_button(turn: Turn, value: str) -> bool:
    """here:yes (the label's school is hers: her role next) | here:no (the usual school question)."""
    state = turn.state
    if state.step is not Step.ONBOARD_HERE or state.school_id is None or value not in ("yes", "no"):
        return False
    if value == "no":
        state.school_id = None
        ask_school(turn, "D'accord.")
        return True
    chosen = await common.school(turn, state.school_id)
    if chosen is None:
        return False
    ask_role(turn, f"C'est noté : {chosen.name} ({chosen.commune.name}).")
    return True


async def _here_text(turn: Turn, text: str) -> None:
    """« oui » / « non » typed instead of tapped; a school named is her answer; anything else is kept
    for after the link (her problem, told early) and the question asked again."""
    words = common.plain(text)
    if words.startswith(("oui", "ok", "exact", "c'est ca", "bien sur")):
        await on_here_button(turn, "yes")
        return
    if words.startswith(("non", "pas du tout")):
        await on_here_button(turn, "no")
        return
    if _UAI.search(text) or await _names_a_school(turn, text):
        turn.state.school_id = None
        await search(turn, text)
        return
    state = turn.state
    if len(state.held_texts) < MAX_HELD:
        state.held_texts = state.held_texts + [text]
    chosen = await common.school(turn, state.school_id)
    where = f"{at_school(chosen.name)} ({chosen.commune.name})" if chosen is not None else "dans cette école"
    turn.say(f"J'ai bien noté votre message : je m'en occupe juste après. Vous êtes bien {where} ?",
             [button("Oui", "here", "yes"), button("Non", "here", "no")])


def _is_small_talk(parsed: ParseResult, text: str) -> bool:
    return parsed.intent in SMALL_TALK_INTENTS and parsed.confidence >= 0.6 and len(text) < 40


async def _names_a_school(turn: Turn, text: str) -> bool:
    """True when a first message is just a school's name (« ecole jules ferry firminy »)."""
    if "ecole" not in common.plain(text) or len(text) > 120:
        return False
    candidates, _ = await find_schools(turn, text)
    return bool(candidates)


def _role_from_text(text: str) -> str | None:
    words = common.plain(text)
    if "direct" in words:
        return "director"
    if any(w in words for w in ("enseign", "profess", "maitre", "maitresse", "instit", "prof")):
        return "teacher"
    return None


def ask_role(turn: Turn, prefix: str = "") -> None:
    turn.state.step = Step.ONBOARD_ROLE
    turn.say(
        (prefix + " " if prefix else "") + "Vous êtes…",
        [button(REQUESTER_ROLE_FR["teacher"], "role", "teacher"), button(REQUESTER_ROLE_FR["director"], "role", "director")],
    )


async def on_school_button(turn: Turn, value: str) -> bool:
    """school:<id> | school:none; False when the button is not valid any more."""
    state = turn.state
    if value == "none":
        if state.step not in (Step.ONBOARD_PICK, Step.ONBOARD_SCHOOL):
            return False
        state.school_candidates = []
        turn.state.step = Step.ONBOARD_SCHOOL
        turn.say(NOT_LISTED)
        return True
    if state.step is not Step.ONBOARD_PICK or not value.isdigit() or int(value) not in state.school_candidates:
        return False
    chosen = await common.school(turn, int(value))
    if chosen is None:
        return False
    state.school_id = chosen.id
    state.school_candidates = []
    ask_role(turn, f"C'est noté : {chosen.name} ({chosen.commune.name}).")
    return True


async def on_role_button(turn: Turn, value: str) -> bool:
    if turn.state.step is not Step.ONBOARD_ROLE or value not in ROLES or turn.state.school_id is None:
        return False
    await link(turn, value)
    return True


async def link(turn: Turn, role: str) -> None:
    """Create (or complete) the requester and replay what was held."""
    from bot.flows import replay

    state = turn.state
    chosen = await common.school(turn, state.school_id)
    if chosen is None:
        ask_school(turn, "Je ne retrouve pas cette école.")
        return
    requester = await schools_of.link_requester(
        turn.session, turn.territory.id, channel=turn.inbound.channel.value,
        external_id=turn.inbound.sender_id, school_id=chosen.id, role=role, name=turn.inbound.display_name,
    )
    turn.requester = requester
    turn.conversation.requester_id = requester.id
    state.step = Step.IDLE
    turn.say(f"Merci ! Vous êtes inscrit·e comme {ROLES[role]} : {chosen.name} ({chosen.commune.name}).")
    await replay.held(turn)

