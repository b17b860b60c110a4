"""ingest_and_render: the process pool, page 1 first, blobs stored in the loop thread."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from appliance.core.errors import PhsError
from appliance.documents import ingest_and_render, load_text_blob, search, shutdown_pool


@pytest.fixture(scope="module", autouse=True)
def _pool() -> Iterator[None]:
    yield
    shutdown_pool()


#: Page 1 of the Hà Nội resolution is US Letter (ConvertAPI output), in points.
PAGE_ONE_SIZE = {"w": 612.0, "h": 792.0}


class Blobs:
    """An in-memory put_blob that records the thread each call came from."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.order: list[str] = []
        self.threads: set[int] = set()

    def put(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()[:32]
        self.data[blob_id] = data
        self.order.append(blob_id)
        self.threads.add(threading.get_ident())
        return blob_id


async def test_document_is_rendered_page_one_first_and_stored_in_loop_thread(
    corpus: dict[str, bytes],
) -> None:
    blobs = Blobs()
    events: list[object] = []
    record = await ingest_and_render(
        corpus["nghi-quyet-hdnd-hanoi-11-2025.pdf"],
        "nghi-quyet.pdf",
        None,
        blobs.put,
        progress=lambda done, total: events.append((done, total)),
        on_first_page=lambda ids: events.append(ids),
    )
    assert record.page_count == 8
    assert record.title.startswith("Nghị quyết về sửa đổi, bổ sung")
    assert [len(record.page_blobs[s]) for s in ("thumb", "tablet")] == [8, 8]
    assert events[0] == {
        "thumb": record.page_blobs["thumb"][0],
        "tablet": record.page_blobs["tablet"][0],
    }
    assert events[1] == (1, 8) and events[-1] == (8, 8)
    assert blobs.order[:2] == [record.page_blobs["tablet"][0], record.page_blobs["thumb"][0]]
    assert blobs.threads == {threading.get_ident()}
    for index, blob_id in enumerate(record.page_blobs["tablet"]):
        image = Image.open(io.BytesIO(blobs.data[blob_id]))
        assert (image.format, image.size[0]) == ("WEBP", 1280), index
    assert blobs.data[record.original_blob] == corpus["nghi-quyet-hdnd-hanoi-11-2025.pdf"]
    assert blobs.data[record.pdf_blob].startswith(b"%PDF-")
    assert record.pages[0] == PAGE_ONE_SIZE
    assert record.text_blob is not None
    pages = load_text_blob(blobs.data[record.text_blob])
    assert sorted({h.page for h in search([p.words for p in pages], "ngan sach")}) == list(
        range(1, 9)
    )


async def test_scan_has_no_text_blob(corpus: dict[str, bytes]) -> None:
    blobs = Blobs()
    record = await ingest_and_render(
        corpus["scan-page-nghi-dinh-28-2021.jpg"], "scan.jpg", None, blobs.put
    )
    assert (record.page_count, record.text_blob, record.source_format) == (1, None, "jpeg")
    assert "no_text" in record.warnings


async def test_refusal_in_a_worker_reaches_the_caller_intact(corpus: dict[str, bytes]) -> None:
    blobs = Blobs()
    with pytest.raises(PhsError) as caught:
        await ingest_and_render(corpus["enc-r2-rc4-40-userpw.pdf"], "mat.pdf", None, blobs.put)
    assert caught.value.code == "unreadable_document"
    assert caught.value.detail == {"reason": "password_required"}
    assert blobs.order == []


async def test_encrypted_pdf_with_password_is_rendered(corpus: dict[str, bytes]) -> None:
    blobs = Blobs()
    record = await ingest_and_render(
        corpus["enc-r2-rc4-40-userpw.pdf"], "mat.pdf", "asdfzxcv", blobs.put
    )
    assert record.page_count == 1
    assert record.text_blob is not None
    assert load_text_blob(blobs.data[record.text_blob])[0].text.startswith("pdf encryption test")
