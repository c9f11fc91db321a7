"""The printable label sheet: its codes lead where they say, 24 labels a page, hostile names stay text."""

from __future__ import annotations

import re

import pytest

from handlers.label_sheets import LabelAsset, SchoolLabels
from tests.qr_decode import decode_svgs
from web.label_sheet import A4_3X8, INSTRUCTIONS, LabelLinks, LabelStock, content_security_policy, render_sheet, sheet_css

LINKS = LabelLinks("https://guichet.example.fr/", "GuichetEcolesBot")


def _sheet(count: int, room: str = "Salle 3") -> SchoolLabels:
    assets = tuple(LabelAsset(tag=f"SEM-{4500 + i:06d}", equipment="projector", room=room, owner="sem",
                              owner_name="Saint-Étienne Métropole") for i in range(count))
    return SchoolLabels(uai="0421001X", school="École Jules Ferry", commune="Firminy", room=None, assets=assets)


def test_the_main_code_opens_the_bot_and_the_small_one_the_web_chat() -> None:
    """With a bot username, each label carries the Telegram deep link and the web chat's address, both readable."""
    html = render_sheet(_sheet(2), LINKS)
    assert decode_svgs(html) == [
        ("qr qr-main", "https://t.me/GuichetEcolesBot?start=asset-SEM-004500"),
        ("qr qr-web", "https://guichet.example.fr/chat?asset=SEM-004500"),
        ("qr qr-main", "https://t.me/GuichetEcolesBot?start=asset-SEM-004501"),
        ("qr qr-web", "https://guichet.example.fr/chat?asset=SEM-004501"),
    ]
    assert "Sur le web : guichet.example.fr/chat?asset=SEM-004500" in html.replace("\u00a0", " ")


def test_without_a_bot_the_main_code_is_the_web_chat() -> None:
    """No bot username configured: one code per label, the web chat's, and no Telegram link anywhere."""
    html = render_sheet(_sheet(1), LabelLinks("http://127.0.0.1:8080"))
    assert decode_svgs(html) == [("qr qr-main", "http://127.0.0.1:8080/chat?asset=SEM-004500")]
    assert "t.me" not in html and "Telegram" not in html


def test_tag_owner_type_room_and_instructions_are_printed() -> None:
    """A label shows the tag large, the owner's name, the device type in French, the room and the desk's words."""
    html = render_sheet(_sheet(1), LINKS)
    label = html[html.index('<article class="label" data-tag="SEM-004500">'):html.index("</article>")]
    assert '<div class="tag">SEM-004500</div>' in label
    assert '<div class="owner">Saint-Étienne Métropole</div>' in label
    assert '<div class="what">Vidéoprojecteur · Salle 3</div>' in label
    # French typography: a narrow no-break space before « ? ».
    assert "Une panne\u202f? Scannez ce code ou écrivez au guichet numérique des écoles." in label
    assert INSTRUCTIONS.startswith("Une panne ?")


def test_an_unknown_owner_is_named_by_its_kind() -> None:
    """An owner the desk cannot name (no such organisation) is printed as its kind in French, never its code."""
    sheet = SchoolLabels("0421001X", "École", "Firminy", None, (LabelAsset("SEM-000009", "tablet", None, "commune", None),))
    html = render_sheet(sheet, LINKS)
    assert '<div class="owner">Commune</div>' in html and '<div class="what">Tablette</div>' in html


def test_twenty_five_labels_take_two_pages() -> None:
    """24 labels fill an A4 sheet; the 25th starts a second page, and only pages before the last break."""
    html = render_sheet(_sheet(25), LINKS)
    pages = re.findall(r'<section class="page"[^>]*>(.*?)</section>', html, re.DOTALL)
    assert [page.count('<article class="label"') for page in pages] == [24, 1]
    assert 'aria-label="Planche 2 sur 2"' in html and "25 étiquettes sur 2 planches" in html
    css = sheet_css()
    assert "@page { size: 210mm 297mm; margin: 0; }" in css
    assert "grid-template-columns: repeat(3, 70mm)" in css and "grid-template-rows: repeat(8, 37mm)" in css
    assert "padding: 0.5mm 0 0 0.0mm" in css and "break-after: page" in css
    assert A4_3X8.per_page == 24


def test_an_empty_room_says_so() -> None:
    """No device: no page of labels, a sentence instead."""
    html = render_sheet(SchoolLabels("0421001X", "École", "Firminy", "Salle 9", ()), LINKS)
    assert '<section class="page"' not in html
    assert "Aucun matériel de l'inventaire n'est rattaché à cette salle." in html


def test_hostile_room_and_school_names_are_escaped() -> None:
    """Names typed into the inventory are text, never markup, on the sheet."""
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    sheet = SchoolLabels("0421001X", hostile, "Firminy", hostile,
                         (LabelAsset("SEM-000001", "laptop", hostile, "other", hostile),))
    html = render_sheet(sheet, LINKS)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_the_inline_style_sheet_is_the_one_the_policy_allows() -> None:
    """The page's CSP allows its one inline style sheet by hash, and nothing else (no script at all)."""
    import base64
    import hashlib

    html = render_sheet(_sheet(1), LINKS)
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in content_security_policy()
    assert "script" not in content_security_policy() and "default-src 'none'" in content_security_policy()


def test_another_stock_is_one_more_constant() -> None:
    """The geometry is data: a 2 × 7 stock gives 14 labels a page; a stock that does not fit is refused."""
    stock = LabelStock("A4 2 × 7", page_width=210, page_height=297, columns=2, rows=7, label_width=99.1,
                       label_height=38.1, margin_top=15.15, margin_left=4.65)
    html = render_sheet(_sheet(15), LINKS, stock)
    assert html.count('<section class="page"') == 2 and "repeat(2, 99.1mm)" in html
    with pytest.raises(ValueError, match="do not fit"):
        LabelStock("too tall", 210, 297, 3, 9, 70, 37)
