"""Text normalization, diacritic-insensitive search on real documents, page rendering."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from appliance.documents import (
    SIZES,
    IngestedDocument,
    load_text_blob,
    normalize_extracted,
    render_page,
    search,
    text_blob,
)


def _doc(ingested: dict[str, object], name: str) -> IngestedDocument:
    document = ingested[name]
    assert isinstance(document, IngestedDocument)
    return document


def _pages(document: IngestedDocument, query: str) -> list[int]:
    return sorted({hit.page for hit in search([p.words for p in document.pages], query)})


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("nhà nƣớc", "nhà nước"),
        ("Nha\u0300 nươ\u0301c", "Nhà nước"),
        ("ngân   sách\u00a0\u00a0xã", "ngân sách xã"),
        ("kinh\u00adtế\u200b", "kinhtế"),
        ("a ̀", "à"),
        ("dòng 1  \n\n\n\n dòng 2\t", "dòng 1\n\ndòng 2"),
    ],
)
def test_normalize_extracted_repairs_defective_text_layers(raw: str, clean: str) -> None:
    assert normalize_extracted(raw) == clean


def test_search_ignores_diacritics_and_case_on_hanoi_resolution(
    ingested: dict[str, object],
) -> None:
    document = _doc(ingested, "nghi-quyet-hdnd-hanoi-11-2025.pdf")
    assert _pages(document, "ngan sach") == [1, 2, 3, 4, 5, 6, 7, 8]
    assert _pages(document, "HÀ NỘI") == [1, 2, 3, 4]
    assert _pages(document, "thue bao ve moi truong") == [7]


def test_search_finds_words_spelled_with_lookalike_letters(ingested: dict[str, object]) -> None:
    # This PDF's text layer spells ư as ƣ (U+01A3) throughout.
    document = _doc(ingested, "nghi-dinh-47-2020-broken-tounicode.pdf")
    assert _pages(document, "nhà nước") == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        17,
        19,
        26,
        27,
        28,
        29,
        31,
    ]
    assert _pages(document, "co so du lieu quoc gia") == [6, 7, 8, 16, 19, 28, 29, 30]
    assert _pages(document, "Nền tảng tích hợp") == [15, 16, 17, 24]


def test_search_hit_rects_cover_the_words(ingested: dict[str, object]) -> None:
    document = _doc(ingested, "nghi-quyet-hdnd-hanoi-11-2025.pdf")
    hits = search([p.words for p in document.pages], "thuế bảo vệ môi trường")
    assert [h.page for h in hits] == [7, 7]
    for hit in hits:
        assert 1 <= len(hit.rects) <= 5
        for x0, y0, x1, y1 in hit.rects:
            assert 0 <= x0 < x1 <= document.pages[6].width_pt
            assert 0 <= y0 < y1 <= document.pages[6].height_pt


def test_empty_query_finds_nothing(ingested: dict[str, object]) -> None:
    document = _doc(ingested, "nghi-quyet-hdnd-hanoi-11-2025.pdf")
    assert search([p.words for p in document.pages], " ,. ") == []


def test_text_blob_round_trips_and_is_absent_for_scans(ingested: dict[str, object]) -> None:
    document = _doc(ingested, "nghi-quyet-hdnd-hanoi-11-2025.pdf")
    blob = text_blob(document.pages)
    assert blob is not None
    pages = load_text_blob(blob)
    assert [p.text for p in pages] == [p.text for p in document.pages]
    assert _pages(document, "ngan sach") == sorted(
        {h.page for h in search([p.words for p in pages], "ngan sach")}
    )
    assert text_blob(_doc(ingested, "scan-quyet-dinh-46-2021.pdf").pages) is None


@pytest.mark.parametrize("size", ["thumb", "tablet"])
def test_first_page_renders_to_exact_width_webp(ingested: dict[str, object], size: str) -> None:
    document = _doc(ingested, "nghi-quyet-hdnd-hanoi-11-2025.pdf")
    image = Image.open(io.BytesIO(render_page(document.pdf, 0, SIZES[size])))
    assert image.format == "WEBP"
    assert image.size[0] == SIZES[size]
    ratio = document.pages[0].height_pt / document.pages[0].width_pt
    assert image.size[1] == pytest.approx(SIZES[size] * ratio, abs=1)


def test_huge_a0_page_renders_at_tablet_width(ingested: dict[str, object]) -> None:
    document = _doc(ingested, "huge-page-a0.pdf")
    image = Image.open(io.BytesIO(render_page(document.pdf, 0, 1280, "jpeg")))
    assert (image.format, image.size) == ("JPEG", (1280, 906))


def test_docx_page_renders_vietnamese_text(ingested: dict[str, object]) -> None:
    document = _doc(ingested, "ke-hoach-bau-cu-luong-minh.docx")
    assert "Thực hiện công tác bầu cử" in document.pages[0].text
    image = Image.open(io.BytesIO(render_page(document.pdf, 0, 1280)))
    assert image.size[0] == 1280
