"""Primo-maintenance articles: Markdown files with a YAML front matter, validated at load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml

from domain.vocabulary import Equipment, Intent

ARTICLES_DIR = Path(__file__).parent / "articles"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_E = TypeVar("_E", Intent, Equipment)
_FIELDS = ("title", "summary", "intents", "equipment", "keywords", "reviewed")


class ArticleError(ValueError):
    """An article file is malformed; the message names the file and the field."""

    def __init__(self, path: Path, field: str, problem: str) -> None:
        super().__init__(f"{path.name}: {field}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Article:
    """One tutorial, as the search and the pages use it."""

    slug: str
    title: str
    summary: str
    intents: tuple[Intent, ...]
    equipment: tuple[Equipment, ...]
    keywords: tuple[str, ...]
    reviewed: date
    body: str


def _split(path: Path, text: str) -> tuple[str, str]:
    """Separate the front matter from the Markdown body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError(path, "front matter", "le fichier doit commencer par une ligne « --- »")
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]).strip()
    raise ArticleError(path, "front matter", "ligne « --- » de fermeture absente")


def _text(path: Path, meta: dict[str, Any], field: str) -> str:
    value = meta[field]
    if not isinstance(value, str) or not value.strip():
        raise ArticleError(path, field, "texte non vide attendu")
    return value.strip()


def _strings(path: Path, meta: dict[str, Any], field: str, *, allow_empty: bool) -> list[str]:
    value = meta[field]
    if not isinstance(value, list):
        raise ArticleError(path, field, "liste attendue, par exemple [a, b]")
    if not value and not allow_empty:
        raise ArticleError(path, field, "la liste ne doit pas être vide")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ArticleError(path, field, f"élément invalide {item!r} : texte attendu")
    return [item.strip() for item in value]


def _members(path: Path, field: str, values: list[str], enum: type[_E]) -> tuple[_E, ...]:
    known = {member.value for member in enum}
    for value in values:
        if value not in known:
            raise ArticleError(path, field, f"valeur inconnue {value!r}")
    if len(set(values)) != len(values):
        raise ArticleError(path, field, "valeur répétée")
    return tuple(enum(value) for value in values)


def _reviewed(path: Path, value: object) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ArticleError(path, "reviewed", f"date AAAA-MM-JJ attendue, pas {value!r}")


def parse_article(path: Path) -> Article:
    """Read and validate one article; raises ArticleError naming the file and the field."""
    slug = path.stem
    if not _SLUG.match(slug):
        raise ArticleError(path, "slug", "le nom du fichier doit être en minuscules, chiffres et tirets")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArticleError(path, "encoding", "le fichier doit être en UTF-8") from None
    header, body = _split(path, text)
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise ArticleError(path, "front matter", f"YAML invalide ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise ArticleError(path, "front matter", "dictionnaire YAML attendu")
    for field in _FIELDS:
        if field not in meta:
            raise ArticleError(path, field, "champ manquant")
    unknown = sorted(set(meta) - set(_FIELDS), key=str)
    if unknown:
        raise ArticleError(path, str(unknown[0]), "champ inconnu")
    if not body:
        raise ArticleError(path, "body", "le texte de l'article est vide")
    return Article(
        slug=slug,
        title=_text(path, meta, "title"),
        summary=_text(path, meta, "summary"),
        intents=_members(path, "intents", _strings(path, meta, "intents", allow_empty=False), Intent),
        equipment=_members(
            path, "equipment", _strings(path, meta, "equipment", allow_empty=True), Equipment
        ),
        keywords=tuple(_strings(path, meta, "keywords", allow_empty=False)),
        reviewed=_reviewed(path, meta["reviewed"]),
        body=body,
    )


def load_articles(directory: Path = ARTICLES_DIR) -> tuple[Article, ...]:
    """Every `*.md` article of the directory, sorted by slug; the first broken one raises."""
    paths = sorted(directory.glob("*.md"))
    if not paths:
        raise ArticleError(directory, "articles", "aucun fichier .md trouvé")
    return tuple(parse_article(path) for path in paths)
