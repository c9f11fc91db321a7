"""The committee's chart is a well-formed, accessible SVG whose bars follow the figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from web.charts import paired_bars

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_follow_the_figures_and_labels_are_escaped() -> None:
    svg = paired_bars("Vols et dégradations", [("Firminy <&>", 4, 2), ("Unieux", 2, 0)], "sept.-oct.", "juil.-août")
    root = ET.fromstring(str(svg))  # well-formed: labels are escaped
    assert root.find(f"{SVG}title").text == "Vols et dégradations"
    bars = [float(r.get("width")) for r in root.findall(f"{SVG}rect")][2:]  # after the legend's two
    assert bars[0] == 2 * bars[1] == 2 * bars[2] and bars[3] == 0.0
    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert "Firminy <&>" in texts and "4" in texts


def test_an_empty_chart_says_so() -> None:
    root = ET.fromstring(str(paired_bars("Vols", [], "a", "b")))
    assert "Aucun incident sur ces deux périodes." in [t.text for t in root.findall(f"{SVG}text")]
