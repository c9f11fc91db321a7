"""`/start asset-<TAG>` (Telegram) or `?asset=<TAG>` (web chat): report a problem on a known device."""

from __future__ import annotations

import re

from bot.flows import common, smalltalk
from bot.state import Draft, Step
from bot.turn import Turn
from desk.models import Asset
from handlers import teacher_tickets
from domain.labels import EQUIPMENT_FR

_ASSET = re.compile(r"^asset-([A-Za-z0-9-]{3,60})$")


async def label_asset(turn: Turn, payload: str | None) -> Asset | None:
    """The inventory's device a label's deep link names (`asset-<TAG>`), or None."""
    match = _ASSET.match(payload or "")
    if not match:
        return None
    return await teacher_tickets.asset_by_tag(turn.session, turn.territory.id, match.group(1).upper())


def device_line(asset: Asset) -> str:
    """« Vidéoprojecteur Epson EB-W51 (étiquette SEM-004512) »."""
    device = EQUIPMENT_FR.get(asset.type, asset.type) + (f" {asset.model}" if asset.model else "")
    return f"{device} (étiquette {asset.tag})"


async def start(turn: Turn, payload: str | None) -> None:
    """A start with or without a payload, from a linked sender.

    From a label the chat knows the device, its room and its school: the teacher only says what is
    wrong, and that one message becomes the ticket (after a tutorial, when one fits).
    """
    match = _ASSET.match(payload or "")
    if not match:
        smalltalk.ask_for_problem(turn, "Bonjour ! Je suis le guichet numérique des écoles.")
        return
    asset = await label_asset(turn, payload)
    if asset is None:
        smalltalk.ask_for_problem(turn, f"Je ne trouve pas le matériel {match.group(1).upper()} dans l'inventaire.")
        return
    turn.state.reset()
    turn.state.draft = Draft(
        asset_tag=asset.tag, equipment=asset.type, equipment_known=True,
        room=asset.room.name if asset.room else None, room_asked=True, details_asked=True,
        school_id=asset.school_id, duplicate_checked=False, from_label=True,
    )
    turn.state.step = Step.DESCRIBE
    where = []
    if asset.room is not None:
        where.append(asset.room.name)
    school = await common.school(turn, asset.school_id)
    if school is not None:
        where.append(school.name)
    turn.say(
        f"Vous signalez un problème sur : {device_line(asset)}"
        + (f", {', '.join(where)}" if where else "")
        + ". Que se passe-t-il ? Décrivez-le en quelques mots."
    )
