"""QR codes for pairing cards, drawn as SVG so they print sharp at any size."""

from __future__ import annotations

import io

import segno

# Five SVG units a module: a version-3 code (a pairing URL) comes out about 3.7 cm wide
# at 96 dpi, scannable from a printed card held at arm's length. Four modules of quiet
# zone is what the QR standard asks for; cropping it makes cheap cameras fail.
SCALE = 5
BORDER = 4


def qr_svg(text: str) -> str:
    """An inline ``<svg>`` element (no XML declaration) encoding ``text``.

    The SVG namespace is kept so the same string also works saved as a file.
    """
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=SCALE,
        border=BORDER,
        xmldecl=False,
        svgns=True,
        nl=False,
        svgclass="phs-qr",
        lineclass=None,
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
