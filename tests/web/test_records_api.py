"""Through the test client: which key seals each record, the clock at opening, byte ranges of page images."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from appliance.store import frames
from tests.web.conftest import Hall

DOCUMENT = Path(__file__).resolve().parents[2] / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"


def appliance_of(hall: Hall) -> Any:
    return hall.client.app.state.appliance


def key_ids(hall: Hall) -> list[str]:
    journal_dir = appliance_of(hall).settings.data_dir / "journal"
    out: list[str] = []
    for path in frames.list_segments(journal_dir):
        buf, off = path.read_bytes(), 0
        while off < len(buf):
            h = frames.read_header(buf, off)
            if h.is_record:
                out.append(h.key_id)
            off = h.end
    return out


def events_of(hall: Hall) -> list[dict[str, Any]]:
    return [e for _, r in appliance_of(hall).journal.records() for e in r.get("events", [])]


def test_sitting_records_use_the_sitting_key_and_the_registry_the_session_key(hall: Hall) -> None:
    before = len(key_ids(hall))
    hall.call("POST", "/api/sitting/open", "chair", json={"confirmed_wall": time.time()})
    hall.call("POST", "/api/attendance/check-in", "chair", json={})
    hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục thêm"})  # registry, while open
    hall.call("POST", "/api/sitting/close", "chair", json={})
    hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục sau"})
    assert key_ids(hall)[before:] == ["session", "sitting-s1", "session", "sitting-s1", "session"]
    assert all(k == "session" for k in key_ids(hall)[:before])


def test_a_clock_jump_at_opening_is_recorded_never_applied(hall: Hall) -> None:
    box = time.time()
    r = hall.call("POST", "/api/sitting/open", "chair", json={"confirmed_wall": box + 3600})
    assert r.status_code == 200
    jumps = [e for e in events_of(hall) if e["type"] == "clock_jump_noted"]
    assert len(jumps) == 1
    assert jumps[0]["sitting_id"] == "s1" and 3590 < jumps[0]["skew_s"] < 3610
    opened = next(e for e in events_of(hall) if e["type"] == "sitting_opened")
    assert abs(opened["at"] - box) < 60 and opened["confirmed_wall"] == box + 3600  # both readings kept
    assert abs(time.time() - box) < 60  # the box clock was not moved


def test_a_confirmed_time_within_five_minutes_records_no_jump(hall: Hall) -> None:
    hall.call("POST", "/api/sitting/open", "chair", json={"confirmed_wall": time.time() - 240})
    assert [e for e in events_of(hall) if e["type"] == "clock_jump_noted"] == []


def test_page_images_answer_byte_ranges(hall: Hall) -> None:
    r = hall.call(
        "POST", "/api/documents", "secretary",
        files={"file": (DOCUMENT.name, DOCUMENT.read_bytes(), "application/pdf")}, data={"item": "1"},
    )
    doc = r.json()["document"]["id"]
    url = f"/api/documents/{doc}/pages/1"
    whole = hall.call("GET", url, "delegate")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    body, etag, size = whole.content, whole.headers["etag"], len(whole.content)
    part = hall.call("GET", url, "delegate", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == body[100:200]
    tail = hall.call("GET", url, "delegate", headers={"Range": "bytes=-50"})
    assert (tail.status_code, tail.content) == (206, body[-50:])
    rest = hall.call("GET", url, "delegate", headers={"Range": f"bytes={size - 10}-"})
    assert rest.content == body[-10:] and rest.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
    stale = hall.call("GET", url, "delegate", headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, body)
    fresh = hall.call("GET", url, "delegate", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, body[:10])
    beyond = hall.call("GET", url, "delegate", headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.json()["code"] == "range_not_satisfiable"
    assert beyond.headers["content-range"] == f"bytes */{size}"
    cached = hall.call("GET", url, "delegate", headers={"If-None-Match": etag, "Range": "bytes=0-9"})
    assert cached.status_code == 304
