"""The live WebSocket (``/api/live``) as every role and as a stranger.

The route × role test (test_permissions.py) walks the HTTP routes; the live channel is a
WebSocket, so it is checked here: an unpaired device is told ``not_paired`` and closed
with 4401; every paired role gets a snapshot with every section, each filled only with
what that role may see — documents by access level, groups and their messages by
membership, prepared polls for those who open or prepare them, the PIN count for the
secretary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from litestar.exceptions import WebSocketDisconnect

from appliance.meeting.views import section_names
from tests.web.conftest import ROLES, Hall
from tests.web.realserver import Driver

PDF = Path(__file__).resolve().parents[2] / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"
SECRET_MESSAGE = "Ý kiến kín của Tổ 1 về dự toán"
NOT_PAIRED = {
    "type": "error",
    "code": "not_paired",
    "message": "Thiết bị chưa được ghép nối. Hãy nhập mã ghép nối do thư ký cấp.",
    "message_en": "This device is not paired. Enter the pairing code the secretary gave you.",
}

# role -> (documents it reads, groups it sees with (id, messages shown), prepared polls, pins_set)
EXPECTED: dict[str, tuple[set[str], list[tuple[str, bool]], int, int | None]] = {
    "chair": ({"public", "delegates", "confidential"}, [("g1", True)], 1, None),
    "vice_chair": ({"public", "delegates", "confidential"}, [("g1", False)], 1, None),
    "delegate": ({"public", "delegates"}, [("g1", True)], 0, None),
    "secretary": ({"public", "delegates", "confidential"}, [("g1", False)], 1, 0),
    "technician": (set(), [], 0, None),
    "display": ({"public"}, [], 0, None),
    "guest": ({"public"}, [], 0, None),
}


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def furnished(hall: Hall) -> tuple[Hall, dict[str, str]]:
    """Three documents (public, delegates, confidential), group g1 (chair + delegate) with a
    message, and one prepared poll."""
    docs = {}
    for access in ("public", "delegates", "confidential"):
        made = ok(hall.call("POST", "/api/documents", "secretary", data={"item": "1", "access": access},
                            files={"file": (f"{access}.pdf", PDF.read_bytes(), "application/pdf")}))
        docs[made["document"]["id"]] = access
    body = {"mode": "manual", "item": 1, "groups": [
        {"name": "Tổ 1", "members": [hall.ids["delegate"], hall.ids["chair"]], "convener": hall.ids["delegate"]}]}
    ok(hall.call("POST", "/api/groups", "chair", json=body))
    ok(hall.call("POST", "/api/groups/g1/messages", "delegate", json={"text": SECRET_MESSAGE}))
    ok(hall.call("POST", "/api/polls/prepared", "secretary", json={"item": 1, "question": "Thông qua dự toán?"}))
    return hall, docs


def snapshot(hall: Hall, role: str) -> dict[str, Any]:
    hall.client.cookies.clear()  # the test client keeps the last pairing's cookie otherwise
    with hall.client.websocket_connect("/api/live", headers=hall.headers(role)) as ws:
        message = json.loads(ws.receive_text(timeout=5))
    assert message["type"] == "snapshot"
    return dict(message["state"])


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_a_snapshot_of_what_it_may_see(furnished: tuple[Hall, dict[str, str]], role: str) -> None:
    hall, docs = furnished
    state = snapshot(hall, role)
    readable, groups, prepared, pins_set = EXPECTED[role]
    assert set(state) == {"position", "me", *section_names()}
    assert state["me"]["role"] == role
    if role != "secretary":  # paired with the setup code, not from the participant list
        assert state["me"]["participant_id"] == hall.ids[role]
    assert {docs[d] for d in state["documents"]} == readable
    assert {docs[d] for d in state["agenda"][0]["documents"]} == readable
    assert [(g["id"], "messages" in g) for g in state["groups"]["groups"]] == groups
    for g in state["groups"]["groups"]:
        if "messages" in g:
            assert [m["text"] for m in g["messages"]] == [SECRET_MESSAGE]
    assert len(state["prepared"]) == prepared
    assert state["check_in_rules"]["pins_set"] == pins_set
    # Nothing withheld leaks anywhere else in the snapshot either.
    text = json.dumps(state, ensure_ascii=False)
    assert (SECRET_MESSAGE in text) == any(shown for _, shown in groups)
    for doc_id, access in docs.items():
        assert (doc_id in text) == (access in readable)
    assert ("Thông qua dự toán?" in text) == (prepared == 1)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Cookie": "phs_token=forged"}])
def test_an_unpaired_device_is_told_not_paired_and_closed(hall: Hall, headers: dict[str, str]) -> None:
    hall.client.cookies.clear()
    with pytest.raises(WebSocketDisconnect) as closed, hall.client.websocket_connect("/api/live", headers=headers) as ws:
        assert json.loads(ws.receive_text(timeout=5)) == NOT_PAIRED
        ws.receive_text(timeout=5)
    assert (closed.value.code, closed.value.detail) == (4401, "not_paired")


async def test_on_the_real_server_a_stranger_learns_not_paired_and_a_delegate_its_snapshot(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    try:
        await driver.setup(["Nguyễn Văn An", "Trần Thị Bình"])
        url = driver.server.base_url.replace("http://", "ws://") + "/api/live"
        async with websockets.connect(url) as stranger:
            assert json.loads(await stranger.recv()) == NOT_PAIRED
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await stranger.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "not_paired")
        async with websockets.connect(url, additional_headers=driver.h("d2")) as delegate:
            first = json.loads(await delegate.recv())
        assert (first["type"], first["state"]["me"]["participant_id"]) == ("snapshot", driver.ids["d2"])
    finally:
        await driver.server.stop()
