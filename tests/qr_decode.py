"""Reading back the QR codes of a page: segno's inline SVG drawn to pixels, then decoded by zxing-cpp."""

from __future__ import annotations

import re

import numpy as np
import zxingcpp

_SVG = re.compile(r'<svg viewBox="0 0 (\d+) (\d+)" class="([^"]*)"><path[^>]* d="([^"]+)"', re.DOTALL)
_STEP = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")
#: Pixels per module: zxing reads a code better when modules are more than one pixel.
SCALE = 4


def raster(width: int, height: int, path: str) -> np.ndarray:
    """The picture of segno's path: horizontal strokes one module high on white (absolute M, relative m and h)."""
    image = np.full((height * SCALE, width * SCALE), 255, dtype=np.uint8)
    x = y = 0.0
    for command, first, second in _STEP.findall(path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            row, start, end = int(y), int(x), int(x + float(first))
            image[row * SCALE:(row + 1) * SCALE, start * SCALE:end * SCALE] = 0
            x += float(first)
    return image


def decode_svgs(html: str) -> list[tuple[str, str]]:
    """(CSS class, decoded text) of every inline QR code of `html`, in document order."""
    found = []
    for width, height, css_class, path in _SVG.findall(html):
        results = zxingcpp.read_barcodes(raster(int(width), int(height), path))
        assert len(results) == 1, f"no QR code could be read in an SVG of class {css_class!r}"
        found.append((css_class, results[0].text))
    return found
