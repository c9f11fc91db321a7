"""`guichet triage --jsonl` on one message, in process: the JSON object it prints."""

from __future__ import annotations

import json
from io import StringIO

from guichet.triage import run_jsonl
from nlu import LocalNlu


def triage_json(nlu: LocalNlu, text: str, status: str = "public") -> dict:
    out = StringIO()
    run_jsonl(StringIO(json.dumps({"text": text, "school_status": status}) + "\n"), out, nlu=nlu)
    return json.loads(out.getvalue())
