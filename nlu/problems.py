"""Messages that report two problems (« le vidéoprojecteur ne marche plus et la prise est arrachée »).

`problem_spans` cuts a message where a second problem usually starts (a new sentence, « et »,
« par ailleurs », « en plus », « autre souci », an SMS « + », an English « and »…); the caller parses each part and keeps a second
problem only when it is confident and would be handled differently (see guichet triage).
"""

from __future__ import annotations

import re

from .text import body_end

#: « par ailleurs », « autre chose : »… (with an « et » before, and a colon or a comma after); the
#: doors strip it from the start of a part they quote (`handlers.problems`).
CONNECTOR = (
    # (« de plus en plus » is no connector)
    r"(?:et\s+)?(?:par ailleurs|d'autre part|de plus(?! en plus)|(?<!de plus )en plus|au passage|au fait"
    r"|autre (?:souci|probl[eè]me|chose)"
    # « aussi » alone opens a part before what it adds (« aussi la souris… », « c'est le cas aussi de
    # la ligne »),
    # not inside a clause (« le câble marche aussi sur la prise du bureau »)
    r"|aussi(?=\s*[:,]|\s+(?:la|le|les|l'|l’|un|une|des|de|du|d'|d’|mon|ma|mes|notre|nos|on|il|elle|je|j'|j’|nous)\b)"
    r"|(?<=\bet )aussi"
    # « et sinon est-ce qu'on pourrait avoir… », « sinon, … »
    r"|(?<=\bet )sinon|sinon(?=\s*,)"
    # « et pardon j'ai oublié de dire aussi que l'ordinateur… »
    r"|(?:pardon\W+)?j['’ ]?\s*ai oubli[ée] de (?:vous )?(?:dire|pr[ée]ciser|signaler|mentionner)(?:\s+aussi)?(?:\s+que)?)"
    r"\s*[:,]?\s+"
)
#: « point » said to a phone's dictation for a full stop (« … il s'éteint tout seul point on a
#: essayé … point et aussi … »): before a subject or a connector only, never after a determiner
#: (« le point d'accès », « au point », checked by `problem_spans`).
_DICTATED_STOP = (
    # never after the words that make « point » the noun (« le point d'accès », « au point »); the
    # lookahead first, so the lookbehinds run only before a « point »
    r"(?=\s+point\s)" + "".join(rf"(?<!\b{w})" for w in "le un au du ce bon mon ton son notre votre leur chaque quel dernier premier access".split())
    + r"\s+point\s+(?:d'ailleurs\s+|d'interrogation\s+|(?=(?:et|on|il|elle|ils|elles|je|j'|nous|mais|par ailleurs|en plus|aussi"
    r"|est-ce|est ce)\b))"
)
#: Where a second problem starts; « et » alone only before a determiner or a subject (« et la prise… »,
#: « et je n'arrive plus… »).
_CUT = re.compile(
    # Every cut starts at a punctuation mark or a space: the lookahead skips the other positions
    # before the alternation is tried (half the time of the scan).
    r"(?=[.!?;,\s])"
    # a new sentence, with the connector that opens it (« . Et autre chose : … », « . Par ailleurs, … »)
    rf"(?:[.!?;]\s+(?:{CONNECTOR})?|\n+|,?\s+{CONNECTOR}|{_DICTATED_STOP}(?:{CONNECTOR})?"
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
#: What was tried (« on a essayé un autre câble et une autre prise », « j'ai redémarré le PC et la
#: box »): an « et » in the same sentence joins the things tried, not a second problem.
_TRIED = re.compile(
    r"\b(?:essay|test|v[ée]rifi|rebranch|d[ée]branch|red[ée]marr|relanc|r[ée]initialis)\w*", re.IGNORECASE
)
_SENTENCE_END = re.compile(rf"[.!?;\n]|{_DICTATED_STOP}", re.IGNORECASE)


#: A title before its full stop (« M. Brunel, président de l'OGEC », « Mme. Perrin »): no sentence ends there.
_TITLE = re.compile(r"(?<![\w.])(?:M|MM|Mr|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me|St|Ste)$")


def problem_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of a message that may each be a problem; one span when uncut. An
    e-mail is read up to its closing formula (`nlu.text.body_end`): its signature reports nothing."""
    spans: list[tuple[int, int]] = []
    start = 0
    end = body_end(text)
    for match in _CUT.finditer(text, 0, end):
        cut = match.group()
        if cut.lstrip(" ,\t").lower().startswith("et") and _tried_before(text, match.start()):
            continue
        if cut[0] == "." and _TITLE.search(text, max(0, match.start() - 5), match.start()) is not None:
            continue
        if len(text[start : match.start()].split()) >= MIN_WORDS:
            spans.append((start, match.start()))
            start = match.end()
    if spans and len(text[start:end].split()) < MIN_WORDS:
        last_start, _ = spans.pop()
        spans.append((last_start, end))
    else:
        spans.append((start, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _tried_before(text: str, position: int) -> bool:
    """Whether the sentence that an « et » at `position` continues says what was tried."""
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, position)), default=0)
    return _TRIED.search(text, sentence_start, position) is not None

