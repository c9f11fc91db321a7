"""Printable label sheets: one label per device, QR codes as inline SVG, one self-contained HTML page.

Pure rendering: a `handlers.label_sheets.SchoolLabels` and the desk's addresses in, a string out,
so the agents' page and `guichet labels` print the same sheet. The stock's geometry is data
(`LabelStock`): another stock is another constant.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
import segno
from markupsafe import Markup

from handlers.label_sheets import LabelAsset, SchoolLabels
from web import labels
from web.typography import FrenchLoader, finalize

__all__ = [
    "A4_3X8", "LabelCodes", "LabelLinks", "LabelStock", "content_security_policy", "label_codes",
    "render_sheet", "sheet_css",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: What a teacher reads on every label.
INSTRUCTIONS = "Une panne ? Scannez ce code ou écrivez au guichet numérique des écoles."


@dataclass(frozen=True, slots=True)
class LabelStock:
    """A sheet of self-adhesive labels: the page, the grid, the labels' size and the margins (mm)."""

    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_top: float = 0.0
    margin_left: float = 0.0

    def __post_init__(self) -> None:
        if self.columns < 1 or self.rows < 1:
            raise ValueError(f"{self.name}: a sheet needs at least one column and one row")
        if (self.margin_left + self.columns * self.label_width > self.page_width + 1e-9
                or self.margin_top + self.rows * self.label_height > self.page_height + 1e-9):
            raise ValueError(f"{self.name}: the labels do not fit on the page")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


#: Standard A4 stock, 3 × 8 labels of 70 × 37 mm with no gap between them.
A4_3X8 = LabelStock("A4, 3 × 8 étiquettes de 70 × 37 mm", page_width=210, page_height=297, columns=3, rows=8,
                    label_width=70, label_height=37, margin_top=0.5)


@dataclass(frozen=True, slots=True)
class LabelLinks:
    """Where a label's codes lead: the bot's deep link when it has a username, the web chat always
    (the door of the device's territory: `chat_prefix` is `/t/<slug>` for another than the default)."""

    public_url: str
    bot_username: str | None = None
    chat_prefix: str = ""

    @classmethod
    def for_territory(cls, public_url: str, bot_username: str | None, slug: str, default: str) -> LabelLinks:
        """The links of a territory's labels: its own bot (`bot_username`, None when it has none)
        and its own web-chat door."""
        if not slug or slug == default:
            return cls(public_url, bot_username)
        return cls(public_url, bot_username, f"/t/{slug}")

    def webchat(self, tag: str) -> str:
        return f"{self.public_url.rstrip('/')}{self.chat_prefix}/chat?asset={quote(tag, safe='')}"

    def telegram(self, tag: str) -> str | None:
        if not self.bot_username:
            return None
        return f"https://t.me/{self.bot_username}?start=asset-{quote(tag, safe='')}"


@dataclass(frozen=True, slots=True)
class LabelCodes:
    """A label's QR codes: the main one, and the web chat's smaller one when the main is Telegram's."""

    main_url: str
    main: segno.QRCode
    webchat_url: str
    webchat: segno.QRCode | None


def label_codes(tag: str, links: LabelLinks) -> LabelCodes:
    """The codes of one label; the small one is coded with less redundancy to stay scannable small."""
    webchat_url = links.webchat(tag)
    telegram_url = links.telegram(tag)
    if telegram_url is None:
        return LabelCodes(webchat_url, segno.make_qr(webchat_url, error="m"), webchat_url, None)
    return LabelCodes(telegram_url, segno.make_qr(telegram_url, error="m"), webchat_url,
                      segno.make_qr(webchat_url, error="l"))


def _svg(code: segno.QRCode, css_class: str) -> Markup:
    # A two-module quiet zone: the label's own white padding completes it.
    return Markup(code.svg_inline(border=2, omitsize=True, svgclass=css_class, lineclass=None))


def _short(url: str) -> str:
    """An address as people type it: without its scheme."""
    return url.split("://", 1)[-1]


@dataclass(frozen=True, slots=True)
class _Label:
    asset: LabelAsset
    kind: str
    owner: str
    main_svg: Markup
    main_caption: str
    webchat_svg: Markup | None
    webchat_short: str


def _label(asset: LabelAsset, links: LabelLinks) -> _Label:
    codes = label_codes(asset.tag, links)
    return _Label(
        asset=asset, kind=labels.label(labels.EQUIPMENT, asset.equipment),
        owner=asset.owner_name or labels.label(labels.ORG_KIND, asset.owner),
        main_svg=_svg(codes.main, "qr qr-main"),
        main_caption="Telegram" if codes.webchat is not None else "Chat du guichet",
        webchat_svg=_svg(codes.webchat, "qr qr-web") if codes.webchat is not None else None,
        webchat_short=_short(codes.webchat_url),
    )


_ENV = jinja2.Environment(loader=FrenchLoader(TEMPLATES), autoescape=True, finalize=finalize,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
#: The style sheet is no French text: no typography, and only numbers of the stock go in.
_CSS_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                              undefined=jinja2.StrictUndefined)


def sheet_css(stock: LabelStock = A4_3X8) -> str:
    """The sheet's style sheet, drawn from the stock's geometry (in mm)."""
    return _CSS_ENV.get_template("labels/sheet.css").render(s=stock)


def content_security_policy(stock: LabelStock = A4_3X8) -> str:
    """The page's CSP: nothing but its own inline style sheet, allowed by its hash."""
    digest = base64.b64encode(hashlib.sha256(sheet_css(stock).encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'none'; base-uri 'none'")


def render_sheet(sheet: SchoolLabels, links: LabelLinks, stock: LabelStock = A4_3X8) -> str:
    """The whole printable document: one page of `stock` for every `stock.per_page` devices."""
    items = [_label(asset, links) for asset in sheet.assets]
    pages = [items[i:i + stock.per_page] for i in range(0, len(items), stock.per_page)]
    return _ENV.get_template("labels/sheet.html").render(
        sheet=sheet, pages=pages, stock=stock, css=Markup(sheet_css(stock)), instructions=INSTRUCTIONS)
