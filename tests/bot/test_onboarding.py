"""Onboarding: a new sender is linked to a school of the territory by UAI or fuzzy name, then a role."""

from __future__ import annotations

from sqlalchemy import select

from desk.models import Requester, RequesterIdentity
from tests.bot.conftest import FIRMINY_JF, Chat, school_id


async def _requester(db, sender: str) -> Requester | None:
    async with db.sessions() as session:
        return await session.scalar(
            select(Requester).join(RequesterIdentity).where(RequesterIdentity.external_id == sender)
        )


async def test_onboarding_by_uai(chat: Chat, desk_db) -> None:
    """A UAI code finds the one school; the role button links the sender as a teacher."""
    await chat.say("bonjour")
    assert "Bonjour ! Je suis le guichet numérique des écoles." in chat.text
    assert "UAI" in chat.text
    await chat.say(FIRMINY_JF)
    assert "Est-ce bien votre école : École élémentaire Jules Ferry (Firminy, UAI" in chat.text
    assert chat.labels == ["Oui : École élémentaire Jules Ferry — Firminy", "Non, ce n'est pas la mienne"]
    await chat.press("Jules Ferry — Firminy")
    assert chat.labels == ["Enseignant·e", "Directeur·rice"]
    await chat.press("Directeur")
    assert "directeur·rice" in chat.text and "Firminy" in chat.text
    requester = await _requester(desk_db, chat.sender)
    assert requester is not None and requester.role == "director"
    assert requester.school_id == await school_id(desk_db, FIRMINY_JF)


async def test_onboarding_by_fuzzy_name_offers_top_three(chat: Chat, desk_db) -> None:
    """« ecole jules ferry firminy » puts the Firminy school first among three Jules Ferry schools."""
    await chat.say("ecole jules ferry firminy")
    assert chat.labels[0] == "École élémentaire Jules Ferry — Firminy"
    assert len(chat.labels) == 4 and chat.labels[-1] == "Aucune de ces écoles"
    await chat.press("Aucune de ces écoles")
    assert "parmi les écoles du territoire" not in chat.text
    assert "suivi de sa commune" in chat.text and "UAI" in chat.text and not chat.labels
    await chat.say("jules ferri a firminy")
    await chat.press("Jules Ferry — Firminy")
    await chat.press("Enseignant")
    assert (await _requester(desk_db, chat.sender)).role == "teacher"


async def test_a_common_name_offers_every_match_and_how_to_narrow(chat: Chat, desk_db) -> None:
    """« école Jules Ferry » matches three schools equally: all three, and a hint to add the commune."""
    await chat.say("école Jules Ferry")
    assert sorted(chat.labels[:3]) == ["École maternelle Jules Ferry — Unieux",
                                       "École élémentaire Jules Ferry — Firminy",
                                       "École élémentaire Jules Ferry — Saint-Étienne"]
    assert chat.labels[3:] == ["Aucune de ces écoles"]
    assert "ajoutez la commune (par exemple « école Jules Ferry " in chat.text and "code UAI" in chat.text
    await chat.say("école Jules Ferry Unieux")
    assert chat.labels[0] == "École maternelle Jules Ferry — Unieux"
    assert "ajoutez la commune" not in chat.text


async def test_a_commune_of_several_words_counts_as_named(chat: Chat, desk_db) -> None:
    """« Saint-Étienne » already given: the hint asks for the UAI, never « … Saint-Étienne Saint-Étienne »."""
    await chat.say("école Jules Ferry Saint-Étienne")
    assert len(chat.labels) > 2, chat.text  # several offered (the best one first)
    assert "Saint-Étienne Saint-Étienne" not in chat.text
    assert "ajoutez la commune" not in chat.text


async def test_many_equal_matches_are_capped_with_their_count(chat: Chat, desk_db, monkeypatch) -> None:
    """Beyond the buttons a message can hold, the teacher is told how many schools match."""
    from bot.flows import onboarding

    monkeypatch.setattr(onboarding, "MAX_OFFERED", 2)
    await chat.say("école Jules Ferry")
    assert "3 écoles correspondent ; voici les 2 plus proches." in chat.text
    assert len(chat.labels) == 3


async def test_unknown_school_is_not_invented(chat: Chat, desk_db) -> None:
    """An unknown UAI or name gets a clear answer and creates nothing."""
    await chat.say("0999999Z")
    assert "UAI" in chat.text and "Essayez" in chat.text
    await chat.say("école Zorglub de Tombouctou")
    assert "Je ne trouve pas cette école" in chat.text
    assert await _requester(desk_db, chat.sender) is None


async def test_first_message_is_kept_and_used_after_linking(chat: Chat, desk_db) -> None:
    """A report sent before onboarding is handled once the sender is linked."""
    await chat.say("l'imprimante du bureau de la direction affiche une erreur")
    assert "J'ai bien noté votre message" in chat.text
    await chat.onboard()
    assert "Je reprends votre premier message." in chat.text
    assert chat.labels  # the report goes on (a tutorial, a question or the summary)


async def test_buttons_of_other_flows_wait_for_onboarding(chat: Chat, desk_db) -> None:
    """An unlinked sender pressing a report button is asked for the school first."""
    await chat.payload("report:send")
    assert "votre école" in chat.text


async def test_a_stale_button_while_signing_up_brings_back_the_question(chat: Chat, desk_db) -> None:
    """A teacher not yet linked to a school is never told « Décrivez votre problème » by a stale button."""
    await chat.say(FIRMINY_JF)
    await chat.payload("role:teacher")  # a role button before the school was chosen
    assert "Ce bouton n'est plus valable" in chat.text and "Décrivez votre problème" not in chat.text
    assert "votre école" in chat.text
    await chat.payload("nonsense")
    assert "Décrivez votre problème" not in chat.text
    await chat.payload(f"school:{await school_id(desk_db, FIRMINY_JF)}")  # the pending question still works
    assert chat.labels == ["Enseignant·e", "Directeur·rice"]
