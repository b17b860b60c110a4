"""The pool serves an urgent job (an upload's page 1, a page a reader waits for) before
background work queued earlier; decrypted pages are cached by bytes, least recent out;
``document_text_ready`` records a text layer extracted after the document was added."""

from __future__ import annotations

import asyncio

import pytest

import appliance.meeting.rule_modules  # noqa: F401 - registers the document rules
from appliance.core.clock import Stamp
from appliance.core.errors import PhsError
from appliance.documents.page_cache import PageCache
from appliance.documents.pipeline import BACKGROUND, URGENT, _Slots
from appliance.meeting.apply import apply
from appliance.meeting.decide import Command, decide
from appliance.meeting.doc_rules import TEXT_PENDING, DocumentTextReady, text_pending
from appliance.meeting.model import AgendaItem, DocumentMeta, SessionState
from appliance.meeting.roles import Actor

SYSTEM = Actor("system", "system", frozenset({"document.manage"}))
NOW = Stamp(1.0, 1.0)


async def test_an_urgent_job_overtakes_background_jobs_queued_before_it() -> None:
    slots = _Slots(2)
    started: list[str] = []
    release = asyncio.Event()

    async def job(name: str, priority: int) -> None:
        await slots.acquire(priority)
        started.append(name)
        try:
            await release.wait()
        finally:
            slots.release()

    tasks = [asyncio.ensure_future(job(f"chunk-{i}", BACKGROUND)) for i in range(4)]
    await asyncio.sleep(0)
    tasks.append(asyncio.ensure_future(job("page-1", URGENT)))
    for _ in range(3):
        await asyncio.sleep(0)
    assert started == ["chunk-0", "chunk-1"]  # one per worker; the rest wait here, not in the pool
    release.set()
    await asyncio.gather(*tasks)
    assert started == ["chunk-0", "chunk-1", "page-1", "chunk-2", "chunk-3"]


async def test_a_cancelled_waiter_gives_its_place_on() -> None:
    slots = _Slots(1)
    await slots.acquire(URGENT)
    waiter = asyncio.ensure_future(slots.acquire(BACKGROUND))
    await asyncio.sleep(0)
    waiter.cancel()
    slots.release()
    await asyncio.wait_for(slots.acquire(URGENT), 1.0)  # not lost to the cancelled waiter


def test_page_cache_is_bounded_by_bytes_and_reads_each_page_once() -> None:
    reads: list[str] = []
    pages = {"a": b"RIFF" + b"a" * 96, "b": b"\x89PNG" + b"b" * 96, "c": b"\xff\xd8" + b"c" * 98,
             "d": b"d" * 100, "e": b"e" * 100, "huge": b"x" * 101}

    def read(blob_id: str) -> bytes:
        reads.append(blob_id)
        return pages[blob_id]

    cache = PageCache(400)  # a page of more than 100 bytes is served, never kept
    assert cache.get("a", read) == (pages["a"], "image/webp")
    assert cache.get("b", read) == (pages["b"], "image/png")
    assert cache.get("c", read) == (pages["c"], "image/jpeg")
    cache.get("d", read)
    assert cache.get("a", read)[0] == pages["a"]  # from memory; "a" is now the most recent
    cache.get("e", read)  # 500 bytes > 400: the least recent ("b") goes
    assert (len(cache), cache.size) == (4, 400)
    cache.get("b", read)
    cache.get("huge", read)
    cache.get("huge", read)
    assert reads == ["a", "b", "c", "d", "e", "b", "huge", "huge"]
    assert cache.size <= 400
    off = PageCache(0)
    off.get("a", read)
    assert len(off) == 0


def _state() -> SessionState:
    state = SessionState()
    state.agenda.append(AgendaItem(id="i_1", title="Mục 1", documents=["doc_1"]))
    state.documents["doc_1"] = DocumentMeta(id="doc_1", item_id="i_1", title="Dài", filename="dai.pdf", pages=2, text_blob=TEXT_PENDING)
    return state


def test_text_ready_records_the_text_layer_once() -> None:
    state = _state()
    assert text_pending(state.documents["doc_1"]) is True
    events = decide(state, SYSTEM, Command("document_text_ready", {"id": "doc_1", "text_blob": "ab" * 16}), NOW)
    assert events == [DocumentTextReady("doc_1", "ab" * 16)]
    for e in events:
        apply(state, e, 1)
    doc = state.documents["doc_1"]
    assert (doc.text_blob, text_pending(doc)) == ("ab" * 16, False)
    # Known already: a second report changes nothing.
    assert decide(state, SYSTEM, Command("document_text_ready", {"id": "doc_1", "text_blob": "cd" * 16}), NOW) == []


def test_text_ready_for_a_scan_and_bad_arguments() -> None:
    state = _state()
    events = decide(state, SYSTEM, Command("document_text_ready", {"id": "doc_1", "text_blob": ""}), NOW)
    for e in events:
        apply(state, e, 1)
    assert (state.documents["doc_1"].text_blob, text_pending(state.documents["doc_1"])) == ("", False)
    for args in ({"id": "doc_1", "text_blob": TEXT_PENDING}, {"id": "doc_1", "text_blob": 7}, {"id": "doc_x", "text_blob": ""}):
        with pytest.raises(PhsError) as err:
            decide(_state(), SYSTEM, Command("document_text_ready", args), NOW)
        assert err.value.code in ("invalid", "not_found")
    delegate = Actor("p_1", "delegate", frozenset({"document.read"}))
    with pytest.raises(PhsError):
        decide(_state(), delegate, Command("document_text_ready", {"id": "doc_1", "text_blob": ""}), NOW)
