"""Reporting: one message to a ticket, tutorials first, only the missing questions, theft checklist."""

from __future__ import annotations

from sqlalchemy import func, select

from desk.models import Attachment, Deflection, Ticket, TicketEvent
from kb import KnowledgeBase
from tests.bot.conftest import FIRMINY_JF, Chat, school_id


async def _tickets(db) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def _skip_tutorial(chat: Chat) -> None:
    if "Toujours en panne" in chat.labels:
        await chat.press("Toujours en panne")


async def test_details_question_fits_the_channel_and_the_territory(engine, desk_db) -> None:
    """The web chat (no upload) is not asked for a photo, Telegram is; the example tag is the school's projector's."""
    from domain.vocabulary import Channel

    for channel, photo in ((Channel.WEBCHAT, False), (Channel.TELEGRAM, True)):
        chat = Chat(engine, sender=f"teacher-{channel}", channel=channel)
        await chat.onboard()
        await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
        await _skip_tutorial(chat)
        assert "(par exemple SEM-004512)" in chat.text
        assert ("photo" in chat.text) is photo


async def test_one_message_report_gives_reference_and_date(chat: Chat, desk_db) -> None:
    """The projector message needs no question but the optional tag: the answer has reference, SEM and date."""
    await chat.onboard()
    await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    await _skip_tutorial(chat)
    assert "étiquette" in chat.text and chat.labels == ["Passer"]
    await chat.press("Passer")
    assert "Voici le résumé" in chat.text and "Vidéoprojecteur" in chat.text and "classe de CM2" in chat.text
    assert chat.labels == ["Envoyer", "Modifier", "Annuler"]
    await chat.press("Envoyer")
    assert "2026-00001" in chat.text
    assert "Saint-Étienne Métropole" in chat.text
    assert "le mardi 24 novembre avant 12 h" in chat.text
    (ticket,) = await _tickets(desk_db)
    assert ticket.equipment == "projector" and ticket.room == "classe de CM2" and ticket.channel == "webchat"


async def test_asset_tag_skips_questions(chat: Chat, desk_db) -> None:
    """A known asset tag gives equipment and room: straight to the summary."""
    await chat.onboard()
    await chat.say("l'appareil SEM-004514 ne fonctionne plus, voyant orange")
    await _skip_tutorial(chat)
    assert "Voici le résumé" in chat.text and "SEM-004514" in chat.text and "Bureau de la direction" in chat.text


async def test_deflection_solved_opens_no_ticket(chat: Chat, desk_db) -> None:
    """« Ça a marché » closes with no ticket and records a solved deflection."""
    await chat.onboard()
    await chat.say("comment brancher mon portable au vidéoprojecteur ?")
    assert "Avez-vous essayé" in chat.text
    assert chat.last[0].links and chat.last[0].links[0].url.startswith("http://guichet.test/kb/")
    await chat.press("Ça a marché")
    assert "Aucune demande n'a été ouverte" in chat.text
    assert await _tickets(desk_db) == []
    async with desk_db.sessions() as session:
        outcomes = (await session.scalars(select(Deflection.outcome))).all()
    assert outcomes and set(outcomes) == {"solved"}


async def test_deflection_not_solved_opens_ticket_with_tried_article(chat: Chat, desk_db) -> None:
    """« Toujours en panne » goes on to a ticket noting the tutorial, and records not_solved."""
    await chat.onboard()
    await chat.say("comment brancher mon portable au vidéoprojecteur ?")
    slug = chat.last[0].links[0].url.rsplit("/", 1)[1]
    await chat.press("Toujours en panne")
    for _ in range(4):
        if "Envoyer" in chat.labels:
            break
        await chat.press(chat.labels[0] if "Passer" not in chat.labels else "Passer")
    assert "Tutoriel déjà essayé : oui" in chat.text
    await chat.press("Envoyer")
    (ticket,) = await _tickets(desk_db)
    async with desk_db.sessions() as session:
        kb_events = (await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "kb"))).all()
        outcomes = (await session.scalars(select(Deflection.outcome))).all()
    assert kb_events and slug in kb_events[0].data["articles"]
    title = KnowledgeBase.from_directory().get(slug).title
    assert title in kb_events[0].body and slug not in kb_events[0].body
    assert "not_solved" in outcomes


async def test_missing_equipment_is_asked_with_buttons(chat: Chat, desk_db) -> None:
    """A breakdown with no device named asks which one, then where."""
    await chat.onboard()
    await chat.say("c'est en panne depuis ce matin, plus rien ne s'allume dans la classe")
    if "Je veux être sûr" in chat.text:
        await chat.press("Panne matérielle")
    await _skip_tutorial(chat)
    assert "Quel appareil est concerné ?" in chat.text
    assert "Vidéoprojecteur" in chat.labels and "Autre" in chat.labels
    await chat.press("Tablette")
    if "Dans quelle salle" in chat.text:
        await chat.say("salle 3")
    if "étiquette" in chat.text:
        await chat.press("Passer")
    assert "Voici le résumé" in chat.text and "Tablette" in chat.text


async def test_summary_cancel_and_edit(chat: Chat, desk_db) -> None:
    """« Modifier » changes the room; « Annuler » sends nothing."""
    await chat.onboard()
    await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    await _skip_tutorial(chat)
    await chat.press("Passer")
    await chat.press("Modifier")
    await chat.press("Le lieu")
    await chat.say("salle 12")
    await chat.press("Passer") if "Passer" in chat.labels else None
    assert "• Lieu : salle 12" in chat.text
    await chat.press("Annuler")
    assert "rien n'a été envoyé" in chat.text
    assert await _tickets(desk_db) == []


async def test_photo_joins_the_report(chat: Chat, desk_db) -> None:
    """A photo sent at the optional question becomes an attachment of the ticket."""
    await chat.onboard()
    await chat.say("le vidéoprojecteur de la classe de CM2 ne s'allume plus")
    await _skip_tutorial(chat)
    await chat.photo()
    assert "le fichier est joint" in chat.text and "Voici le résumé" in chat.text
    await chat.press("Envoyer")
    (ticket,) = await _tickets(desk_db)
    async with desk_db.sessions() as session:
        files = (await session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id))).all()
    assert [f.filename for f in files] == ["photo.jpg"] and files[0].event_id is not None


async def test_theft_opens_two_linked_tickets_and_explains_the_checklist(chat: Chat, desk_db) -> None:
    """A theft opens the commune's declaration and SEM's replacement, then the 48 h checklist."""
    await chat.onboard()
    await chat.say("cambriolage cette nuit, la tablette SEM-004513 a été volée")
    assert "Voici le résumé" in chat.text and "Vol" in chat.text
    await chat.press("Envoyer")
    text = chat.text
    assert "48 h" in text and "assureur" in text and "plainte" in text
    assert "fiche d'engagement de versement" in text
    assert "La commune de Firminy doit déclarer le vol" in text  # its article at the start of a sentence
    assert ": la commune de Firminy doit déclarer le sinistre" in text  # and inside one
    assert "N-1 80 %" in text and "plus de 6 ans" in text
    assert "participation serait de 80 %, soit 232 €" in text  # acquired 2025, worth 290 €
    declaration, replacement = await _tickets(desk_db)
    assert declaration.linked_ticket_id == replacement.id and replacement.linked_ticket_id == declaration.id
    assert declaration.reference in text and replacement.reference in text


async def test_the_teacher_reads_her_own_words_on_the_replacement(chat: Chat, desk_db) -> None:
    """The replacement's history quotes what she wrote, with no « Suite de la demande » she never typed."""
    await chat.onboard()
    await chat.say("cambriolage cette nuit, la tablette SEM-004513 a été volée")
    await chat.press("Envoyer")
    _, replacement = await _tickets(desk_db)
    await chat.say(f"où en est la demande {replacement.reference} ?")
    assert "Votre message : « cambriolage cette nuit, la tablette SEM-004513 a été volée »" in chat.text
    assert "Suite de la demande" not in chat.text


async def test_low_confidence_asks_instead_of_guessing(chat: Chat, desk_db) -> None:
    """An ambiguous message gets the likely intents as buttons; the chosen one drives the report."""
    await chat.onboard()
    await chat.say("souci sur le pc de la classe")
    assert "Je veux être sûr de bien comprendre" in chat.text
    assert {"Panne matérielle", "Problème logiciel", "Autre chose"} <= set(chat.labels)
    async with desk_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
    await chat.press("Panne matérielle")
    await _skip_tutorial(chat)
    assert "Dans quelle salle" in chat.text or "étiquette" in chat.text or "Voici le résumé" in chat.text
    await chat.payload("intent:hardware_failure")
    assert "Ce bouton n'est plus valable" in chat.text


async def test_deep_link_asset_opens_a_report_on_that_device(chat: Chat, desk_db) -> None:
    """`/start asset-SEM-004512` names the device, its room and school; a known teacher's one message is the
    report: the ticket opens on that device with no summary to confirm (after a tutorial, if one fits)."""
    await chat.onboard()
    await chat.start("asset-SEM-004512")
    assert "SEM-004512" in chat.text and "CM2" in chat.text and "Que se passe-t-il" in chat.text
    await chat.say("il ne s'allume plus")
    await _skip_tutorial(chat)
    assert "Voici le résumé" not in chat.text and "C'est noté : votre demande 20" in chat.text
    (ticket,) = await _tickets(desk_db)
    assert ticket.asset_id is not None and ticket.equipment == "projector" and ticket.room == "CM2"


async def test_deep_link_before_onboarding_asks_only_to_confirm_the_school(chat: Chat, desk_db) -> None:
    """A label scanned by an unknown sender: « Vous êtes bien à l'école … ? » (one tap), her role, then
    what is wrong; her one message opens the ticket on the device, for the label's school."""
    await chat.start("asset-SEM-004512")
    assert "dans quelle école" not in chat.text
    assert "Vous êtes bien à l'école élémentaire Jules Ferry (Firminy) ?" in chat.text
    assert "SEM-004512" in chat.text and chat.labels == ["Oui", "Non"]
    await chat.press("Oui")
    assert "Vous êtes" in chat.text and "Enseignant·e" in chat.labels
    await chat.press("Enseignant")
    assert "Vous êtes inscrit·e" in chat.text and "Que se passe-t-il" in chat.text
    await chat.say("l'image est toute floue et jaune")
    await _skip_tutorial(chat)
    (ticket,) = await _tickets(desk_db)
    assert ticket.asset_id is not None and ticket.school_id == await school_id(desk_db, FIRMINY_JF)
    assert ticket.requester_id is not None and ticket.channel == "webchat"


async def test_deep_link_no_falls_back_to_the_school_question(chat: Chat, desk_db) -> None:
    """« Non » asks the usual school question; once linked, the device of the label is still the report's."""
    await chat.start("asset-SEM-004512")
    await chat.press("Non")
    assert "dans quelle école" in chat.text
    await chat.onboard()
    assert "SEM-004512" in chat.text and "Que se passe-t-il" in chat.text


async def test_deep_link_words_before_the_tap_are_kept(chat: Chat, desk_db) -> None:
    """« oui » typed is the tap; a problem told before confirming is kept and reported after the link."""
    await chat.start("asset-SEM-004512")
    await chat.say("le projecteur ne s'allume plus du tout")
    assert "J'ai bien noté votre message" in chat.text and chat.labels == ["Oui", "Non"]
    await chat.say("oui")
    await chat.press("Directeur")
    await _skip_tutorial(chat)
    (ticket,) = await _tickets(desk_db)
    assert "ne s'allume plus" in ticket.description and ticket.asset_id is not None


async def _onboard_victor_hugo(chat: Chat) -> None:
    from tests.bot.conftest import FIRMINY_VH

    await chat.say(FIRMINY_VH)
    await chat.press("Victor Hugo")
    await chat.press("Enseignant")


async def test_a_tag_of_another_school_is_asked_about_never_switched_silently(chat: Chat, desk_db) -> None:
    """A Victor Hugo teacher types the tag of Jules Ferry's printer: she is asked, her school
    and the room she wrote stay until she says it is that device."""
    await _onboard_victor_hugo(chat)
    await chat.say("l'imprimante SEM-004514 de la salle des maîtres ne marche plus")
    assert "L'étiquette SEM-004514 (Imprimante) est celle d'une autre école" in chat.text
    assert "École élémentaire Jules Ferry (Firminy)" in chat.text
    assert "Votre école : École primaire Victor Hugo (Firminy)" in chat.text
    assert chat.labels == ["Oui, ce matériel-là", "Non, c'est dans mon école"]
    await chat.press("Non, c'est dans mon école")
    await _skip_tutorial(chat)
    assert "étiquette" in chat.text  # asked again for the tag of her own device
    await chat.press("Passer")
    assert "Voici le résumé" in chat.text
    assert "École primaire Victor Hugo" in chat.text and "salle des maîtres" in chat.text
    assert "(étiquette" not in chat.text and "Jules Ferry" not in chat.text  # her words stay in the description


async def test_a_tag_of_another_school_confirmed_reports_that_device(chat: Chat, desk_db) -> None:
    await _onboard_victor_hugo(chat)
    await chat.say("l'imprimante SEM-004514 de la salle des maîtres ne marche plus")
    await chat.say("oui")
    await _skip_tutorial(chat)
    assert "Voici le résumé" in chat.text
    assert "SEM-004514" in chat.text and "École élémentaire Jules Ferry (Firminy)" in chat.text
    assert "salle des maîtres" in chat.text  # what she wrote, not the inventory's room
    await chat.press("Envoyer")
    (ticket,) = await _tickets(desk_db)
    assert ticket.room == "salle des maîtres"


async def test_two_tablets_stay_two_from_the_summary_to_the_ticket(chat: Chat, desk_db) -> None:
    """« deux tablettes » is not « Tablette »: the summary, the subject and the ticket keep 2."""
    await chat.onboard()
    await chat.say("on nous a volé deux tablettes dans la classe de CE1 cette nuit")
    for _ in range(4):
        if "Voici le résumé" in chat.text:
            break
        await chat.press(chat.labels[-1] if "Passer" not in chat.labels else "Passer")
    assert "• Matériel : Tablette (2)" in chat.text
    await chat.press("Envoyer")
    tickets = await _tickets(desk_db)
    assert tickets and {t.quantity for t in tickets} == {2}
    assert all("Tablette (2)" in t.subject for t in tickets)


async def test_a_see_also_tutorial_is_not_counted_as_an_offer(chat: Chat, desk_db) -> None:
    """« Ça a marché » answers the tutorial offered first; the « À voir aussi » one is a pointer."""
    await chat.onboard()
    await chat.say("l'imprimante n'imprime plus, bourrage papier")
    assert "À voir aussi" in chat.text and len(chat.last[0].links) == 2
    first = chat.last[0].links[0].url.rsplit("/", 1)[1]
    await chat.press("Ça a marché")
    async with desk_db.sessions() as session:
        recorded = (await session.execute(select(Deflection.slug, Deflection.outcome))).all()
    assert [tuple(r) for r in recorded] == [(first, "solved")]


async def test_a_report_in_english_is_understood_and_answered_in_french(chat: Chat, desk_db) -> None:
    """« Hello, the projector… » from a teacher not yet known: told once that the desk answers in
    French, asked for her school, and the report goes on about the projector (issue 12, item 15)."""
    from bot.flows.common import FRENCH_ONLY

    await chat.say("Hello, the projector in my classroom won't turn on anymore")
    assert FRENCH_ONLY.replace("\u202f", " ") in chat.text and "dans quelle école" in chat.text
    assert "Que puis-je faire pour vous" not in chat.text
    await chat.onboard()
    assert "Je reprends votre premier message" in chat.text and "Dans quelle salle" in chat.text
    await chat.say("CM2")
    await _skip_tutorial(chat)
    if "Passer" in chat.labels:  # the optional asset tag
        await chat.press("Passer")
    assert "Voici le résumé" in chat.text and "Vidéoprojecteur" in chat.text
    assert FRENCH_ONLY.replace("\u202f", " ") not in chat.text  # said once
    await chat.say("Hello, the printer is not working either")
    assert FRENCH_ONLY.replace("\u202f", " ") not in chat.text
