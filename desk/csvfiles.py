"""Reading CSV exports of French administrations: encodings, delimiters, header names."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]
    #: Why the row could not be read (a field over the csv module's limit, a stray quote…), in
    #: French for the import report; its values are then empty.
    error: str | None = None


class UnreadableHeader(ValueError):
    """The first row, which names the columns, cannot be read."""


#: French exports are UTF-8, else Windows-1252 (Excel) or ISO-8859-1: tried in that order,
#: never guessed (a detector read « Prés » in a small Latin-1 file as cp1250 « Prčs »).


def decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d…): plain ISO-8859-1
        return raw.decode("latin-1"), "latin-1"


def header_key(name: str) -> str:
    """Normalise a column name: no accents, lower case, underscores."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _reason(exc: csv.Error) -> str:
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return f"un champ dépasse {csv.field_size_limit()} caractères"
    return f"format CSV invalide ({message})"


def read_rows(text: str) -> tuple[list[str], Iterator[CsvRow]]:
    """Sniff the delimiter (; or , or tab) and yield rows keyed by normalised header."""
    sample = text[:4096]
    # Whole lines only: a long field cut in the middle misleads the sniffer about the delimiter.
    if (end := sample.rfind("\n")) > 0:
        sample = sample[:end]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        return [], iter(())
    except csv.Error as exc:
        raise UnreadableHeader(f"ligne d'en-tête illisible ({exc})") from None
    keys = [header_key(h) for h in header]

    def rows() -> Iterator[CsvRow]:
        index = 1
        while True:
            index += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader goes on with the next line
                yield CsvRow(line=index, values={}, error=f"ligne illisible : {_reason(exc)}")
                continue
            if not any(c.strip() for c in cells):
                continue
            if any("\x00" in c for c in cells):  # no database stores it; a binary file, not a cell
                yield CsvRow(line=index, values={}, error="ligne illisible : caractère nul dans un champ")
                continue
            values = {k: (cells[i].strip() if i < len(cells) else "") for i, k in enumerate(keys)}
            if len(cells) > len(keys):
                values["__extra__"] = ";".join(cells[len(keys):])
            yield CsvRow(line=index, values=values)

    return keys, rows()
