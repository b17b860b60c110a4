"""Ingest of every real file in ../shared/corpus and its pdf-edge subfolder."""

from __future__ import annotations

import pymupdf
import pytest

from appliance.core.errors import PhsError
from appliance.documents import IngestedDocument, ingest
from appliance.documents.const import A4_PT

from .conftest import PASSWORDS, corpus_files

REFUSED = {
    "page-tree-cycle.pdf": "damaged_pages",  # page 2 loops in the page tree
    "delegates-qh-xvi-derived.csv": "not_a_document",
}
GOOD = [p.name for p in corpus_files() if p.name not in REFUSED]


def _pymupdf_page_count(name: str, data: bytes) -> int:
    """The page count PyMuPDF itself gives, laid out as we lay office files out."""
    kind = name.rsplit(".", 1)[1]
    doc = pymupdf.open(stream=data, filetype=kind)
    if kind in ("docx", "xlsx"):
        width, height = A4_PT if kind == "docx" else (A4_PT[1], A4_PT[0])
        doc.layout(width=width, height=height, fontsize=11 if kind == "docx" else 9)
    elif name in PASSWORDS:
        doc.authenticate(PASSWORDS[name])
    return int(doc.page_count)


@pytest.mark.parametrize("name", GOOD)
def test_corpus_document_is_ingested_with_pymupdf_page_count(
    name: str, corpus: dict[str, bytes], ingested: dict[str, object]
) -> None:
    document = ingested[name]
    assert isinstance(document, IngestedDocument), document
    assert document.page_count == _pymupdf_page_count(name, corpus[name])
    assert len(document.pages) == document.page_count
    assert document.title
    with pymupdf.open("pdf", document.pdf) as normalized:
        assert normalized.page_count == document.page_count
        assert not normalized.needs_pass
        assert not normalized.is_encrypted


@pytest.mark.parametrize(("name", "reason"), sorted(REFUSED.items()))
def test_bad_corpus_file_is_refused_with_reason(
    name: str, reason: str, ingested: dict[str, object]
) -> None:
    refusal = ingested[name]
    assert isinstance(refusal, PhsError)
    assert refusal.code == "unreadable_document"
    assert refusal.detail["reason"] == reason


def test_page_tree_cycle_names_the_broken_page(ingested: dict[str, object]) -> None:
    refusal = ingested["page-tree-cycle.pdf"]
    assert isinstance(refusal, PhsError)
    assert refusal.detail == {"reason": "damaged_pages", "pages": [2], "page_count": 2}
    assert "trang 2" in refusal.message


@pytest.mark.parametrize("name", sorted(PASSWORDS))
def test_encrypted_pdf_without_password_asks_for_it(name: str, corpus: dict[str, bytes]) -> None:
    with pytest.raises(PhsError) as caught:
        ingest(corpus[name], name)
    assert caught.value.code == "unreadable_document"
    assert caught.value.detail == {"reason": "password_required"}


@pytest.mark.parametrize("name", sorted(PASSWORDS))
def test_encrypted_pdf_with_wrong_password_is_refused(name: str, corpus: dict[str, bytes]) -> None:
    with pytest.raises(PhsError) as caught:
        ingest(corpus[name], name, "sai-mat-khau")
    assert caught.value.detail == {"reason": "password_wrong"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("enc-r2-rc4-40-userpw.pdf", "pdf encryption test\npassword: asdfzxcv"),
        ("enc-r6-aes256-userpw.pdf", "pdf encryption test\npassword: asdfzxcv"),
        ("enc-utf8-password.pdf", "Issue 6010"),
        ("enc-r4-owner-only.pdf", "pdf encryption test\npassword: asdfzxcv"),
    ],
)
def test_encrypted_pdf_with_password_gives_its_text(
    name: str, text: str, ingested: dict[str, object]
) -> None:
    # The RC4 file loses its text if needs_pass is read after authenticate (SOURCES.md caveat).
    document = ingested[name]
    assert isinstance(document, IngestedDocument)
    assert document.pages[0].text == text


@pytest.mark.parametrize("name", ["xref-missing-repairable.pdf", "truncated-mangled-scan.pdf"])
def test_repaired_pdf_is_flagged(name: str, ingested: dict[str, object]) -> None:
    document = ingested[name]
    assert isinstance(document, IngestedDocument)
    assert "repaired" in document.warnings


@pytest.mark.parametrize(
    "name",
    [
        "scan-quyet-dinh-46-2021.pdf",
        "scan-ke-hoach-753-2026.pdf",
        "scan-page-hop-dong-p3.jpg",
        "scan-page-nghi-dinh-28-2021.jpg",
    ],
)
def test_scan_without_text_is_flagged_and_titled_by_filename(
    name: str, ingested: dict[str, object]
) -> None:
    document = ingested[name]
    assert isinstance(document, IngestedDocument)
    assert "no_text" in document.warnings
    assert document.title == name.rsplit(".", 1)[0]


def test_jpeg_scan_becomes_one_a4_wide_page(ingested: dict[str, object]) -> None:
    document = ingested["scan-page-hop-dong-p3.jpg"]
    assert isinstance(document, IngestedDocument)
    assert document.page_count == 1
    page = document.pages[0]
    assert page.width_pt == A4_PT[0]
    assert page.height_pt == pytest.approx(A4_PT[0] * 5850 / 4135, abs=0.01)


def test_broken_tounicode_text_is_normalized(ingested: dict[str, object]) -> None:
    document = ingested["nghi-dinh-47-2020-broken-tounicode.pdf"]
    assert isinstance(document, IngestedDocument)
    assert all("ƣ" not in page.text for page in document.pages)
    assert all("ƣ" not in word[4] for page in document.pages for word in page.words)
    assert "cơ quan nhà nước" in document.pages[0].text


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (
            "nghi-dinh-47-2020-broken-tounicode.pdf",
            "Quản lý, kết nối và chia sẻ dữ liệu số của cơ quan nhà nước",
        ),
        (
            "ke-hoach-bau-cu-luong-minh.docx",
            "Kế hoạch thực hiện công tác bầu cử đại biểu Quốc hội khóa XVI và bầu cử đại biểu "
            "Hội đồng nhân dân các cấp nhiệm kỳ 2026-2031",
        ),
        ("many-pages-352.pdf", "Free Culture"),
        ("theo-doi-vbqppl-an-giang.xlsx", "theo-doi-vbqppl-an-giang"),
    ],
)
def test_title_is_what_a_secretary_would_type(
    name: str, title: str, ingested: dict[str, object]
) -> None:
    document = ingested[name]
    assert isinstance(document, IngestedDocument)
    assert document.title == title


def test_hanoi_resolution_title_keeps_document_codes(ingested: dict[str, object]) -> None:
    document = ingested["nghi-quyet-hdnd-hanoi-11-2025.pdf"]
    assert isinstance(document, IngestedDocument)
    assert document.title.startswith(
        "Nghị quyết về sửa đổi, bổ sung một số nội dung quy định tại nghị quyết số "
        "22/2022/NQ-HĐND ngày 08/12/2022"
    )
    assert len(document.title) <= 201
