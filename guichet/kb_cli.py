"""`guichet kb`: search the tutorials from the command line and check the article files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from domain.vocabulary import Equipment, Intent
from kb import ArticleError, KnowledgeBase


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guichet kb", description="Base de connaissances.")
    sub = parser.add_subparsers(dest="action", required=True)
    search = sub.add_parser("search", help="chercher des tutoriels")
    search.add_argument("query")
    search.add_argument("--intent", choices=[i.value for i in Intent], default=None)
    search.add_argument("--equipment", choices=[e.value for e in Equipment], default=None)
    search.add_argument("--limit", type=int, default=3)
    search.add_argument("--json", action="store_true", help="une ligne JSON par résultat")
    sub.add_parser("check", help="valider tous les articles")
    return parser


def run(argv: Sequence[str], stdout: TextIO) -> int:
    """Exit 0 on success (even with no hit), 1 when an article is broken, 2 on usage errors."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        kb = KnowledgeBase.from_directory()
    except ArticleError as exc:
        print(f"guichet kb : article invalide : {exc}", file=sys.stderr)
        return 1
    if args.action == "check":
        print(f"{len(kb)} articles valides.", file=stdout)
        return 0
    hits = kb.search(args.query, intent=args.intent, equipment=args.equipment, limit=args.limit)
    if args.json:
        for hit in hits:
            row = {"slug": hit.article.slug, "title": hit.article.title, "score": hit.score}
            print(json.dumps(row, ensure_ascii=False), file=stdout)
        return 0
    if not hits:
        print(f"Aucun article ne correspond à « {args.query} ».", file=stdout)
        return 0
    print(f"Articles trouvés pour « {args.query} » :", file=stdout)
    print(f"{'score':>6}  {'article':<40}  titre", file=stdout)
    for hit in hits:
        print(f"{hit.score:6.3f}  {hit.article.slug:<40}  {hit.article.title}", file=stdout)
    return 0
