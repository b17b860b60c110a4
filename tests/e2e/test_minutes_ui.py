"""The secretary's minutes screen and the technician's archive card, in real Chromium.

A ward council sits (real server, its own data directory), votes and closes. The
secretary edits the chair's conclusions and an absence reason on the screen,
downloads the draft in Word and PDF, finalises with a second tap and downloads the
frozen PDF with the box's signature. The server seals the archive for the archive's
key; one real ``phs sync`` round ships it to a loopback S3 server (moto) and reports the
receipt; the technician's page shows the archive, the receipt and when the key goes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import httpx
import pymupdf
import pytest

from appliance.archive.envelope import generate_archive_keys
from appliance.archive.signing import check_signature
from appliance.core.settings import Settings
from appliance.sync.rounds import sync_round
from tests.e2e.conftest import (
    DELEGATES,
    TABLET,
    Server,
    free_port,
    launch_server,
    pair_secretary,
    stop_server,
)
from tests.sync.conftest import S3Server, s3_server  # noqa: F401  (the loopback S3 fixture)

pytestmark = pytest.mark.e2e

CONCLUSIONS = "Chủ tọa kết luận: Hội đồng nhân dân phường thống nhất thông qua Nghị quyết về dự toán ngân sách năm 2026."
REASON = "Đi công tác theo Quyết định của Ủy ban nhân dân phường"
PLACE = "Hội trường Ủy ban nhân dân phường Ba Đình, Hà Nội"


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return dict(r.json())


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, dict[str, Any]]]:
    """A closed sitting (one public poll: 2 for, 1 against) on a server that seals archives."""
    tmp = tmp_path_factory.mktemp("phs-minutes-e2e")
    _, public = generate_archive_keys()
    port = free_port()
    before = os.environ.get("PHS_ARCHIVE_PUBLIC_KEY")
    os.environ["PHS_ARCHIVE_PUBLIC_KEY"] = public.hex()
    try:
        proc, log_path = launch_server(tmp, port)
    finally:
        if before is None:
            os.environ.pop("PHS_ARCHIVE_PUBLIC_KEY", None)
        else:
            os.environ["PHS_ARCHIVE_PUBLIC_KEY"] = before
    base = f"http://127.0.0.1:{port}"
    try:
        client, secretary_id = pair_secretary(base)
        srv = Server(base=base, secretary=client, secretary_id=secretary_id, log_path=log_path)
        _ok(client.post("/api/setup", json={"body": "HĐND phường Ba Đình", "session": "Kỳ họp thứ nhất",
                                            "sittings": ["Phiên họp thứ nhất"]}))
        staff = [{"name": "Hoàng Văn Kỹ", "role": "technician"}]
        rows = _ok(client.post("/api/participants", json={"participants": DELEGATES + staff}))["participants"]
        srv.participants = {p["name"]: p for p in rows}
        _ok(client.post("/api/agenda", json={"title": "Thông qua Nghị quyết về dự toán ngân sách phường năm 2026"}))
        tokens = {}
        for p in rows[:4]:
            code = _ok(client.post("/api/pairing-codes", json={"participant_id": p["id"]}))["code"]
            tokens[p["id"]] = _ok(httpx.post(f"{base}/api/pair", json={"code": code}))["token"]
        h = {pid: {"Authorization": f"Bearer {tok}"} for pid, tok in tokens.items()}
        chair, d2, d3, d4 = (p["id"] for p in rows[:4])
        _ok(httpx.post(f"{base}/api/sitting/open", json={}, headers=h[chair]))
        for pid in (chair, d2, d3):
            _ok(httpx.post(f"{base}/api/attendance/check-in", json={}, headers=h[pid]))
        poll = _ok(httpx.post(f"{base}/api/polls", headers=h[chair], json={
            "question": "Tán thành thông qua Nghị quyết về dự toán ngân sách?", "method": "public",
            "answers": ["for", "against", "abstain"], "rule": "more_than_half_of_total"}))["poll"]["id"]
        for pid, answer in ((chair, "for"), (d2, "for"), (d3, "against")):
            _ok(httpx.post(f"{base}/api/polls/{poll}/ballots", json={"answer": answer}, headers=h[pid]))
        _ok(httpx.post(f"{base}/api/polls/{poll}/close", json={}, headers=h[chair]))
        _ok(httpx.post(f"{base}/api/sitting/close", json={}, headers=h[chair]))
        result = _ok(httpx.get(f"{base}/api/polls/{poll}", headers=h[d2]))["poll"]["result"]
        yield srv, tmp / "data", result
        client.close()
    finally:
        stop_server(proc)


def _download(page: Any, testid: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    return Path(info.value.path()).read_bytes()


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.get_text() for p in pymupdf.open("pdf", data))


def test_secretary_edits_finalises_and_downloads_then_the_archive_ships(
    browser: Any, closed: tuple[Server, Path, dict[str, Any]], s3_server: S3Server, shots: Any  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.conftest import pair_page

    server, data, result = closed
    assert result["counts"] == {"for": 2, "against": 1, "abstain": 0, "not_voted": 1}
    page = pair_page(browser, server, server.secretary_id, TABLET, "secretary.html")
    card = page.get_by_test_id("after-sitting")
    expect(card).to_contain_text("Biên bản phiên họp")
    expect(page.get_by_test_id("minutes-finalise")).to_be_enabled()  # the sitting is closed
    page.get_by_test_id("minutes-place").fill(PLACE)
    page.get_by_test_id("minutes-conclusions").fill(CONCLUSIONS)
    page.locator("[data-lang-toggle]").click()  # English, and back: what was typed stays
    expect(card).to_contain_text("Minutes of the sitting")
    expect(page.get_by_test_id("minutes-conclusions")).to_have_value(CONCLUSIONS)
    page.locator("[data-lang-toggle]").click()
    expect(card).to_contain_text("Biên bản phiên họp")
    expect(page.get_by_test_id("minutes-place")).to_have_value(PLACE)
    page.get_by_test_id("minutes-save").click()
    expect(card).to_contain_text("Đã lưu kết luận.")
    absent = server.by_name(DELEGATES[3]["name"])
    page.get_by_test_id("absence-who").select_option(absent["id"])
    page.get_by_test_id("absence-reason").fill(REASON)
    page.get_by_test_id("absence-save").click()
    expect(page.get_by_test_id("absence-list")).to_have_text(f"{absent['name']}: {REASON}")

    # The draft in Word and PDF carries what was typed and the poll's exact figures.
    word = docx.Document(io.BytesIO(_download(page, "minutes-docx")))
    paragraphs = [p.text for p in word.paragraphs]
    rows = ["|".join(c.text for c in r.cells) for t in word.tables for r in t.rows]
    assert CONCLUSIONS in paragraphs and f"Địa điểm: {PLACE}." in paragraphs
    assert f"1|{absent['name']}|{REASON}" in rows
    assert {"Tán thành|2|50,0%", "Không tán thành|1|25,0%", "Không biểu quyết|0|0,0%", "Không tham gia biểu quyết|1|25,0%"} <= set(rows)
    names = [d["name"] for d in DELEGATES]
    assert [r for r in rows if r.endswith(("|Tán thành", "|Không tán thành", "|Không tham gia biểu quyết"))
            and r[0].isdigit()] == [f"1|{names[0]}|Tán thành", f"2|{names[1]}|Tán thành", f"3|{names[2]}|Không tán thành",
                                    f"4|{names[3]}|Không tham gia biểu quyết"]  # every delegate, by seat
    draft = _pdf_text(_download(page, "minutes-pdf"))
    assert CONCLUSIONS in " ".join(draft.split()) and "Tán thành\n2\n50,0%\n" in draft
    assert result["shares"]["for"] == 50 and result["passed"] is False  # 2 of all 4 is not more than half
    assert "Kết quả: KHÔNG THÔNG QUA." in draft
    shots(page, "minutes-secretary-draft", full_page=True)

    # Finalising takes a second tap; then the screen freezes and the signature is offered.
    final_btn = page.get_by_test_id("minutes-finalise")
    final_btn.click()
    expect(final_btn).to_have_text("Chạm lần nữa: sau khi hoàn thành không sửa được nữa")
    final_btn.click()
    expect(page.get_by_test_id("minutes-final")).to_contain_text("Biên bản đã hoàn thành lúc")
    expect(page.get_by_test_id("minutes-conclusions")).to_be_disabled()
    expect(final_btn).to_be_hidden()
    pdf = _download(page, "minutes-pdf")
    sig = _download(page, "minutes-sig")
    assert check_signature(pdf, sig) is None
    status = server.secretary.get(f"/api/minutes/{_sitting_id(server)}").json()
    assert status["final"]["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    expect(page.get_by_test_id("minutes-final")).to_contain_text(status["final"]["pdf_sha256"][:16])
    shots(page, "minutes-secretary-final", full_page=True)

    # The server sealed the archive; the technician sees it waiting, then one real sync round ships it.
    tech_p = server.by_name("Hoàng Văn Kỹ")
    tech = pair_page(browser, server, tech_p["id"], TABLET, "secretary.html")
    files = tech.get_by_test_id("archive-files")
    expect(files.locator("tr[data-state='waiting']")).to_have_count(1)
    expect(tech.get_by_test_id("archive-sittings")).to_contain_text("chờ biên nhận")
    expect(tech.get_by_test_id("archive-uplink")).to_have_text("Đường truyền ra ngoài: chương trình đồng bộ chưa chạy")
    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="hdnd-ba-dinh")
    settings = Settings(data_dir=data, s3_endpoint=s3_server.endpoint, s3_bucket="hdnd-ba-dinh",
                        s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key)
    summary = sync_round(settings)  # reports the receipt over the server's local socket
    assert (summary["shipped"], summary["reported"], summary["errors"]) == (1, 1, [])
    expect(files.locator("tr[data-state='reported']")).to_contain_text("100%", timeout=10_000)
    expect(files).to_contain_text("Đã có biên nhận")
    expect(tech.get_by_test_id("archive-sittings")).to_contain_text("S3")
    expect(tech.get_by_test_id("archive-sittings")).to_contain_text("lúc")  # when the data key goes
    shots(tech, "archive-technician", full_page=True)
    (obj,) = s3.list_objects_v2(Bucket="hdnd-ba-dinh")["Contents"]
    assert obj["Key"].startswith(f"phs/{_sitting_id(server)}/")


def _sitting_id(server: Server) -> str:
    return str(server.secretary.get("/api/state").json()["sittings"][0]["id"])
