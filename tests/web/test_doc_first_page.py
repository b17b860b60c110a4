"""A 300-page upload is on the tablets once its first page is stored; the other pages are
rendered in the background, served on demand meanwhile, and survive restarts."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pymupdf
from PIL import Image

from tests.web.realserver import Driver

PAGES = 300
OTHER_PAGES = 120


def long_pdf(pages: int = PAGES) -> bytes:
    """Small text pages ("Trang n / 300"), so the test renders quickly yet has many pages."""
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        page = doc.new_page(width=200, height=120)
        page.insert_text((20, 60), f"Trang {n} / {pages}", fontsize=14)
    data = doc.tobytes()
    doc.close()
    return bytes(data)


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


async def upload(c: httpx.AsyncClient, d: Driver, data: bytes, key: str, upload_id: str) -> dict[str, Any]:
    files = {"file": ("bao-cao-dai.pdf", data, "application/pdf")}
    headers = {**d.h("secretary"), "Idempotency-Key": key}
    r = await c.post("/api/documents", files=files, data={"item": "1", "upload_id": upload_id}, headers=headers)
    return ok(r)["document"]


async def page(c: httpx.AsyncClient, d: Driver, doc: str, n: int, who: str = "d2") -> httpx.Response:
    r = await c.get(f"/api/documents/{doc}/pages/{n}", headers=d.h(who))
    assert r.status_code == 200, (n, r.text)
    image = Image.open(io.BytesIO(r.content))
    assert (r.headers["content-type"], image.format, image.width) == ("image/webp", "WEBP", 1280)
    return r


async def pending(c: httpx.AsyncClient, d: Driver, doc: str) -> int:
    return int(ok(await c.get(f"/api/documents/{doc}", headers=d.h("d2")))["document"]["pages_pending"])


async def until_ready(c: httpx.AsyncClient, d: Driver, doc: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while await pending(c, d, doc):
        assert time.monotonic() < deadline, "the background render did not finish"
        await asyncio.sleep(0.3)


async def test_long_upload_is_readable_before_it_is_rendered_and_after_restarts(tmp_path: Path) -> None:
    data = long_pdf()
    with pymupdf.open("pdf", data) as check:
        assert check.page_count == PAGES
    d = Driver(tmp_path)
    await d.setup(["Chủ tọa", "Đại biểu"])
    try:
        async with httpx.AsyncClient(base_url=d.server.base_url, timeout=120.0, trust_env=False) as c:
            doc = await upload(c, d, data, "long-1", "up-1")
            # The answer came with page 1 stored and the other pages still to come.
            assert (doc["pages"], doc["pages_pending"] > 0) == (PAGES, True)
            listed = ok(await c.get("/api/documents", headers=d.h("d2")))["documents"]
            assert [x["id"] for x in listed] == [doc["id"]]  # on the tablets already
            progress = ok(await c.get("/api/documents/uploads/up-1", headers=d.h("secretary")))
            assert (progress["status"], progress["document"], progress["total"]) == ("working", doc["id"], PAGES)
            assert 1 <= progress["done"] < PAGES
            first = await page(c, d, doc["id"], 1)
            last = await page(c, d, doc["id"], PAGES)  # made on demand, ahead of the background
            assert await pending(c, d, doc["id"]) > 0
            text = ok(await c.get(f"/api/documents/{doc['id']}/text?page={PAGES}", headers=d.h("d2")))
            assert text["text"] == f"Trang {PAGES} / {PAGES}"
            # A retry with the same Idempotency-Key is the same document, not a second one.
            again = await upload(c, d, data, "long-1", "up-1b")
            assert again["id"] == doc["id"]
            assert len(ok(await c.get("/api/documents", headers=d.h("secretary")))["documents"]) == 1

            await until_ready(c, d, doc["id"])
            # Every page is stored before the job is journalled as done: under load the last
            # page can be servable a moment before the secretary's bar says "done".
            deadline = time.monotonic() + 30
            while (progress := ok(await c.get("/api/documents/uploads/up-1", headers=d.h("secretary"))))["status"] == "working":
                assert time.monotonic() < deadline and progress["done"] == PAGES, progress
                await asyncio.sleep(0.2)
            assert (progress["status"], progress["done"], progress["total"], progress["error"]) == ("done", PAGES, PAGES, None)
            # The page made on demand was kept: its ETag (the immutable URL's identity) never changed.
            assert (await page(c, d, doc["id"], PAGES)).headers["etag"] == last.headers["etag"]
            tags = {n: (await page(c, d, doc["id"], n)).headers["etag"] for n in (2, 150, 299)}

            # A second, shorter upload, and a restart while its pages are being rendered.
            other = await upload(c, d, long_pdf(OTHER_PAGES), "long-2", "up-2")
            assert other["pages_pending"] > 0
        await d.server.restart(hard=False)
        async with httpx.AsyncClient(base_url=d.server.base_url, timeout=120.0, trust_env=False) as c:
            # The finished document is served from the journalled pages, byte for byte as before.
            assert await pending(c, d, doc["id"]) == 0
            assert (await page(c, d, doc["id"], 1)).content == first.content
            assert (await page(c, d, doc["id"], PAGES)).headers["etag"] == last.headers["etag"]
            assert {n: (await page(c, d, doc["id"], n)).headers["etag"] for n in tags} == tags
            # The interrupted one is readable: missing pages are made on demand, and the rest resumes.
            assert 0 < await pending(c, d, other["id"]) < OTHER_PAGES
            await page(c, d, other["id"], 1)
            tag_100 = (await page(c, d, other["id"], 100)).headers["etag"]
            await until_ready(c, d, other["id"])
        await d.server.restart(hard=False)
        async with httpx.AsyncClient(base_url=d.server.base_url, timeout=120.0, trust_env=False) as c:
            assert await pending(c, d, other["id"]) == 0
            assert (await page(c, d, other["id"], 100)).headers["etag"] == tag_100
            await page(c, d, other["id"], OTHER_PAGES)
    finally:
        await d.server.stop()
