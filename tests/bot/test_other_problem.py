"""A message reporting two problems: the first becomes the ticket, then the desk offers one for
the other, routed on its own; nothing opens without her « oui » (bot.flows.other_problem)."""

from __future__ import annotations

from sqlalchemy import select

from desk.models import Organisation, Ticket
from tests.bot.conftest import Chat

TWO = ("le vidéoprojecteur de la classe de CM2 ne s'allume plus, le voyant reste éteint. "
       "Par ailleurs la prise électrique murale près du tableau est arrachée")
OFFER = "Votre message signale aussi un autre problème : « la prise électrique murale près du tableau est arrachée »."


async def _tickets(db) -> list[tuple[str, str | None, str]]:
    async with db.sessions() as session:
        rows = (await session.execute(select(Ticket.intent, Ticket.equipment, Organisation.kind)
                                      .join(Organisation, Organisation.id == Ticket.organisation_id)
                                      .order_by(Ticket.id))).all()
    return [tuple(r) for r in rows]


async def _send(chat: Chat) -> None:
    for _ in range(6):
        if "Envoyer" in chat.labels:
            await chat.press("Envoyer")
            return
        if "Toujours en panne" in chat.labels:
            await chat.press("Toujours en panne")
        elif "Passer" in chat.labels:
            await chat.press("Passer")
        else:
            raise AssertionError(chat.text)
    raise AssertionError(chat.text)


async def test_declined_offer_opens_nothing_more(chat: Chat, desk_db) -> None:
    await chat.onboard()
    await chat.say(TWO)
    await _send(chat)
    assert OFFER in chat.text and "Il relève de la commune de Firminy." in chat.text
    assert chat.labels == ["Oui, ouvrir une autre demande", "Non merci"]
    await chat.press("Non merci")
    assert "je n'ouvre pas d'autre demande" in chat.text
    assert await _tickets(desk_db) == [("hardware_failure", "projector", "sem")]
    await chat.payload("more:yes")  # the offer's button, pressed again
    assert "plus valable" in chat.text
    assert len(await _tickets(desk_db)) == 1


async def test_typed_oui_opens_the_second_report_with_the_room_of_the_message(chat: Chat, desk_db) -> None:
    await chat.onboard()
    await chat.say(TWO)
    await _send(chat)
    await chat.say("oui")
    assert "Voici le résumé" in chat.text and "classe de CM2" in chat.text, chat.text
    await chat.press("Envoyer")
    assert "2026-00002" in chat.text and "commune de Firminy" in chat.text
    assert await _tickets(desk_db) == [("hardware_failure", "projector", "sem"), ("building_works", None, "commune")]


async def test_another_message_instead_of_an_answer_drops_the_offer(chat: Chat, desk_db) -> None:
    await chat.onboard()
    await chat.say(TWO)
    await _send(chat)
    await chat.say("où en est ma demande ?")
    assert "2026-00001" in chat.text
    await chat.say("oui")
    assert "Voici le résumé" not in chat.text
    assert len(await _tickets(desk_db)) == 1


async def test_a_tutorial_that_solves_the_first_problem_still_offers_the_other(chat: Chat, desk_db) -> None:
    """Two devices of the SEM: the paper jam's tutorial works, the projector still gets its offer."""
    await chat.onboard()
    await chat.say("l'imprimante du bureau est en bourrage papier. Par ailleurs le vidéoprojecteur de la "
                   "classe de CM2 ne s'allume plus du tout")
    assert "Avez-vous essayé" in chat.text and "bourrage" in chat.text.lower(), chat.text
    await chat.press("Ça a marché")
    assert "Aucune demande n'a été ouverte." in chat.text
    assert "signale aussi un autre problème : « le vidéoprojecteur de la classe de CM2 ne s'allume plus du tout »" in chat.text
    assert "Il relève de Saint-Étienne Métropole." in chat.text, chat.text
    await chat.press("Oui, ouvrir une autre demande")
    await _send(chat)
    assert await _tickets(desk_db) == [("hardware_failure", "projector", "sem")]
