"""The minutes as PDF (PyMuPDF Story) and DOCX (python-docx), from the same blocks.

The PDF uses the serif face MuPDF carries (Charis SIL / Noto Serif: full Vietnamese
coverage), embedded as a subset, so the box needs no system fonts and every diacritic
survives text extraction. Fixed metadata dates and no random file id: the same journal
gives the same PDF bytes.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import html
import io
from datetime import datetime

import docx
import pymupdf
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from appliance.archive.minutes_content import MOTTO, VN, Block, Minutes

CSS = """
* { font-family: serif; font-size: 12pt; line-height: 1.3; }
h1 { font-size: 14pt; text-align: center; margin: 10pt 0 4pt 0; }
h2 { font-size: 12pt; font-weight: bold; margin: 8pt 0 3pt 0; }
p { margin: 2pt 0; text-align: justify; }
.center { text-align: center; }
.head { width: 100%; }
.head td { text-align: center; font-size: 11pt; vertical-align: top; }
table.data { border-collapse: collapse; width: 100%; margin: 3pt 0 6pt 0; }
table.data td, table.data th { border: 1px solid black; padding: 2pt; font-size: 10.5pt; }
.sign td { text-align: center; font-weight: bold; width: 50%; vertical-align: top; }
"""


def _e(text: str) -> str:
    return html.escape(text)


def _body_lines(minutes: Minutes) -> tuple[str, str]:
    """'HỘI ĐỒNG NHÂN DÂN' over the locality, as the Nghị định 30 header sets the issuing body."""
    name = minutes.body.strip()
    for short in ("HĐND ", "Hội đồng nhân dân "):
        if name.startswith(short):
            return "HỘI ĐỒNG NHÂN DÂN", name[len(short):].upper()
    return name.upper(), ""


def _html(minutes: Minutes) -> str:
    top, sub = _body_lines(minutes)
    parts = [
        "<table class='head'><tr>"
        f"<td width='36%'>{_e(top)}<br/><b>{_e(sub)}</b></td>"
        f"<td width='64%'><b>{_e(MOTTO[0])}</b><br/><b>{_e(MOTTO[1])}</b></td></tr>"
        f"<tr><td></td><td><i>{_e(minutes.place_date)}</i></td></tr></table>"
    ]
    for b in minutes.blocks:
        parts.append(_block_html(b))
    parts.append(
        "<table class='sign head'><tr><td>THƯ KÝ</td><td>CHỦ TỌA</td></tr>"
        f"<tr><td><br/><br/><br/>{_e(minutes.secretary)}</td><td><br/><br/><br/>{_e(minutes.chair)}</td></tr></table>"
    )
    return "".join(parts)


def _block_html(b: Block) -> str:
    if b.kind == "title":
        return f"<h1>{_e(b.text)}</h1>"
    if b.kind == "h":
        return f"<h2>{_e(b.text)}</h2>"
    if b.kind == "table":
        head = "".join(f"<th>{_e(h)}</th>" for h in b.header)
        rows = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in b.rows)
        return f"<table class='data'><tr>{head}</tr>{rows}</table>"
    return f"<p>{_e(b.text)}</p>"


def _pdf_date(wall: float) -> str:
    return "D:" + datetime.fromtimestamp(wall, VN).strftime("%Y%m%d%H%M%S")


def render_pdf(minutes: Minutes) -> bytes:
    """A4 PDF laid out by PyMuPDF's Story; fonts embedded as subsets."""
    story = pymupdf.Story(html=_html(minutes), user_css=CSS)
    out = io.BytesIO()
    writer = pymupdf.DocumentWriter(out)
    mediabox = pymupdf.paper_rect("a4")
    where = mediabox + (70, 56, -50, -56)  # Nghị định 30: left margin 30-35 mm, right 15-20 mm
    more = True
    while more:
        device = writer.begin_page(mediabox)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", out.getvalue())
    stamp = _pdf_date(minutes.stamp)
    doc.set_metadata({"title": minutes.title, "creator": "PHS", "producer": "PyMuPDF",
                      "creationDate": stamp, "modDate": stamp})
    doc.subset_fonts()
    return bytes(doc.tobytes(garbage=4, deflate=True, no_new_id=True))


def render_docx(minutes: Minutes) -> bytes:
    """The same minutes as an editable Word file (the secretary's habit before signing)."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    document.core_properties.title = minutes.title
    top, sub = _body_lines(minutes)
    head = document.add_table(rows=2, cols=2)
    head.cell(0, 0).text = f"{top}\n{sub}"
    head.cell(0, 1).text = f"{MOTTO[0]}\n{MOTTO[1]}"
    head.cell(1, 1).text = minutes.place_date
    for row in head.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for b in minutes.blocks:
        if b.kind == "title":
            p = document.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(b.text).bold = True
        elif b.kind == "h":
            document.add_paragraph().add_run(b.text).bold = True
        elif b.kind == "table":
            table = document.add_table(rows=1 + len(b.rows), cols=len(b.header))
            table.style = "Table Grid"
            for j, h in enumerate(b.header):
                table.cell(0, j).text = h
            for i, r in enumerate(b.rows, 1):
                for j, c in enumerate(r):
                    table.cell(i, j).text = c
        else:
            document.add_paragraph(b.text)
    sign = document.add_table(rows=2, cols=2)
    sign.cell(0, 0).text, sign.cell(0, 1).text = "THƯ KÝ", "CHỦ TỌA"
    sign.cell(1, 0).text, sign.cell(1, 1).text = minutes.secretary, minutes.chair
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
