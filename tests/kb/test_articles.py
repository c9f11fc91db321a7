"""Loading and validating the articles: every real one, and each kind of broken file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.vocabulary import Equipment, Intent
from kb.articles import ARTICLES_DIR, ArticleError, load_articles, parse_article

GOOD = """---
title: "Changer la pile de la télécommande"
summary: "Remplacer les piles de la télécommande du vidéoprojecteur."
intents: [howto]
equipment: [projector]
keywords: [pile, télécommande]
reviewed: 2026-11-23
---

1. Ouvrez le capot.
2. Changez les piles.
"""


def write(tmp_path: Path, text: str, name: str = "changer-pile.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_real_article_loads() -> None:
    """Each file of kb/articles is valid; a broken one fails here with its file and field named."""
    paths = sorted(ARTICLES_DIR.glob("*.md"))
    assert len(paths) >= 31
    for path in paths:
        article = parse_article(path)
        assert article.slug == path.stem
        assert article.intents and article.keywords and article.body
    assert [a.slug for a in load_articles()] == [p.stem for p in paths]


def test_good_article_is_typed(tmp_path: Path) -> None:
    """Front matter values become vocabulary enums, a date and tuples; the body is the Markdown."""
    article = parse_article(write(tmp_path, GOOD))
    assert article.slug == "changer-pile"
    assert article.intents == (Intent.HOWTO,)
    assert article.equipment == (Equipment.PROJECTOR,)
    assert article.keywords == ("pile", "télécommande")
    assert article.reviewed == date(2026, 11, 23)
    assert article.body.startswith("1. Ouvrez")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GOOD.replace('title: "Changer la pile de la télécommande"\n', ""), "title"),
        (GOOD.replace('title: "Changer la pile de la télécommande"', 'title: ""'), "title"),
        (GOOD.replace("intents: [howto]", "intents: howto"), "intents"),
        (GOOD.replace("intents: [howto]", "intents: []"), "intents"),
        (GOOD.replace("intents: [howto]", "intents: [how_to]"), "intents"),
        (GOOD.replace("equipment: [projector]", "equipment: [beamer]"), "equipment"),
        (GOOD.replace("equipment: [projector]", "equipment: [projector, projector]"), "equipment"),
        (GOOD.replace("keywords: [pile, télécommande]", "keywords: [pile, 3]"), "keywords"),
        (GOOD.replace("reviewed: 2026-11-23", "reviewed: hier"), "reviewed"),
        (GOOD.replace("reviewed: 2026-11-23", "reviewed: 2026-11-23\nauthor: moi"), "author"),
        (GOOD.split("---\n\n")[0] + "---\n", "body"),
        (GOOD.replace("---\n", "", 1), "front matter"),
        (GOOD.replace("keywords: [pile, télécommande]", "keywords: [pile"), "front matter"),
    ],
)
def test_broken_article_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    """Each defect raises ArticleError whose message starts with the file name and the field."""
    path = write(tmp_path, text)
    with pytest.raises(ArticleError) as caught:
        parse_article(path)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"changer-pile.md: {field}: ")


def test_slug_must_be_lowercase_words(tmp_path: Path) -> None:
    """The slug is the file stem, so a file named with capitals or spaces is refused."""
    with pytest.raises(ArticleError, match="Pile Télécommande.md: slug"):
        parse_article(write(tmp_path, GOOD, name="Pile Télécommande.md"))


def test_directory_with_one_broken_article_fails(tmp_path: Path) -> None:
    """load_articles stops at the first broken file instead of serving a partial base."""
    write(tmp_path, GOOD, name="a-good.md")
    write(tmp_path, GOOD.replace("[howto]", "[nope]"), name="b-broken.md")
    with pytest.raises(ArticleError, match="b-broken.md: intents"):
        load_articles(tmp_path)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    """No article at all is a configuration error, not an empty knowledge base."""
    with pytest.raises(ArticleError, match="aucun fichier"):
        load_articles(tmp_path)
