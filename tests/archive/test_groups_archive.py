"""Discussion groups in the sealed archive: the messages travel only inside the envelope
(no byte of them in the archive file), the archive key opens them with the record, and the
group's conclusions are in the minutes."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path

import pymupdf

from appliance.archive import envelope
from appliance.archive.cli import main as archive_main
from appliance.archive.envelope import generate_archive_keys
from tests.web.realserver import Driver

NAMES = ["Nguyễn Văn Chủ", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hương"]
MESSAGES = ["Tổ đề nghị làm rõ nguồn vốn đối ứng của phường", "Đồng ý, bổ sung số liệu giải ngân quý ba"]
CONCLUSION = "Tổ thống nhất dự thảo, đề nghị bổ sung lộ trình giải ngân."


async def _sitting(d: Driver) -> str:
    await d.setup(NAMES)
    async with d.client() as c:
        chair, sec = d.h("d1"), d.h("secretary")
        await c.post("/api/sitting/open", json={}, headers=chair)
        for i in range(1, 5):
            await c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}"))
        await c.post("/api/agenda/current", json={"item": 1}, headers=chair)
        made = await c.post("/api/groups", headers=chair, json={"mode": "manual", "item": 1, "groups": [
            {"name": "Tổ đại biểu số 1", "members": [d.ids["d2"], d.ids["d3"]], "convener": d.ids["d2"]}]})
        gid = made.json()["groups"][0]["id"]
        for who, text in zip(("d2", "d3"), MESSAGES, strict=True):
            assert (await c.post(f"/api/groups/{gid}/messages", json={"text": text}, headers=d.h(who))).status_code == 200
        assert (await c.post(f"/api/groups/{gid}/conclusions", json={"text": CONCLUSION}, headers=d.h("d2"))).status_code == 200
        sid = str((await c.get("/api/state", headers=sec)).json()["sitting"]["id"])
        await c.post("/api/sitting/close", json={}, headers=chair)
        finalised = await c.post(f"/api/minutes/{sid}/finalise", headers=sec)
        assert finalised.status_code == 200, finalised.text
    await d.server.stop()
    return sid


def test_group_messages_are_sealed_in_the_archive_and_conclusions_reach_the_minutes(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    sid = asyncio.run(_sitting(d))
    private, public = generate_archive_keys()
    key_file = tmp_path / "archive.key"
    key_file.write_text(private.hex())
    out = tmp_path / "sitting.phsa"
    assert archive_main(["build", sid, "--data", str(d.data_dir), "--keys", str(d.server.keys_dir),
                         "--out", str(out), "--recipient", public.hex()]) == 0
    sealed = out.read_bytes()
    for text in (*MESSAGES, CONCLUSION):
        assert text.encode() not in sealed and text.encode("utf-16-le") not in sealed
    plain = b"".join(envelope.decrypt(out, envelope.load_private(key_file)))
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        records = tar.extractfile("journal/records.jsonl").read().decode()  # type: ignore[union-attr]
        minutes_pdf = tar.extractfile("minutes/minutes.pdf").read()  # type: ignore[union-attr]
    posted = [json.loads(line) for line in records.splitlines() if "group_message_posted" in line]
    assert [r for r in records.splitlines() if MESSAGES[0] in r]  # the record keeps the discussion
    assert len(posted) == 2
    with pymupdf.open(stream=minutes_pdf, filetype="pdf") as pdf:
        text = " ".join(" ".join(page.get_text().split()) for page in pdf)
    assert f"Kết luận của Tổ đại biểu số 1: {CONCLUSION}" in text
    assert MESSAGES[0] not in text  # the minutes carry the conclusions, not the talk
