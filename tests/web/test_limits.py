"""Limits against a hostile or broken device: body size, live connections per device and
per address, live message rate, a stalled reader (its queue bounded, then one resync), and
the security headers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance.meeting.roles import Actor
from appliance.web.limits import BURST, PER_DEVICE, STRIKES, Bucket, ConnectionLimits
from appliance.web.live import QUEUE_LIMIT
from tests.web.conftest import Hall

WEB_UI = Path(__file__).resolve().parents[2] / "web_ui"


def position(hall: Hall) -> int:
    return int(hall.call("GET", "/api/state", "secretary").json()["position"])


def test_a_body_over_one_megabyte_is_refused_and_changes_nothing(hall: Hall) -> None:
    before = position(hall)
    title = "Mục " + "x" * (1024 * 1024)
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": title})
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert position(hall) == before


def test_the_upload_routes_declare_their_own_ceiling() -> None:
    from appliance.web.controllers.documents import MAX_UPLOAD, upload_document

    assert upload_document.request_max_body_size == MAX_UPLOAD == 200 * 1024 * 1024


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = Bucket(rate=10.0, burst=30.0, tokens=30.0, stamp=0.0)
    assert [bucket.allow(0.0) for _ in range(31)].count(True) == 30
    assert bucket.strikes == 1
    assert bucket.allow(0.05) is False  # half a token
    assert bucket.allow(0.1) is True  # one token after 0.1 s


def test_connection_limits_per_device_and_per_address() -> None:
    limits = ConnectionLimits(per_device=2, per_address=3)
    assert [limits.admit("d1", "10.0.0.5"), limits.admit("d1", "10.0.0.5"), limits.admit("d1", "10.0.0.5")] == [None, None, "device"]
    assert limits.admit("d2", "10.0.0.5") is None
    assert limits.admit("d3", "10.0.0.5") == "address"
    assert limits.admit("d3", "127.0.0.1") is None  # the box's own services are trusted
    limits.release("d1", "10.0.0.5")
    assert limits.admit("d3", "10.0.0.5") is None
    for d, a in (("d1", "10.0.0.5"), ("d2", "10.0.0.5"), ("d3", "10.0.0.5"), ("d3", "127.0.0.1")):
        limits.release(d, a)
    assert (dict(limits.devices), dict(limits.addresses)) == ({}, {})


def test_one_device_cannot_hold_more_than_its_live_connections(hall: Hall) -> None:
    headers = hall.headers("delegate")
    opened: list[Any] = []
    try:
        for _ in range(PER_DEVICE):
            ws = hall.client.websocket_connect("/api/live", headers=headers).__enter__()
            assert ws.receive_json()["type"] == "snapshot"
            opened.append(ws)
        with hall.client.websocket_connect("/api/live", headers=headers) as extra:
            assert extra.receive_json() == {"type": "error", "code": "too_many_connections", "limit": "device"}
        # Another device is not affected.
        with hall.client.websocket_connect("/api/live", headers=hall.headers("chair")) as other:
            assert other.receive_json()["type"] == "snapshot"
    finally:
        for ws in opened:
            ws.__exit__(None, None, None)
    limits = hall.client.app.state.live_limits
    for _ in range(100):  # each handler gives its slot back when it has finished closing
        if sum(limits.devices.values()) == 0:
            break
        time.sleep(0.02)
    assert dict(limits.devices) == {}
    with hall.client.websocket_connect("/api/live", headers=headers) as again:  # slots came back
        assert again.receive_json()["type"] == "snapshot"


def test_a_flooding_device_is_refused_then_cut_off(hall: Hall) -> None:
    from litestar.exceptions import WebSocketDisconnect

    with hall.client.websocket_connect("/api/live", headers=hall.headers("delegate")) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        for _ in range(int(BURST) + STRIKES + 5):
            ws.send_text('{"type": "ping"}')
        replies: list[str] = []
        with pytest.raises(WebSocketDisconnect) as cut:
            while True:
                replies.append(ws.receive_json().get("code") or "pong")
        assert cut.value.code == 1008
        assert replies.count("pong") >= int(BURST)
        assert replies.count("rate_limited") == STRIKES - 1


def test_a_stalled_reader_is_bounded_then_resynced_at_the_current_position(hall: Hall) -> None:
    """A device that stops reading holds at most QUEUE_LIMIT messages, then one marker that
    becomes a snapshot of the state when it reads again; a display keeps every update."""
    hub = hall.client.app.state.appliance.hub
    delegate = hall.ids["delegate"]
    hall.call("POST", "/api/sitting/open", "chair", json={})
    stalled = hub.connect(Actor.for_role(delegate, "delegate"), "stalled-tablet")
    first = json.loads(stalled.queue.get_nowait())  # it read its snapshot, then stopped reading
    assert (first["type"], first["position"]) == ("snapshot", position(hall))
    sizes: list[int] = []
    with hall.client.websocket_connect("/api/live", headers=hall.headers("display")) as display:
        assert display.receive_json()["type"] == "snapshot"
        for n in range(QUEUE_LIMIT + 20):
            if n % 2 == 0:
                hall.call("POST", "/api/floor/grant", "chair", json={"to": delegate})
            else:
                hall.call("POST", "/api/floor/end", "chair", json={})
            update = display.receive_json()  # the display is not held back by the stalled tablet
            assert (update["type"], update["position"]) == ("update", position(hall))
            speaking = [s["participant_id"] for s in update["changed"]["floor"]["speaking"]]
            assert speaking == ([delegate] if n % 2 == 0 else [])
            sizes.append(stalled.queue.qsize())
        # Grows one message an event up to the limit, then holds one resync marker, however long it stalls.
        assert sizes == [*range(1, QUEUE_LIMIT + 1), *[1] * 20]
        assert stalled.queue.stale is True
        again = json.loads(stalled.queue.get_nowait())  # it reads again
        assert (again["type"], again["position"]) == ("snapshot", position(hall))
        assert again["state"]["floor"]["speaking"] == []  # the 276th event (an end) is in it
        assert (stalled.queue.qsize(), stalled.queue.stale) == (0, False)
        hall.call("POST", "/api/floor/grant", "chair", json={"to": delegate})  # and updates flow again
        resumed = json.loads(stalled.queue.get_nowait())
        assert (resumed["type"], resumed["position"], list(resumed["changed"])) == ("update", position(hall), ["floor"])
        assert display.receive_json()["position"] == position(hall)
    hub.disconnect(stalled)


def test_security_headers_on_pages_and_api(hall: Hall) -> None:
    for path in ("/ui/", "/api/health"):
        r = hall.client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in r.headers  # plain HTTP: browsers ignore it


def test_hsts_over_https(tmp_path: Path) -> None:
    from appliance.core.settings import Settings
    from appliance.web.app import create_app

    settings = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    with TestClient(create_app(settings), base_url="https://testserver.local") as client:
        r = client.get("/api/health")
        assert r.status_code == 200
        assert r.headers["strict-transport-security"] == "max-age=31536000"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("page", sorted(p.name for p in WEB_UI.glob("*.html")))
def test_pages_carry_no_inline_script(page: str) -> None:
    """The CSP allows no inline script, so a page that had one would break, not run it."""
    html = (WEB_UI / page).read_text(encoding="utf-8")
    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_HANDLER.findall(html) == []
    assert "javascript:" not in html.lower()
