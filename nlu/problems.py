"""Messages that report two problems (« le vidéoprojecteur ne marche plus et la prise est arrachée »).

`problem_spans` cuts a message where a second problem usually starts (a new sentence, « et »,
« par ailleurs », « en plus », « autre souci », an SMS « + », an English « and »…); the caller parses each part and keeps a second
problem only when it is confident and would be handled differently (see guichet triage).
"""

from __future__ import annotations

import re

#: Where a second problem starts; « et » alone only before a determiner or a subject (« et la prise… »,
#: « et je n'arrive plus… »).
_CUT = re.compile(
    # Every cut starts at a punctuation mark or a space: the lookahead skips the other positions
    # before the alternation is tried (half the time of the scan).
    r"(?=[.!?;,\s])"
    r"(?:[.!?;]\s+|\n+|,?\s+(?:et\s+)?(?:par ailleurs|d'autre part|de plus|en plus|aussi|autre (?:souci|probl[eè]me))\s*[:,]?\s+"
    r"|\s+et\s+(?=(?:la|le|les|l'|l’|un|une|des|mon|ma|mes|notre|nos|on|il|elle|en plus|aussi|je|j'|j’|nous)\b)"
    # « plus de ligne tél ET plus d'internet »: a second « plus de … » is a second loss
    r"|\s+et\s+(?=plus\s+(?:de\b|du\b|d['’]))"
    # a question after a report: « …, et svp où en est la demande 2024-0318 ? », « et pouvez-vous… »
    r"|,?\s+et\s+(?=(?:svp|stp|o[uù] en (?:est|sont)|pouvez|pourriez|est-ce)\b)"
    # « + » for « en plus » in SMS style, before a new clause (« … + il nous faudrait du papier »)
    r"|\s+\+\s+(?=(?:la|le|les|l'|l’|un|une|des|mon|ma|mes|notre|nos|on|il|elle|nous|j'|j’|je)\b)"
    # English, after a comma: « …, and my email account is locked »
    r"|,\s+and\s+(?=(?:the|my|our|a|an|we|it|there|also|i)\b))",
    re.IGNORECASE,
)
MIN_WORDS = 3


def problem_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of a message that may each be a problem; one span when uncut."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CUT.finditer(text):
        if len(text[start : match.start()].split()) >= MIN_WORDS:
            spans.append((start, match.start()))
            start = match.end()
    if spans and len(text[start:].split()) < MIN_WORDS:
        last_start, _ = spans.pop()
        spans.append((last_start, len(text)))
    else:
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]
