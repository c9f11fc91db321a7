"""`/start asset-<TAG>` (Telegram) or `?asset=<TAG>` (web chat): report a problem on a known device."""

from __future__ import annotations

import re

from bot.flows import common, smalltalk
from bot.state import Draft, Step
from bot.turn import Turn
from handlers import teacher_tickets
from domain.labels import EQUIPMENT_FR

_ASSET = re.compile(r"^asset-([A-Za-z0-9-]{3,60})$")


async def start(turn: Turn, payload: str | None) -> None:
    """A start with or without a payload, from a linked sender."""
    match = _ASSET.match(payload or "")
    if not match:
        smalltalk.ask_for_problem(turn, "Bonjour ! Je suis le guichet numérique des écoles.")
        return
    tag = match.group(1).upper()
    asset = await teacher_tickets.asset_by_tag(turn.session, turn.territory.id, tag)
    if asset is None:
        smalltalk.ask_for_problem(turn, f"Je ne trouve pas le matériel {tag} dans l'inventaire.")
        return
    turn.state.reset()
    turn.state.draft = Draft(
        asset_tag=asset.tag, equipment=asset.type, equipment_known=True,
        room=asset.room.name if asset.room else None, room_asked=True, details_asked=True,
        school_id=asset.school_id, duplicate_checked=False,
    )
    turn.state.step = Step.DESCRIBE
    device = EQUIPMENT_FR.get(asset.type, asset.type) + (f" {asset.model}" if asset.model else "")
    where = []
    if asset.room is not None:
        where.append(asset.room.name)
    school = await common.school(turn, asset.school_id)
    if school is not None:
        where.append(school.name)
    turn.say(
        f"Vous signalez un problème sur : {device} (étiquette {asset.tag})"
        + (f", {', '.join(where)}" if where else "")
        + ". Que se passe-t-il ? Décrivez-le en quelques mots."
    )
