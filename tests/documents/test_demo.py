"""The demo documents ship with the product: present, small, readable, in Vietnamese."""

from __future__ import annotations

import pytest

from appliance.demo import DEMO_DOCUMENTS, demo_document_paths
from appliance.documents import IngestedDocument, ingest, search


@pytest.fixture(scope="module")
def demo() -> dict[str, IngestedDocument]:
    return {
        path.name: ingest(path.read_bytes(), path.name) for path, _item in demo_document_paths()
    }


def test_every_demo_document_is_small_and_belongs_to_an_agenda_item() -> None:
    for path, item in demo_document_paths():
        assert path.is_file(), path
        assert path.stat().st_size < 100 * 1024, path.name
        assert item >= 1
    assert len(DEMO_DOCUMENTS) == 5


def test_demo_documents_ingest_with_titles_and_pages(demo: dict[str, IngestedDocument]) -> None:
    assert {name: d.page_count for name, d in demo.items()} == {
        "chuong-trinh-ky-hop.pdf": 2,
        "bao-cao-kinh-te-xa-hoi-2026.pdf": 2,
        "to-trinh-du-toan-ngan-sach-2027.pdf": 2,
        "du-thao-nghi-quyet-dau-tu-cong.pdf": 2,
        "gop-y-du-thao-nghi-quyet.docx": 1,
    }
    assert demo["to-trinh-du-toan-ngan-sach-2027.pdf"].title == (
        "Tờ trình về dự toán ngân sách phường năm 2027"
    )


def test_demo_budget_is_searchable_without_diacritics(demo: dict[str, IngestedDocument]) -> None:
    document = demo["to-trinh-du-toan-ngan-sach-2027.pdf"]
    hits = search([p.words for p in document.pages], "du phong ngan sach")
    assert [h.page for h in hits] == [1]
