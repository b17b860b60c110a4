"""Group messages posted over the live WebSocket, on the real server: the HTTP route's rules, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.web.realserver import Driver

NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em"]
TEXT = "Tổ 1 đề nghị làm rõ nguồn vốn đối ứng."


async def _read(ws: Any, acks: int, quiet_s: float = 0.0) -> tuple[list[dict[str, Any]], list[str]]:
    """Read until ``acks`` acks arrived (then ``quiet_s`` more): the acks and every raw frame."""
    got: list[dict[str, Any]] = []
    frames: list[str] = []
    while len(got) < acks:
        raw = str(await asyncio.wait_for(ws.recv(), 10))
        frames.append(raw)
        message = json.loads(raw)
        if message.get("type") == "ack":
            got.append(message)
    while quiet_s:
        try:
            frames.append(str(await asyncio.wait_for(ws.recv(), quiet_s)))
        except TimeoutError:
            break
    return got, frames


async def _until(ws: Any, needle: str) -> list[str]:
    frames = []
    while not frames or needle not in frames[-1]:
        frames.append(str(await asyncio.wait_for(ws.recv(), 10)))
    return frames


def _post(gid: str, cid: str, text: str = TEXT) -> str:
    return json.dumps({"type": "post", "id": cid, "group_id": gid, "text": text}, ensure_ascii=False)


async def test_a_live_post_reaches_members_only_and_a_retry_counts_once(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"
    async with d.client() as c:
        made = (await c.post("/api/groups", headers=d.h("secretary"), json={"mode": "manual", "groups": [
            {"name": "Tổ 1", "members": [d.ids["d2"], d.ids["d3"]], "convener": d.ids["d2"]},
            {"name": "Tổ 2", "members": [d.ids["d4"], d.ids["d5"]]},
        ]})).json()
        g1 = made["groups"][0]["id"]
        async with connect(url, additional_headers=d.h("d2"), proxy=None) as writer, \
                connect(url, additional_headers=d.h("d3"), proxy=None) as member, \
                connect(url, additional_headers=d.h("d4"), proxy=None) as outsider, \
                connect(url, additional_headers=d.h("d1"), proxy=None) as chair:
            for ws in (writer, member, outsider, chair):
                await ws.recv()  # the snapshot
            # A tablet that lost the ack resends: three times on the socket, once by HTTP.
            for _ in range(3):
                await writer.send(_post(g1, "msg-1"))
            acks, _ = await _read(writer, 3)
            assert [(a["ok"], a["message_id"]) for a in acks] == [(True, f"{g1}-m1")] * 3
            assert len({a["position"] for a in acks}) == 1
            again = await c.post(f"/api/groups/{g1}/messages", json={"text": TEXT},
                                 headers={**d.h("d2"), "Idempotency-Key": "msg-1"})
            assert (again.status_code, again.json()["message"]["id"]) == (200, f"{g1}-m1")
            # The same id for another text is a conflict, as over HTTP.
            await writer.send(_post(g1, "msg-1", "Một ý kiến khác"))
            assert [a["code"] for a in (await _read(writer, 1))[0]] == ["conflict"]

            assert TEXT in "".join(await _until(member, TEXT))  # live, to the other member
            await writer.send(_post(g1, "msg-2", "Xong."))
            await _read(writer, 1)
            await _until(member, "Xong.")
            for ws in (outsider, chair):  # another group's delegate; the chair, by default
                _, frames = await _read(ws, 0, quiet_s=0.5)
                assert not any(TEXT in f or "Xong." in f for f in frames)
            listed = (await c.get(f"/api/groups/{g1}/messages", headers=d.h("d3"))).json()
            assert [m["text"] for m in listed["messages"]] == [TEXT, "Xong."]
    await d.server.stop()


async def test_a_live_post_is_refused_with_the_codes_of_http(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"
    async with d.client() as c:
        made = (await c.post("/api/groups", headers=d.h("secretary"), json={"mode": "manual", "groups": [
            {"name": "Tổ 1", "members": [d.ids["d2"], d.ids["d3"]]},
            {"name": "Tổ 2", "members": [d.ids["d4"]]},
        ]})).json()
        g1, g2 = (g["id"] for g in made["groups"])

        async def both(who: str, gid: str, cid: str, text: str = TEXT) -> tuple[str, str]:
            """The code of the same post by HTTP and on the socket (fresh ids for each)."""
            r = await c.post(f"/api/groups/{gid}/messages", json={"text": text},
                             headers={**d.h(who), "Idempotency-Key": f"http-{cid}"})
            async with connect(url, additional_headers=d.h(who), proxy=None) as ws:
                await ws.recv()
                await ws.send(_post(gid, f"live-{cid}", text))
                ack = (await _read(ws, 1))[0][0]
            return r.json().get("code", "ok") if r.status_code >= 400 else "ok", ack.get("code", "ok")

        assert await both("d4", g1, "a") == ("forbidden", "forbidden")  # a delegate of another group
        assert await both("secretary", g1, "b") == ("forbidden", "forbidden")  # no group.take_part
        assert await both("d2", "g99", "c") == ("not_found", "not_found")
        assert await both("d2", g1, "d", "   ") == ("invalid", "invalid")
        await c.post(f"/api/groups/{g2}/close", json={}, headers=d.h("secretary"))
        assert await both("d4", g2, "e") == ("group_closed", "group_closed")
        assert await both("d2", g1, "f") == ("ok", "ok")
        async with connect(url, additional_headers=d.h("d2"), proxy=None) as ws:  # no id: no idempotency, refused
            await ws.recv()
            await ws.send(json.dumps({"type": "post", "group_id": g1, "text": TEXT}))
            ack = (await _read(ws, 1))[0][0]
            assert (ack["ok"], ack["code"], ack["id"]) == (False, "invalid", None)
        assert (await c.get(f"/api/groups/{g2}/messages", headers=d.h("d4"))).json()["count"] == 0
        assert (await c.get(f"/api/groups/{g1}/messages", headers=d.h("d2"))).json()["count"] == 2
    await d.server.stop()
