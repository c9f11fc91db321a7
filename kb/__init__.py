"""Primo-maintenance tutorials and their French-aware search.

Public surface: `KnowledgeBase` (load, `search`, `best_for`), `Hit`, `Article`, `ArticleError`,
`load_articles`. This package depends only on `domain.vocabulary`.
"""

from kb.articles import ARTICLES_DIR, Article, ArticleError, load_articles
from kb.search import DEFAULT_MIN_SCORE, Hit, KnowledgeBase

__all__ = [
    "ARTICLES_DIR",
    "DEFAULT_MIN_SCORE",
    "Article",
    "ArticleError",
    "Hit",
    "KnowledgeBase",
    "load_articles",
]
