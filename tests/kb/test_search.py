"""Search mechanics: ranking fields, triage boosts, typo repair and the best_for gate."""

from __future__ import annotations

from datetime import date

import pytest

from domain.vocabulary import Equipment, Intent
from kb.articles import Article
from kb.search import KnowledgeBase
from kb.text import stem


def article(slug: str, title: str, *, keywords: tuple[str, ...] = ("divers",), body: str = "Texte.",
            intents: tuple[Intent, ...] = (Intent.HOWTO,),
            equipment: tuple[Equipment, ...] = ()) -> Article:
    return Article(slug=slug, title=title, summary="Résumé court.", intents=intents,
                   equipment=equipment, keywords=keywords, reviewed=date(2026, 11, 23), body=body)


@pytest.fixture(scope="module")
def real() -> KnowledgeBase:
    return KnowledgeBase.from_directory()


def test_title_outranks_body() -> None:
    """A word in the title weighs more than the same word met once in a body."""
    kb = KnowledgeBase([
        article("corps", "Autre sujet", body="Il est question de calibrage ici, en passant."),
        article("titre", "Calibrage du stylet"),
    ])
    assert [hit.article.slug for hit in kb.search("calibrage")] == ["titre", "corps"]


def test_equipment_boost_breaks_a_tie() -> None:
    """Two equal articles are ordered by the equipment the triage found."""
    kb = KnowledgeBase([
        article("a-projo", "Voyant qui clignote", equipment=(Equipment.PROJECTOR,)),
        article("b-box", "Voyant qui clignote", equipment=(Equipment.ROUTER,)),
    ])
    assert kb.search("voyant clignote")[0].article.slug == "a-projo"
    assert kb.search("voyant clignote", equipment="router")[0].article.slug == "b-box"
    boosted = kb.search("voyant clignote", equipment="router")
    assert boosted[0].score > boosted[1].score


def test_intent_boost_and_mismatch() -> None:
    """An article listing the triage's intent rises above one that does not."""
    kb = KnowledgeBase([
        article("a-panne", "Toner vide", intents=(Intent.HARDWARE_FAILURE,)),
        article("b-conso", "Toner vide", intents=(Intent.CONSUMABLES,)),
    ])
    assert kb.search("toner", intent="consumables")[0].article.slug == "b-conso"


def test_limit_and_empty_queries(real: KnowledgeBase) -> None:
    """limit caps the hits; a query of stop words only finds nothing."""
    assert len(real.search("imprimante", limit=2)) == 2
    assert real.search("imprimante", limit=0) == []
    assert real.search("le la les de du ?") == []
    assert real.best_for("") == []


def test_scores_are_sorted_and_rounded(real: KnowledgeBase) -> None:
    """Hits come best first with scores rounded to four decimals."""
    hits = real.search("vidéoprojecteur pas de signal", limit=5)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(round(score, 4) == score for score in scores)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("imprimente", "printer"), ("tablete", "tablet"), ("bourage", "bourr"),
     ("videoprojecteru", "projector"), ("connection", "connexion")],
)
def test_misspelt_words_are_repaired(real: KnowledgeBase, typo: str, meant: str) -> None:
    """A misspelt word close to a word of the articles is read as that word."""
    assert real.query_terms(typo) == [meant]


@pytest.mark.parametrize("word", ["cantine", "pizzeria", "stilet", "kermesse"])
def test_typo_repair_is_guarded(real: KnowledgeBase, word: str) -> None:
    """Unknown words that are not close enough (or too short) are left as they are."""
    assert real.query_terms(word) == [stem(word)]


def test_best_for_needs_the_article_to_be_about_the_query() -> None:
    """A word met only in a body never triggers a suggestion, however high its score."""
    kb = KnowledgeBase([article("a", "Autre sujet", body="La cantine ferme à midi.")])
    assert kb.search("cantine")
    assert kb.best_for("cantine", min_score=0.0) == []


def test_best_for_offers_a_second_article_only_when_close(real: KnowledgeBase) -> None:
    """At most two suggestions, the second within 75 % of the first."""
    for text in ["imprimante bloquée", "plus de son", "écran noir", "tablette wifi"]:
        hits = real.best_for(text)
        assert len(hits) <= 2
        if len(hits) == 2:
            assert hits[1].score >= 0.75 * hits[0].score


def test_best_for_threshold_is_a_parameter(real: KnowledgeBase) -> None:
    """min_score is the caller's: an impossible bar gives nothing."""
    assert real.best_for("bourrage papier imprimante", min_score=0.0)
    assert real.best_for("bourrage papier imprimante", min_score=99.0) == []


def test_get_by_slug(real: KnowledgeBase) -> None:
    """Articles are found by slug; an unknown slug is None."""
    assert real.get("printer-paper-jam") is not None
    assert real.get("nope") is None
    assert len(real) == len(real.articles)
