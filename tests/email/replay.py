"""Replay a folder of raw mails through the real SMTP intake and judge every outcome.

The judge is independent of the code under test: it reads each file with Python's `email`
package and its own small rules (RFC 3834 headers, delivery reports, the folder a file came
from) to say what a correct desk must do, then compares with what the database holds.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import aiosmtplib
from sqlalchemy import select

from bot.email.smtp_intake import start_smtp_intake
from desk.models import InboundMessage, OutboxMessage, Ticket, TicketEvent
from handlers.email_intake import EmailIntake

__all__ = ["CORPUS_ENV", "MOJIBAKE", "Outcome", "ReplayReport", "corpus_files", "find_corpus", "replay"]

#: Overrides where the shared corpus is looked for (the default is beside the repository).
CORPUS_ENV = "GUICHET_MAIL_CORPUS"
REPO = Path(__file__).resolve().parents[2]
PROJECT_CORPUS = Path(__file__).resolve().parent / "corpus"

#: What UTF-8 read as Latin-1/cp1252 looks like, and the replacement character.
MOJIBAKE = ("Ã©", "Ã¨", "Ã\xa0", "\ufffd")

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)\b", re.I)
_BOUNCE_FOLDER = "sisimai-set-of-emails/maildir/bsd/"
_NOTES = {"SOURCES.md", "README.md"}


def find_corpus() -> Path | None:
    """The shared corpus: $GUICHET_MAIL_CORPUS, else ../shared/corpus/mail from the repository root."""
    configured = os.environ.get(CORPUS_ENV)
    candidate = Path(configured) if configured else REPO.parent / "shared" / "corpus" / "mail"
    return candidate if candidate.is_dir() else None


def corpus_files(*roots: Path) -> list[Path]:
    """Every mail file under the roots, in a stable order (the corpus's notes left out)."""
    return [p for root in roots for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in _NOTES]


# --- the judge: what Python's email package and RFC 3834 say about a file ------------------------


def _head(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def usable_from(raw: bytes) -> str | None:
    """An addr-spec anywhere in the From header(s), as any mail client would find it."""
    msg = _head(raw)
    for value in msg.get_all("From") or []:
        text = str(value) if not isinstance(value, email.header.Header) else value.encode()
        match = _ADDRESS.search(text)
        if match:
            return match.group(0).lower()
    return None


def auto_generated(raw: bytes, envelope_from: str, relative: str) -> str | None:
    """Why RFC 3834 / RFC 3464 would call this mail machine-made (or None)."""
    if relative.startswith(_BOUNCE_FOLDER):
        return "corpus folder of delivery reports and auto-replies"
    msg = _head(raw)
    auto = str(msg.get("Auto-Submitted", "") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return "Auto-Submitted"
    if str(msg.get("Precedence", "") or "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "Precedence"
    if msg.get_content_type() == "multipart/report":
        return "multipart/report"
    if envelope_from == "":
        return "null envelope sender"
    sender = usable_from(raw) or ""
    if _DAEMON.match(sender):
        return "mailer-daemon sender"
    return None


def parses_without_defects(raw: bytes) -> bool:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        return not any(part.defects for part in msg.walk())
    except Exception:  # noqa: BLE001 - the judge's own parser failing means "has defects"
        return False


def _strict(data: bytes, charset: str | None) -> str | None:
    """UTF-8 when the bytes are valid UTF-8, else the declared charset, strictly; None if neither."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    label = (charset or "").strip().strip('"').lower()
    if not label or label in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        return None
    try:
        codecs.lookup(label)
        return data.decode(label)
    except (LookupError, UnicodeDecodeError):
        return None


def clean_source(raw: bytes) -> tuple[bool, str]:
    """Whether every text part and header of the file decodes cleanly, and the decoded text.

    Markers of mojibake found in this text are the sender's own; any other in stored text is ours.
    """
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # noqa: BLE001
        return False, ""
    texts: list[str] = []
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    for line in head.splitlines():
        if any(b >= 0x80 for b in line):
            try:
                texts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                return False, ""
        else:
            try:
                words = email.header.decode_header(line.decode("ascii"))
            except Exception:  # noqa: BLE001
                return False, ""
            for value, charset in words:
                if isinstance(value, bytes):
                    if charset is None:
                        texts.append(value.decode("ascii", "replace"))
                        continue
                    decoded = _strict(value, charset)
                    if decoded is None:
                        return False, ""
                    texts.append(decoded)
                else:
                    texts.append(value)
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            return False, ""
        if not isinstance(data, bytes):
            continue
        if part.defects:
            return False, ""
        decoded = _strict(data, part.get_content_charset())
        if decoded is None:
            if all(b < 0x80 for b in data):
                texts.append(data.decode("ascii"))
                continue
            return False, ""
        texts.append(decoded)
    return True, "\n".join(texts)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One file's fate: SMTP answer, row status and reason, and what the judge thinks of it."""

    name: str
    code: int
    status: str | None = None
    reason: str | None = None
    automated: str | None = None
    sender: str | None = None
    answers: int = 0
    stored_text: list[str] = field(default_factory=list)


@dataclass
class ReplayReport:
    outcomes: list[Outcome]
    seconds: float
    tracebacks: list[str]
    problems: list[str]

    def counts(self) -> Counter[str]:
        return Counter(o.status or f"smtp {o.code}" for o in self.outcomes)

    def quarantine_reasons(self) -> Counter[str]:
        return Counter((o.reason or "?").split(":")[0] for o in self.outcomes if o.status == "quarantined")

    def ignore_reasons(self) -> Counter[str]:
        return Counter((o.reason or "?").split(":")[0] for o in self.outcomes if o.status == "ignored")

    def summary(self) -> str:
        counts = self.counts()
        ticketed = sum(1 for o in self.outcomes if o.status == "processed" and o.reason != "tutorial")
        lines = [
            f"{len(self.outcomes)} mails in {self.seconds:.1f} s: "
            f"accepted {sum(1 for o in self.outcomes if o.code == 250)}, "
            f"ticketed {ticketed}, processed {counts['processed']}, held {counts['held']}, "
            f"ignored {counts['ignored']}, quarantined {counts['quarantined']}, "
            f"refused {sum(1 for o in self.outcomes if o.code != 250)}",
            "  ignored: " + ", ".join(f"{r} {n}" for r, n in self.ignore_reasons().most_common()),
            "  quarantined: " + ", ".join(f"{r} {n}" for r, n in self.quarantine_reasons().most_common()),
        ]
        return "\n".join(lines)


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(f"{record.name}: {record.getMessage()}")


def _envelope_from(raw: bytes) -> str:
    """The bounce address as the sending server had it: Return-Path, else the From address."""
    msg = _head(raw)
    path = msg.get("Return-Path")
    if path is not None:
        match = _ADDRESS.search(str(path))
        return match.group(0) if match else ""
    return usable_from(raw) or ""


async def replay(
    intake: EmailIntake, files: Iterable[Path], *, roots: Iterable[Path], ours: str,
) -> ReplayReport:
    """Send every file over one SMTP connection to a real intake, then judge the database."""
    roots = list(roots)
    files = list(files)
    watcher = _Tracebacks()
    root = logging.getLogger()
    level = root.level
    root.addHandler(watcher)
    root.setLevel(min(level or logging.WARNING, logging.WARNING))
    server = await start_smtp_intake(intake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.perf_counter()
    codes: list[tuple[Path, int, int | None]] = []
    try:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await client.connect()
        await client.ehlo()
        for path in files:
            raw = path.read_bytes()
            code, queued = await _send(client, raw, _envelope_from(raw), ours)
            codes.append((path, code, queued))
        await client.quit()
        # The retry sweep, run until nothing is due (in production, every 60 s).
        while await intake.retry_pending():
            pass
    finally:
        server.close()
        await server.wait_closed()
        root.removeHandler(watcher)
        root.setLevel(level)
    seconds = time.perf_counter() - started
    outcomes = await _judge(intake, codes, roots)
    return ReplayReport(outcomes, seconds, watcher.records, _problems(outcomes, codes, roots))


async def _send(client: aiosmtplib.SMTP, raw: bytes, sender: str, ours: str) -> tuple[int, int | None]:
    try:
        await client.mail(sender)
        await client.rcpt(ours)
        response = await client.data(raw)
    except aiosmtplib.SMTPResponseException as exc:
        await client.rset()
        return exc.code, None
    match = re.search(r"queued as (\d+)", response.message)
    return response.code, int(match.group(1)) if match else None


def _relative(path: Path, roots: list[Path]) -> str:
    for root in roots:
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


async def _judge(intake: EmailIntake, codes: list[tuple[Path, int, int | None]], roots: list[Path]) -> list[Outcome]:
    sessions = intake._sessions
    outcomes: list[Outcome] = []
    async with sessions() as session:
        rows = {r.id: r for r in (await session.scalars(select(InboundMessage))).all()}
        answers = Counter(
            int(key.split(":")[1]) for key in (await session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("mail-reply:%")))).all())
        outbox = {}
        for message in (await session.scalars(select(OutboxMessage))).all():
            key = message.dedupe_key or ""
            if key.startswith("mail-reply:"):
                outbox.setdefault(int(key.split(":")[1]), []).extend([message.subject or "", message.body])
        tickets = {t.id: t for t in (await session.scalars(select(Ticket))).all()}
        events: dict[int, list[str]] = {}
        for event in (await session.scalars(select(TicketEvent))).all():
            events.setdefault(event.ticket_id, []).append(event.body or "")
    for path, code, queued in codes:
        outcome = Outcome(_relative(path, roots), code)
        row = rows.get(queued) if queued is not None else None
        if row is not None:
            outcome.status, outcome.reason = row.status, row.error
            outcome.automated = (row.payload or {}).get("automated")
            outcome.sender = row.sender
            outcome.answers = answers.get(row.id, 0)
            stored = [str((row.payload or {}).get("subject") or "")] + outbox.get(row.id, [])
            ticket = tickets.get(row.ticket_id) if row.ticket_id else None
            if ticket is not None:
                stored += [ticket.subject or "", ticket.description or ""] + events.get(ticket.id, [])
            outcome.stored_text = stored
        outcomes.append(outcome)
    return outcomes


def _problems(outcomes: list[Outcome], codes: list[tuple[Path, int, int | None]], roots: list[Path]) -> list[str]:
    problems: list[str] = []
    for outcome, (path, _, _) in zip(outcomes, codes, strict=True):
        raw = path.read_bytes()
        name = outcome.name
        if outcome.code >= 500 and parses_without_defects(raw):
            problems.append(f"{name}: SMTP {outcome.code} for a mail Python parses without defects")
        if outcome.code == 250 and outcome.status is None:
            problems.append(f"{name}: accepted but no stored row")
        machine = auto_generated(raw, _envelope_from(raw), name)
        if machine and outcome.answers:
            problems.append(f"{name}: answered although auto-generated ({machine})")
        if outcome.status == "quarantined" and usable_from(raw) and not machine:
            problems.append(f"{name}: quarantined with a usable From {usable_from(raw)}: {outcome.reason}")
        if outcome.status == "quarantined" and machine and usable_from(raw):
            problems.append(f"{name}: machine mail quarantined instead of ignored: {outcome.reason}")
        if outcome.status in ("received", "processing"):
            problems.append(f"{name}: left {outcome.status}: {outcome.reason}")
        clean, source = clean_source(raw)
        if clean:
            for text in outcome.stored_text:
                for marker in MOJIBAKE:
                    if marker in text and marker not in source:
                        at = text.index(marker)
                        problems.append(f"{name}: mojibake {marker!r} in stored text "
                                        f"{text[max(0, at - 30):at + 30]!r}")
                        break
    return problems
