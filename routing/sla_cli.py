"""`guichet sla due`: print a ticket's target and breach instants as one JSON object.

Usage: guichet sla due --territory NAME --policy NAME --opened ISO8601 [--paused ISO/ISO ...]

Naive instants are read in the territory's local time. Output instants are in the
territory's local time with their offset; null where the policy has none. Errors print
one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any, NoReturn

import yaml

from routing.calendar import Calendar
from routing.clocks import Policy, due

__all__ = ["TERRITORIES_DIR", "run"]

#: Where the territory presets live (routing/territories/NAME.yml).
TERRITORIES_DIR = Path(__file__).resolve().parent / "territories"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _UsageError(Exception):
    """A problem with the command line or its inputs, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of exiting and prints help where told."""

    def __init__(self, *args: Any, out: IO[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out = out

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)

    def print_help(self, file: IO[str] | None = None) -> None:
        super().print_help(file or self._out)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise SystemExit(status)


def _build_parser(stdout: IO[str]) -> _Parser:
    """The `sla` command line."""
    parser = _Parser(prog="guichet sla", description="SLA clock computations.", out=stdout)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    due_cmd = commands.add_parser(
        "due", out=stdout, help="target and breach instants of a ticket", description=__doc__.splitlines()[0]
    )
    due_cmd.add_argument("--territory", required=True, help="preset name (routing/territories/NAME.yml)")
    due_cmd.add_argument("--policy", required=True, help="SLA policy of the territory, e.g. replacement")
    due_cmd.add_argument("--opened", required=True, help="when the ticket was opened (ISO 8601)")
    due_cmd.add_argument(
        "--paused",
        nargs="+",
        action="extend",
        default=[],
        metavar="START/END",
        help="waiting intervals (ISO 8601 START/END), repeatable",
    )
    return parser


def _load_territory(name: str, directory: Path) -> dict[str, Any]:
    """Read one territory file as a plain dict."""
    path = directory / f"{name}.yml"
    if not _NAME.match(name) or not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yml")) if directory.is_dir() else []
        raise _UsageError(f"unknown territory {name!r} (known: {', '.join(known) or 'none'})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _UsageError(f"cannot read territory file {path}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"territory file {path} is not a mapping")
    return data


def _parse_instant(text: str, tz: tzinfo, label: str) -> datetime:
    """Parse an ISO 8601 instant; a naive one is read in the territory's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _UsageError(f"{label}: {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _parse_pause(text: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """Parse one START/END waiting interval."""
    parts = text.split("/")
    if len(parts) != 2:
        raise _UsageError(f"--paused: {text!r} is not START/END (two ISO 8601 date-times joined by '/')")
    start = _parse_instant(parts[0], tz, "--paused")
    end = _parse_instant(parts[1], tz, "--paused")
    if end < start:
        raise _UsageError(f"--paused: {text!r} ends before it starts")
    return start, end


def _due(args: argparse.Namespace, territories_dir: Path) -> dict[str, str | None]:
    """Compute the JSON answer of `sla due`."""
    territory = _load_territory(args.territory, territories_dir)
    try:
        calendar = Calendar.from_dict(territory.get("timezone"), territory.get("calendar"))
    except (TypeError, ValueError) as exc:
        raise _UsageError(f"territory {args.territory!r}: bad calendar: {exc}") from None
    policies = territory.get("sla") or {}
    if not isinstance(policies, dict) or args.policy not in policies:
        known = ", ".join(sorted(policies)) if isinstance(policies, dict) else ""
        raise _UsageError(f"unknown policy {args.policy!r} for territory {args.territory!r} (known: {known or 'none'})")
    try:
        policy = Policy.from_dict(args.policy, policies[args.policy])
    except (TypeError, ValueError) as exc:
        raise _UsageError(f"territory {args.territory!r}: {exc}") from None
    opened = _parse_instant(args.opened, calendar.tz, "--opened")
    paused = [_parse_pause(text, calendar.tz) for text in args.paused]
    result = due(opened, policy, calendar, paused)

    def local(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(calendar.tz).isoformat()

    return {"target": local(result.target), "breach": local(result.breach)}


def run(
    argv: list[str], stdout: IO[str], *, stderr: IO[str] | None = None, territories_dir: Path | None = None
) -> int:
    """Run `guichet sla ...` (argv is what follows `guichet sla`, e.g. ["due", "--territory", "sem", ...])."""
    err = stderr if stderr is not None else sys.stderr
    try:
        args = _build_parser(stdout).parse_args(argv)
        answer = _due(args, territories_dir or TERRITORIES_DIR)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except _UsageError as exc:
        print(f"guichet sla: error: {exc}", file=err)
        return 2
    except (ValueError, OverflowError) as exc:  # e.g. a date so late the clock runs past year 9999
        print(f"guichet sla: error: {' '.join(str(exc).split())}", file=err)
        return 2
    stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], sys.stdout))
