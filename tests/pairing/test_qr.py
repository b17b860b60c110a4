"""QR cards: an inline SVG a tablet camera can read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import segno

from appliance.pairing.qr import BORDER, SCALE, qr_svg


def test_qr_svg_is_a_bare_svg_element_without_xml_declaration() -> None:
    svg = qr_svg("http://10.42.0.1:8080/pair?code=012345")
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("class") == "phs-qr"


def test_qr_svg_size_matches_the_code_and_the_print_scale() -> None:
    text = "http://10.42.0.1:8080/pair?code=012345"
    modules = segno.make(text, error="m", micro=False).symbol_size(scale=1, border=BORDER)[0]
    root = ET.fromstring(qr_svg(text))
    assert root.get("width") == str(modules * SCALE)
    assert root.get("height") == str(modules * SCALE)


def test_qr_svg_differs_with_the_text() -> None:
    assert qr_svg("012345") != qr_svg("543210")
