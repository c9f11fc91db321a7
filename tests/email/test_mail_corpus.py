"""The shared corpus of 911 real-world mails, plus the project's own, replayed byte for byte.

Every file goes over SMTP into the real intake (one connection, like a relay) and through
the real parser in process; the judge in tests/email/replay.py says what each one deserved.
Run alone with `pytest -m mail_corpus -s` to see the counts.
"""

from __future__ import annotations

import pytest

from bot.email.parse import MailParser
from tests.email.conftest import OURS
from tests.email.replay import MOJIBAKE, PROJECT_CORPUS, clean_source, corpus_files, find_corpus, replay

pytestmark = pytest.mark.mail_corpus

#: The shared corpus holds 911 files; fewer means a broken checkout, not a passing test.
SHARED_FILES = 911


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_every_corpus_mail_is_stored_answered_ignored_or_quarantined_with_a_reason(desk) -> None:
    """No traceback, no 5xx to a clean mail, no answer to a machine, no quarantine of a usable From, no mojibake."""
    shared = find_corpus()
    if shared is None:
        pytest.skip("shared mail corpus not found: expected ../shared/corpus/mail beside the repository "
                    "(or GUICHET_MAIL_CORPUS)")
    roots = [shared, PROJECT_CORPUS]
    files = corpus_files(*roots)
    assert len(corpus_files(shared)) == SHARED_FILES
    report = await replay(desk.intake, files, roots=roots, ours=OURS)
    print("\n" + report.summary())
    assert report.tracebacks == []
    assert report.problems == []
    assert len(report.outcomes) == len(files)
    counts = report.counts()
    assert counts["quarantined"] < 20 and counts["ignored"] > counts["held"]


def test_parsed_text_of_every_corpus_mail_is_clean() -> None:
    """In process: the parser never raises; no mojibake, markup or boundary lines where the source is clean."""
    shared = find_corpus()
    roots = [r for r in (shared, PROJECT_CORPUS) if r is not None]
    parse = MailParser(OURS)
    problems: list[str] = []
    for path in corpus_files(*roots):
        raw = path.read_bytes()
        mail = parse(raw)
        clean, source = clean_source(raw)
        texts = [mail.subject, mail.text, mail.triage_text, mail.sender_name or ""]
        if clean:
            problems += [f"{path.name}: {m!r}" for t in texts for m in MOJIBAKE if m in t and m not in source]
        if mail.sender and mail.bounce is None and "<html" in mail.text.lower() and "<html" not in source.lower().replace("text/html", ""):
            problems.append(f"{path.name}: markup in the text")
        if mail.sender_name and "@" in mail.sender_name:
            problems.append(f"{path.name}: greets {mail.sender_name!r}")
    assert problems == [], "\n".join(problems)
