"""The secretary's documents card, against its own server (it makes documents secret).

The secretary uploads two corpus PDFs to item 2 through the form (the upload id the page
sent answers with the exact page count), moves the second above the first, makes one
confidential for a single named delegate with a watermark, replaces the other with a new
version, and sees who opened the confidential one. A delegate who is not named cannot
open it; the named one can.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pymupdf
import pytest

from tests.e2e.conftest import (
    CORPUS,
    DELEGATES,
    TABLET,
    Server,
    _prepare_sitting,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e

FIRST = CORPUS / "giay-moi-hdnd-tuan-giao.pdf"
SECOND = CORPUS / "quyet-dinh-hdnd-thanh-hoa-draft.pdf"
NEWER = CORPUS / "thong-bao-doan-giam-sat-hdnd-binh-duong.pdf"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not all(p.exists() for p in (FIRST, SECOND, NEWER)):
        pytest.skip("corpus PDFs absent")
    tmp = tmp_path_factory.mktemp("phs-secretary-docs")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    try:
        client, secretary_id = pair_secretary(f"http://127.0.0.1:{port}")
        srv = Server(base=f"http://127.0.0.1:{port}", secretary=client, secretary_id=secretary_id, log_path=log_path)
        _prepare_sitting(srv)
        yield srv
        client.close()
    finally:
        stop_server(proc)


def _pages(path: Any) -> int:
    with pymupdf.open(path) as doc:
        return int(doc.page_count)


def _client(srv: Server, name: str) -> httpx.Client:
    who = srv.by_name(name)
    code = srv.secretary.post("/api/pairing-codes", json={"participant_id": who["id"]}).json()["code"]
    token = httpx.post(f"{srv.base}/api/pair", json={"code": code}).json()["token"]
    return httpx.Client(base_url=srv.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _item(srv: Server, n: int) -> list[str]:
    state = srv.secretary.get("/api/state").json()
    return list(next(it for it in state["agenda"] if it["n"] == n)["documents"])


def test_secretary_manages_access_order_versions_and_sees_openings(browser: Any, hall: Server, shots: Any) -> None:
    from playwright.sync_api import expect

    desk = pair_page(browser, hall, hall.secretary_id, TABLET, "secretary.html")
    for path in (FIRST, SECOND):
        desk.locator("#u-item").select_option("2")
        desk.locator("#u-file").set_input_files(str(path))
        desk.locator("#upload-form button[type=submit]").click()
        expect(desk.locator("#upload-ok")).to_contain_text("Đã tải lên:", timeout=60_000)
        upload_id = desk.locator("#upload-form input[name=upload_id]").input_value()
        job = hall.secretary.get(f"/api/documents/uploads/{upload_id}").json()
        assert (job["status"], job["total"], job["done"]) == ("done", _pages(path), _pages(path))
    first, second = _item(hall, 2)

    # Move the second above the first.
    card = desk.get_by_test_id("docs-manage")
    row = card.locator(f'[data-doc="{second}"]')
    row.locator(":scope > summary").click()
    row.get_by_role("button", name="↑ Lên").click()
    expect(card.locator("[data-item=\"2\"] [data-testid=doc-manage]").first).to_have_attribute("data-doc", second)
    assert _item(hall, 2) == [second, first]

    # Confidential for Nhung only, watermarked.
    nhung, phuong = DELEGATES[1]["name"], DELEGATES[2]["name"]
    row = card.locator(f'[data-doc="{second}"]')
    if row.get_attribute("open") is None:
        row.locator(":scope > summary").click()
    row.get_by_test_id("doc-access").select_option("confidential")
    row.locator(".readers summary").click()
    row.get_by_label(nhung).check()
    row.get_by_test_id("doc-watermark").check()
    row.get_by_test_id("doc-access-save").click()
    expect(desk.locator(".toast")).to_contain_text("Đã lưu quyền xem")
    doc = hall.secretary.get(f"/api/documents/{second}").json()
    doc = doc.get("document", doc)
    assert (doc["access"], doc["readers"], doc["watermark"]) == ("confidential", [hall.by_name(nhung)["id"]], True)

    with _client(hall, phuong) as other, _client(hall, nhung) as reader:
        assert other.get(f"/api/documents/{second}").status_code == 404
        assert other.get(f"/api/documents/{second}/pages/1?size=tablet").status_code == 404
        assert reader.get(f"/api/documents/{second}").status_code == 200
        assert reader.get(f"/api/documents/{second}/pages/1?size=tablet").status_code == 200

    # Who opened it: the secretary's list names Nhung.
    row = card.locator(f'[data-doc="{second}"]')
    if row.get_attribute("open") is None:
        row.locator(":scope > summary").click()
    row.get_by_role("button", name="Ai đã mở").click()
    expect(row.get_by_test_id("doc-openings")).to_contain_text(nhung)

    # Replace the other with a new version: a new id in the same place, version 2.
    row = card.locator(f'[data-doc="{first}"]')
    if row.get_attribute("open") is None:
        row.locator(":scope > summary").click()
    row.get_by_test_id("doc-replace-file").set_input_files(str(NEWER))
    expect(desk.locator(".toast").last).to_contain_text("bản 2", timeout=60_000)
    order = _item(hall, 2)
    assert order[0] == second and order[1] != first
    newer = hall.secretary.get(f"/api/documents/{order[1]}").json()
    newer = newer.get("document", newer)
    assert (newer["version"], newer["replaces"], newer["pages"]) == (2, first, _pages(NEWER))
    shots(desk, "secretary-documents")
    desk.context.close()
