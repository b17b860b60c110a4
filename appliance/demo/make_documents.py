"""Generate the demo documents: short Vietnamese council papers written for PHS.

Why generated: the demo must not depend on ../shared/corpus, and real government files
are test inputs, not ours to ship. PDFs are laid out by PyMuPDF's Story with the fonts
MuPDF carries (Noto Serif / Charis SIL, full Vietnamese coverage), embedded as subsets,
so this works on any machine with PyMuPDF. Run: ``python -m appliance.demo.make_documents``.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import html
import io
from pathlib import Path

import docx
import pymupdf

from appliance.demo import DEMO_DIR

BODY = "HỘI ĐỒNG NHÂN DÂN PHƯỜNG AN BÌNH"
PLACE_DATE = "An Bình, ngày 15 tháng 12 năm 2026"
CSS = """
* { font-family: serif; font-size: 12pt; line-height: 1.35; }
h1 { font-size: 14pt; text-align: center; margin: 12pt 0 2pt 0; }
.sub { text-align: center; font-weight: bold; margin-bottom: 10pt; }
.head { width: 100%; }
.head td { text-align: center; font-size: 11pt; vertical-align: top; }
p { text-align: justify; margin: 0 0 6pt 0; }
table.data { border-collapse: collapse; width: 100%; margin: 6pt 0; }
table.data td, table.data th { border: 1px solid black; padding: 3pt; font-size: 11pt; }
table.data th { font-weight: bold; }
td.n { text-align: right; }
"""

Doc = tuple[str, str, str, list[str]]  # filename, heading, subject, paragraphs (HTML)


def _header(number: str) -> str:
    return (
        '<table class="head"><tr>'
        f"<td><b>{BODY}</b><br/>Số: {number}</td>"
        "<td><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br/><b>Độc lập - Tự do - Hạnh phúc</b>"
        f"<br/>{PLACE_DATE}</td></tr></table>"
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    head, *body = rows
    cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    lines = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i else ""}">{html.escape(c)}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in body
    )
    return f'<table class="data"><tr>{cells}</tr>{lines}</table>'


def _sections(topic: str, count: int) -> list[str]:
    """Filler sections in plain administrative Vietnamese, so documents have 2-4 pages."""
    out = []
    for n in range(1, count + 1):
        out.append(f"<p><b>{n}. Về {topic} (phần {n})</b></p>")
        out.append(
            "<p>Trong năm, Ủy ban nhân dân phường đã chỉ đạo các phòng, ban chuyên môn phối hợp "
            "với Ủy ban Mặt trận Tổ quốc và các tổ dân phố triển khai đồng bộ các nhiệm vụ được "
            "giao. Các chỉ tiêu chủ yếu cơ bản đạt và vượt kế hoạch; công tác cải cách hành "
            "chính, chuyển đổi số và giải quyết thủ tục hành chính cho người dân, doanh nghiệp "
            "tiếp tục được quan tâm, tỷ lệ hồ sơ trực tuyến đạt trên 85%.</p>"
        )
        out.append(
            "<p>Bên cạnh kết quả đạt được, vẫn còn một số tồn tại, hạn chế: tiến độ giải ngân "
            "vốn đầu tư công ở một số dự án còn chậm; công tác quản lý trật tự đô thị, vệ sinh "
            "môi trường có lúc chưa thường xuyên. Nguyên nhân chủ yếu do công tác bồi thường, "
            "giải phóng mặt bằng gặp khó khăn và nguồn thu ngân sách chưa ổn định.</p>"
        )
    return out


DOCUMENTS: list[Doc] = [
    (
        "chuong-trinh-ky-hop.pdf",
        "CHƯƠNG TRÌNH",
        "Kỳ họp thứ Năm, Hội đồng nhân dân phường An Bình khóa I, nhiệm kỳ 2026-2031",
        [
            "<p><b>Thời gian:</b> 01 ngày, khai mạc lúc 07 giờ 30 phút ngày 22 tháng 12 năm 2026.</p>",
            "<p><b>Địa điểm:</b> Hội trường Ủy ban nhân dân phường, số 12 đường Trần Hưng Đạo.</p>",
            _table(
                [
                    ("Thời gian", "Nội dung", "Người thực hiện"),
                    ("07:30", "Chào cờ; tuyên bố lý do, giới thiệu đại biểu", "Ban Tổ chức"),
                    ("07:45", "Khai mạc kỳ họp", "Chủ tọa"),
                    (
                        "08:00",
                        "Báo cáo tình hình kinh tế - xã hội năm 2026",
                        "Chủ tịch UBND phường",
                    ),
                    ("08:45", "Tờ trình dự toán ngân sách phường năm 2027", "Trưởng phòng Kinh tế"),
                    ("09:30", "Thảo luận tại hội trường", "Đại biểu HĐND"),
                    (
                        "10:30",
                        "Dự thảo Nghị quyết về kế hoạch đầu tư công năm 2027",
                        "Ban Kinh tế - Ngân sách",
                    ),
                    ("11:15", "Biểu quyết thông qua các nghị quyết", "Đại biểu HĐND"),
                    ("11:45", "Bế mạc kỳ họp", "Chủ tọa"),
                ]
            ),
            *_sections("công tác chuẩn bị kỳ họp", 3),
        ],
    ),
    (
        "bao-cao-kinh-te-xa-hoi-2026.pdf",
        "BÁO CÁO",
        "Tình hình kinh tế - xã hội năm 2026, phương hướng, nhiệm vụ năm 2027",
        [
            "<p>Thực hiện Nghị quyết của Hội đồng nhân dân phường về nhiệm vụ phát triển kinh tế - "
            "xã hội năm 2026, Ủy ban nhân dân phường báo cáo như sau:</p>",
            _table(
                [
                    ("Chỉ tiêu", "Kế hoạch", "Thực hiện", "Tỷ lệ (%)"),
                    ("Thu ngân sách trên địa bàn (triệu đồng)", "48.500", "51.230", "105,6"),
                    ("Tỷ lệ hộ nghèo (%)", "0,50", "0,42", "—"),
                    ("Hồ sơ dịch vụ công trực tuyến (%)", "80", "86", "107,5"),
                    ("Trẻ em dưới 5 tuổi tiêm chủng đầy đủ (%)", "98", "98,6", "100,6"),
                ]
            ),
            *_sections("phát triển kinh tế, văn hóa - xã hội", 6),
        ],
    ),
    (
        "to-trinh-du-toan-ngan-sach-2027.pdf",
        "TỜ TRÌNH",
        "Về dự toán ngân sách phường năm 2027",
        [
            "<p>Kính gửi: Hội đồng nhân dân phường An Bình.</p>",
            "<p>Căn cứ Luật Ngân sách nhà nước năm 2025; căn cứ Nghị quyết của Hội đồng nhân dân "
            "thành phố về phân cấp nguồn thu, nhiệm vụ chi giữa các cấp ngân sách; Ủy ban nhân dân "
            "phường trình Hội đồng nhân dân phường dự toán ngân sách năm 2027 như sau:</p>",
            _table(
                [
                    ("Nội dung", "Dự toán 2027 (triệu đồng)"),
                    ("Tổng thu ngân sách trên địa bàn", "53.800"),
                    ("Thu ngân sách phường được hưởng", "21.450"),
                    ("Chi đầu tư phát triển", "6.200"),
                    ("Chi thường xuyên", "14.180"),
                    ("Dự phòng ngân sách", "1.070"),
                ]
            ),
            *_sections("dự toán thu, chi ngân sách", 4),
            "<p>Kính trình Hội đồng nhân dân phường xem xét, quyết định.</p>",
        ],
    ),
    (
        "du-thao-nghi-quyet-dau-tu-cong.pdf",
        "NGHỊ QUYẾT",
        "Về kế hoạch đầu tư công năm 2027 (dự thảo)",
        [
            "<p><b>HỘI ĐỒNG NHÂN DÂN PHƯỜNG AN BÌNH KHÓA I, KỲ HỌP THỨ NĂM</b></p>",
            "<p>Căn cứ Luật Tổ chức chính quyền địa phương năm 2025; căn cứ Luật Đầu tư công; "
            "xét Tờ trình của Ủy ban nhân dân phường và Báo cáo thẩm tra của Ban Kinh tế - Ngân "
            "sách; ý kiến thảo luận của đại biểu Hội đồng nhân dân phường tại kỳ họp,</p>",
            '<p class="sub">QUYẾT NGHỊ:</p>',
            "<p><b>Điều 1.</b> Thông qua kế hoạch đầu tư công năm 2027 với tổng vốn 6.200 triệu "
            "đồng, gồm các dự án sau:</p>",
            _table(
                [
                    ("Dự án", "Vốn (triệu đồng)"),
                    ("Cải tạo nhà văn hóa tổ dân phố 3", "1.850"),
                    ("Nâng cấp đường Lê Lợi (đoạn 2)", "3.100"),
                    ("Hệ thống camera an ninh khu dân cư", "1.250"),
                ]
            ),
            "<p><b>Điều 2.</b> Giao Ủy ban nhân dân phường tổ chức thực hiện; Thường trực Hội "
            "đồng nhân dân, các Ban và đại biểu Hội đồng nhân dân phường giám sát việc thực hiện "
            "Nghị quyết.</p>",
            *_sections("tổ chức thực hiện kế hoạch đầu tư công", 3),
        ],
    ),
]


def make_pdf(heading: str, subject: str, number: str, paragraphs: list[str]) -> bytes:
    """A council paper laid out on A4 with the Nghị định 30 header."""
    body = (
        _header(number)
        + f"<h1>{html.escape(heading)}</h1><div class='sub'>{html.escape(subject)}</div>"
        + "".join(paragraphs)
    )
    story = pymupdf.Story(html=body, user_css=CSS)
    out = io.BytesIO()
    writer = pymupdf.DocumentWriter(out)
    mediabox = pymupdf.paper_rect("a4")
    where = mediabox + (60, 56, -50, -56)
    more = True
    while more:
        device = writer.begin_page(mediabox)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", out.getvalue())
    doc.set_metadata(
        {
            "title": f"{heading.capitalize()} {subject[:1].lower()}{subject[1:]}",
            "creator": "PHS demo",
            "producer": "PyMuPDF",
            "creationDate": "D:20261215000000",
            "modDate": "D:20261215000000",
        }
    )
    doc.subset_fonts()  # whole Charis/Noto fonts would make each file ~340 KB
    # Deterministic bytes: no random file id, no timestamps beyond the fixed ones above.
    return bytes(doc.tobytes(garbage=4, deflate=True, no_new_id=True))


def make_docx() -> bytes:
    """A short Word document: written comments of a delegate group on the draft resolution."""
    document = docx.Document()
    document.core_properties.title = "Góp ý dự thảo Nghị quyết về kế hoạch đầu tư công năm 2027"
    document.add_paragraph(BODY)
    document.add_heading("BẢN GÓP Ý", level=1)
    document.add_paragraph(
        "Dự thảo Nghị quyết về kế hoạch đầu tư công năm 2027 của tổ đại biểu số 2"
    )
    for n, text in enumerate(
        [
            "Đề nghị bổ sung thời hạn hoàn thành dự án nâng cấp đường Lê Lợi (đoạn 2).",
            "Đề nghị làm rõ nguồn vốn đối ứng cho hệ thống camera an ninh khu dân cư.",
            "Thống nhất với mức vốn cải tạo nhà văn hóa tổ dân phố 3.",
        ],
        start=1,
    ):
        document.add_paragraph(f"{n}. {text}")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Đại biểu"
    table.rows[0].cells[1].text = "Ý kiến"
    for name, opinion in [("Nguyễn Văn An", "Tán thành"), ("Trần Thị Bình", "Tán thành, có góp ý")]:
        row = table.add_row()
        row.cells[0].text, row.cells[1].text = name, opinion
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main(directory: Path = DEMO_DIR) -> list[Path]:
    """Write every demo document into ``directory``; returns the paths written."""
    written = []
    for index, (filename, heading, subject, paragraphs) in enumerate(DOCUMENTS, start=1):
        path = directory / filename
        path.write_bytes(make_pdf(heading, subject, f"{index:02d}/2026", paragraphs))
        written.append(path)
    path = directory / "gop-y-du-thao-nghi-quyet.docx"
    path.write_bytes(make_docx())
    written.append(path)
    return written


if __name__ == "__main__":
    for written_path in main():
        print(written_path.name, written_path.stat().st_size)
