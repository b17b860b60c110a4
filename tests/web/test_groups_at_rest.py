"""The real server on a socket: a group's messages, notes and conclusions are sealed at rest
and survive a restart."""

from __future__ import annotations

from pathlib import Path

from tests.web.realserver import Driver

NAMES = [f"Đại biểu Thử Nhóm {chr(0x41 + i)}" for i in range(6)]
TEXTS = [
    "Tổ một đề nghị làm rõ nguồn vốn đối ứng",
    "Bổ sung tiến độ giải ngân quý ba năm sau",
    "Ghi chép chung của tổ trưởng về dự thảo",
    "Góp ý đoạn hai của ghi chép cần sửa lại",
    "Kết luận tổ một tán thành dự thảo nghị quyết",
]


async def test_group_texts_appear_in_no_file_of_the_data_directory(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    async with d.client() as c:
        r = await c.post("/api/groups", headers=d.h("secretary"), json={"mode": "manual", "groups": [
            {"name": "Tổ thử nghiệm một", "members": [d.ids["d2"], d.ids["d3"]], "convener": d.ids["d2"]},
            {"name": "Tổ thử nghiệm hai", "members": [d.ids["d4"], d.ids["d5"]]},
        ]})
        assert r.status_code == 200, r.text
        gid = r.json()["groups"][0]["id"]
        for who, text in (("d2", TEXTS[0]), ("d3", TEXTS[1])):
            r = await c.post(f"/api/groups/{gid}/messages", json={"text": text}, headers=d.h(who))
            assert r.status_code == 200, r.text
        assert (await c.post(f"/api/groups/{gid}/notes", json={"text": TEXTS[2]}, headers=d.h("d2"))).status_code == 200
        assert (await c.post(f"/api/groups/{gid}/comments", json={"text": TEXTS[3]}, headers=d.h("d3"))).status_code == 200
        assert (await c.post(f"/api/groups/{gid}/conclusions", json={"text": TEXTS[4]}, headers=d.h("d2"))).status_code == 200
    await d.server.stop()
    needles = {t.encode() for t in TEXTS} | {t.encode("utf-16-le") for t in TEXTS} | {"Tổ thử nghiệm".encode()}
    files = [p for p in d.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        blob = path.read_bytes()
        assert not [n for n in needles if n in blob], path.relative_to(d.data_dir)
    logs = b"".join(p.read_bytes() for p in (tmp_path / "logs").rglob("*") if p.is_file())
    assert not [n for n in needles if n in logs], "a log line carries a group's text"
    await d.server.start()  # replayed from the sealed journal
    async with d.client() as c:
        r = await c.get(f"/api/groups/{gid}/messages", headers=d.h("d3"))
        assert [m["text"] for m in r.json()["messages"]] == TEXTS[:2]
        listed = (await c.get("/api/group-conclusions", headers=d.h("secretary"))).json()["conclusions"]
        assert listed[0]["conclusions"] == TEXTS[4]
    await d.server.stop()
