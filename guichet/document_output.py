"""Where the commands that print a document (`guichet report committee`, `guichet labels`) write
it: standard output, or a file with `--output`; a PDF needs a file or a pipe, never a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

__all__ = ["refuses_pdf_here", "write_document"]


def refuses_pdf_here(output: str, destination: str | None, stdout: TextIO) -> bool:
    """True (and one French line) when a PDF would be written to a terminal or a text-only stream."""
    if output != "pdf" or destination is not None:
        return False
    if hasattr(stdout, "buffer") and not stdout.isatty():
        return False
    print("guichet: un PDF ne s'affiche pas dans le terminal : indiquez --output FICHIER.pdf "
          "ou redirigez la sortie vers un fichier.", file=sys.stderr)
    return True


def write_document(data: str | bytes, stdout: TextIO, destination: str | None, written: str) -> None:
    """`data` in `destination` (then « <written> dans FICHIER » on stdout), or on stdout itself."""
    if destination is not None:
        path = Path(destination)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"{written} dans {path}", file=stdout)
    elif isinstance(data, bytes):
        stdout.flush()
        stdout.buffer.write(data)  # type: ignore[attr-defined]
        stdout.buffer.flush()  # type: ignore[attr-defined]
    else:
        stdout.write(data)
