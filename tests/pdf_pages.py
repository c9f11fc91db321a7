"""Reading back a PDF as a person would: its pages' text, and each page drawn to pixels (pypdfium2)."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium

#: Share of a page's pixels that are not paper white: a title, a table and a chart draw well
#: above this, an empty page is 0.
INKED = 0.01


def pdf_pages(data: bytes, scale: float = 1.0) -> list[tuple[str, float]]:
    """Each page's text and its share of inked pixels (the page rendered at 72 dpi × scale)."""
    assert data.startswith(b"%PDF-"), data[:20]
    document = pdfium.PdfDocument(data)
    pages = []
    try:
        for page in document:
            text = page.get_textpage().get_text_range()
            pixels = np.asarray(page.render(scale=scale, grayscale=True).to_pil())
            pages.append((text, float((pixels < 240).mean())))
            page.close()
    finally:
        document.close()
    return pages


def pdf_text(data: bytes) -> str:
    """The whole document's text, pages joined, spaces made plain (no-break spaces as spaces)."""
    text = "\n".join(text for text, _ in pdf_pages(data))
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").replace("\r", "").split())
