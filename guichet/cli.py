"""The `guichet` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guichet", description="Guichet, the schools' IT desk.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the web server and the background loops")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations")
    db_sub.add_parser("current", help="print the schema revision")

    backup = sub.add_parser("backup", help="copy the database to a file while the desk runs")
    backup.add_argument("file", type=Path)

    demo = sub.add_parser("demo", help="load the demo territory")
    demo.add_argument("--assets", type=int, default=400, help="number of demo assets")

    imp = sub.add_parser("import", help="import a CSV file")
    imp.add_argument("kind", choices=["schools", "assets"])
    imp.add_argument("file", type=Path)
    imp.add_argument("--territory", default=None)
    imp.add_argument("--dry-run", action="store_true",
                     help="print what the file would create, change and move, and save nothing")

    triage = sub.add_parser("triage", help="classify and route messages (JSON lines)")
    triage.add_argument("--jsonl", action="store_true", required=True)
    triage.add_argument("--territory", default=None)
    triage.add_argument("--jobs", type=int, default=0,
                        help="worker processes (default 0: one per core when the input is large)")

    sla = sub.add_parser("sla", help="commitment clocks")
    sla.add_argument("sla_args", nargs=argparse.REMAINDER)

    nlu = sub.add_parser("nlu", help="NLU tools")
    nlu.add_argument("nlu_args", nargs=argparse.REMAINDER)

    agent = sub.add_parser("agent", help="agents")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True)
    add = agent_sub.add_parser("add", help="create or update an agent")
    add.add_argument("--org", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--name", default=None)
    add.add_argument("--role", choices=["agent", "supervisor", "admin", "coordinator", "national_admin"], default="agent")
    add.add_argument("--territory", default=None)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="print a new API token for an agent")
    create.add_argument("--agent", required=True)

    mail = sub.add_parser("mail", help="mail the intake gave up on")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True)
    mail_sub.add_parser("quarantine", help="list quarantined mail with its last error")
    replay = mail_sub.add_parser("replay", help="process quarantined mail again")
    replay.add_argument("ids", type=int, nargs="+", metavar="N")

    report = sub.add_parser("report", help="reports for the committees")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    committee = report_sub.add_parser("committee", help="the bimonthly review of thefts and damages (art. 6)")
    committee.add_argument("--period", help="two calendar months, e.g. 2026-09/2026-10 (default: the last complete)")
    committee.add_argument("--format", choices=("html", "csv", "pdf"), default="html")
    committee.add_argument("--output", metavar="FICHIER", help="write the review to this file (needed for a PDF on a terminal)")

    privacy = sub.add_parser("privacy", help="personal data: retention, access and erasure (RGPD)")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = privacy_sub.add_parser("purge", help="anonymise what is past the territories' retention")
    purge.add_argument("--dry-run", action="store_true", help="count without changing anything")
    for name, text in (("export", "everything held about one teacher, as JSON"),
                       ("erase", "anonymise one teacher now (the tickets stay for the figures)")):
        one = privacy_sub.add_parser(name, help=text)
        one.add_argument("--requester", required=True, metavar="ID|EMAIL|CHANNEL:ID")

    labels = sub.add_parser("labels", help="printable label sheets of a school's devices")
    labels.add_argument("--school", required=True, metavar="UAI")
    labels.add_argument("--room", default=None, help="only the devices of this room")
    labels.add_argument("--territory", default=None, help="the school's territory (default: the first served)")
    labels.add_argument("--format", choices=("html", "pdf"), default="html")
    labels.add_argument("--output", metavar="FICHIER", help="write the sheet to this file (needed for a PDF on a terminal)")

    kb = sub.add_parser("kb", help="knowledge base")
    kb.add_argument("kb_args", nargs=argparse.REMAINDER)
    return parser


def _triage_territory(explicit: str | None) -> str | None:
    """The territory `triage` routes for, without importing the settings (pydantic costs
    ~150 ms of start-up, and `triage` reads no other setting); None when only the full
    settings can tell (a `.env` file or a GUICHET_* variable may set or invalidate it)."""
    if explicit:
        return explicit
    if Path(".env").exists() or any(name.startswith("GUICHET_") for name in os.environ):
        return None
    return "sem"  # the settings' default


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    stdout = stdout or sys.stdout
    # python-telegram-bot 22: opt in to timedelta durations (RetryAfter warns otherwise).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    if args.command == "triage":
        territory = _triage_territory(args.territory)
        if territory is not None:
            from guichet.triage import run_jsonl

            return run_jsonl(sys.stdin, stdout, territory=territory, jobs=args.jobs)
    from guichet.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"guichet: configuration invalide : {exc}", file=sys.stderr)
        return 2
    if getattr(args, "territory", None):
        settings = settings.model_copy(update={"territory": args.territory})

    match args.command:
        case "triage":
            from guichet.triage import run_jsonl

            return run_jsonl(sys.stdin, stdout, territory=settings.territory, jobs=args.jobs)
        case "sla":
            from routing.sla_cli import run as sla_run

            return sla_run(list(args.sla_args), stdout)
        case "nlu":
            from nlu.evaluate import run as nlu_run

            rest = list(args.nlu_args)
            if not rest or rest[0] != "evaluate":
                print("usage: guichet nlu evaluate [options]", file=sys.stderr)
                return 2
            return nlu_run(rest[1:], stdout)
        case "kb":
            from guichet.kb_cli import run as kb_run

            return kb_run(list(args.kb_args), stdout)
        case "backup":
            from guichet.backup import backup

            return backup(settings, args.file, stdout)
        case "serve":
            from guichet.serve import serve

            return serve(settings)
        case _:
            import asyncio

            from guichet import commands

            return asyncio.run(commands.dispatch(args, settings, stdout))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
