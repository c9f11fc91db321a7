"""Tables as the French Excel opens them: UTF-8 with a BOM, `;` between cells, CRLF lines
(decimal commas come from `domain.french.decimal_fr`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["french_csv"]


def french_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
