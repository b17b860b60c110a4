"""Page 1 first, the rest in the background: ``start_ingest``, ``PageRendering`` and the
``document_pages_ready`` rule that makes the background pages durable."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import pymupdf
import pytest

import appliance.meeting.rule_modules  # noqa: F401 - registers the document rules
from appliance.core.clock import Stamp
from appliance.core.errors import PhsError
from appliance.documents import PageRendering, shutdown_pool, start_ingest
from appliance.meeting.apply import apply
from appliance.meeting.decide import Command, decide
from appliance.meeting.doc_rules import DocumentPagesReady, pages_pending
from appliance.meeting.model import AgendaItem, DocumentMeta, SessionState
from appliance.meeting.roles import Actor


@pytest.fixture(scope="module", autouse=True)
def _pool() -> Iterator[None]:
    yield
    shutdown_pool()


def pdf_of(pages: int) -> bytes:
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        doc.new_page(width=200, height=120).insert_text((20, 60), f"Trang {n}")
    return bytes(doc.tobytes())


class Blobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()[:32]
        self.data[blob_id] = data
        return blob_id


async def test_start_ingest_returns_with_page_one_and_renders_the_rest() -> None:
    blobs = Blobs()
    steps: list[tuple[int, int]] = []
    record, rendering = await start_ingest(pdf_of(40), "dai.pdf", None, blobs.put, progress=lambda d, t: steps.append((d, t)))
    assert rendering is not None
    assert (record.page_count, record.pdf_blob in blobs.data, record.original_blob in blobs.data) == (40, True, True)
    tablet = record.page_blobs["tablet"]
    assert tablet[0] and tablet[0] in blobs.data
    assert steps[0] == (1, 40)
    done = await rendering.wait()
    assert done["tablet"][0] == tablet[0]
    assert [all(ids) for ids in done.values()] == [True, True]
    assert all(b in blobs.data for ids in done.values() for b in ids)
    assert (rendering.done, rendering.total, steps[-1]) == (40, 40, (40, 40))
    # The record is a copy: what was journalled at first does not change under it.
    assert record.page_blobs["tablet"] is not done["tablet"]


async def test_a_page_rendered_on_demand_is_kept_and_not_rendered_again() -> None:
    gate = asyncio.Event()
    calls: list[list[int]] = []

    async def run(fn: Any, pdf: bytes, chunk: list[int], widths: dict[str, int], fmt: str) -> Any:
        calls.append(list(chunk))
        await gate.wait()
        return [(i, {name: f"{name}-{i}".encode() for name in widths}) for i in chunk]

    blobs = Blobs()
    start = {"thumb": ["t0"] + [""] * 27, "tablet": ["p0"] + [""] * 27}
    rendering = PageRendering(b"%PDF", start, {"thumb": 240, "tablet": 1280}, "webp", blobs.put, run)
    for _ in range(5):  # let the render task start its jobs
        await asyncio.sleep(0)
    # One chunk per worker plus one queued; the fourth waits for a free place.
    assert calls == [list(range(1, 9)), list(range(9, 17)), list(range(17, 25))]
    rendering.provide("tablet", 26, "on-demand-tablet")
    rendering.provide("thumb", 26, "on-demand-thumb")
    rendering.provide("tablet", 0, "not-page-one")  # already stored: unchanged
    assert (rendering.page("tablet", 26), rendering.page("tablet", 25), rendering.done) == ("on-demand-tablet", "", 2)
    gate.set()
    done = await rendering.wait()
    assert calls[3:] == [[25, 27]]  # page 27 (index 26) was not rendered again
    assert (done["tablet"][26], done["thumb"][26], done["tablet"][0]) == ("on-demand-tablet", "on-demand-thumb", "p0")
    assert done["tablet"][5] == blobs.put(b"tablet-5")


async def test_one_page_document_has_nothing_left_to_render() -> None:
    record, rendering = await start_ingest(pdf_of(1), "mot.pdf", None, Blobs().put)
    assert rendering is None
    assert [len(ids) for ids in record.page_blobs.values()] == [1, 1]
    assert all(ids[0] for ids in record.page_blobs.values())


def _state(pages: int) -> SessionState:
    state = SessionState()
    state.agenda.append(AgendaItem(id="i_1", title="Mục 1", documents=["doc_1"]))
    blobs = {"thumb": ["t1"] + [""] * (pages - 1), "tablet": ["p1"] + [""] * (pages - 1)}
    state.documents["doc_1"] = DocumentMeta(id="doc_1", item_id="i_1", title="Dài", filename="dai.pdf", pages=pages, blobs=blobs)
    return state


SYSTEM = Actor("system", "system", frozenset({"document.manage"}))
NOW = Stamp(1.0, 1.0)


def test_pages_ready_fills_the_missing_pages_and_keeps_known_ones() -> None:
    state = _state(3)
    assert pages_pending(state.documents["doc_1"]) == 2
    given = {"thumb": ["x1", "t2", "t3"], "tablet": ["y1", "p2", "p3"]}
    events = decide(state, SYSTEM, Command("document_pages_ready", {"id": "doc_1", "page_blobs": given}), NOW)
    assert events == [DocumentPagesReady("doc_1", given)]
    apply(state, events[0], 1)
    doc = state.documents["doc_1"]
    assert doc.blobs == {"thumb": ["t1", "t2", "t3"], "tablet": ["p1", "p2", "p3"]}
    assert pages_pending(doc) == 0
    # Once every page is known, the same command again changes nothing.
    assert decide(state, SYSTEM, Command("document_pages_ready", {"id": "doc_1", "page_blobs": given}), NOW) == []


@pytest.mark.parametrize(
    ("page_blobs", "code"),
    [
        ({"tablet": ["a", "b"]}, "invalid"),  # not every page
        ({"tablet": ["a", "", "c"]}, "invalid"),  # an empty blob id
        ({"zoom": ["a", "b", "c"]}, "invalid"),  # a size not pre-rendered
        ({}, "invalid"),
    ],
)
def test_pages_ready_refuses_malformed_blobs(page_blobs: dict[str, list[str]], code: str) -> None:
    state = _state(3)
    with pytest.raises(PhsError) as caught:
        decide(state, SYSTEM, Command("document_pages_ready", {"id": "doc_1", "page_blobs": page_blobs}), NOW)
    assert caught.value.code == code
    with pytest.raises(PhsError) as caught:
        decide(state, SYSTEM, Command("document_pages_ready", {"id": "doc_x", "page_blobs": page_blobs}), NOW)
    assert caught.value.code == "not_found"


def test_pages_ready_needs_document_manage() -> None:
    delegate = Actor.for_role("p_1", "delegate")
    with pytest.raises(PhsError) as caught:
        decide(_state(2), delegate, Command("document_pages_ready", {"id": "doc_1", "page_blobs": {"tablet": ["a", "b"]}}), NOW)
    assert caught.value.code == "forbidden"
