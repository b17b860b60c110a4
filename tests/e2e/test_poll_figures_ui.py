"""The same poll's figures on the API, the chair's console, a delegate's tablet and the hall display.

Counts and percentages are computed once, in ``appliance/meeting`` (docs/CONTRACTS.md), and
every screen prints them unchanged. This test reads each result card in real Chromium —
every answer's count and share, the base, the verdict or the elected, the flags — and
checks that the three screens show the same text and that it is the API's figures as a
person would read them (Vietnamese: "66,7 %"). It plays the kinds the chair's console can
open: a public motion typed on the console, an election choosing up to two on a secret
ballot, a confidence assessment opened with one tap from the prepared polls of the item, a
paper count with an invalid ballot, and the annulment of a result with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    HALL,
    TABLET,
    Server,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e

BODY = [
    {"name": "Nguyễn Thị Thanh Hương", "role": "chair", "seat": 1, "title": "Chủ tịch HĐND xã"},
    {"name": "Trần Văn Bảo", "role": "delegate", "seat": 2},
    {"name": "Lê Thị Cúc", "role": "delegate", "seat": 3},
    {"name": "Phạm Văn Dũng", "role": "delegate", "seat": 4},
    {"name": "Hoàng Thị Én", "role": "delegate", "seat": 5},
    {"name": "Vũ Văn Phúc", "role": "delegate", "seat": 6},
]
CANDIDATES = ["Đỗ Minh Khoa", "Bùi Thị Lan", "Ngô Văn Mạnh"]
OFFICIALS = ["Chủ tịch UBND xã Đinh Văn Quang", "Phó Chủ tịch UBND xã Mai Thị Rạng"]

# Reads a result card the way a person reads it: one row per (candidate, answer).
READ_CARD = """card => {
  const txt = (sel, root = card) => root.querySelector(sel)?.textContent.trim() ?? null;
  const rows = [];
  for (const row of card.querySelectorAll('.result-row[data-answer]')) {
    const cand = row.closest('[data-candidate]');
    rows.push([cand ? cand.dataset.candidate : '', row.dataset.answer,
               txt('.result-count', row), txt('.result-share', row), txt('.result-label', row)]);
  }
  const flags = [...card.querySelectorAll('.flag')].map(f =>
    [f.closest('[data-candidate]')?.dataset.candidate ?? '', f.dataset.flag, f.textContent.trim()]);
  return {rows, flags, base: txt('[data-testid=result-base]'), verdict: txt('[data-testid=verdict]'),
          elected: txt('[data-testid=elected]'), turnout: txt('[data-testid=turnout]'),
          invalid: txt('[data-testid=invalid]'), annulled: txt('[data-testid=annulled]')};
}"""


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def vi_share(x: float) -> str:
    """A share as the screens print it in Vietnamese."""
    return f"{x:.1f}".replace(".", ",") + " %"


def api_rows(poll: dict[str, Any]) -> list[list[str]]:
    """(candidate, answer, count, share) from the API's Result, in the order the cards list them."""
    result = poll["result"]
    out: list[list[str]] = []

    def order(counts: dict[str, int]) -> list[str]:
        codes = list(poll["answers"]) + [k for k in counts if k not in poll["answers"] and k != "not_voted"]
        return codes + (["not_voted"] if "not_voted" in counts else [])

    if poll["candidates"]:
        for name, counts in result["counts"].items():
            out += [[name, c, str(counts[c]), vi_share(result["shares"][name][c])] for c in order(counts)]
    else:
        counts = result["counts"]
        out += [["", c, str(counts[c]), vi_share(result["shares"][c])] for c in order(counts)]
    return out


class Hall:
    """The server, the API tokens of every delegate, and the three screens."""

    def __init__(self, base: str, secretary: httpx.Client, people: dict[str, dict[str, Any]]) -> None:
        self.base, self.secretary, self.people = base, secretary, people
        self.tokens: dict[int, str] = {}

    def as_seat(self, seat: int) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.tokens[seat]}"}, timeout=30)

    def vote(self, seat: int, poll_id: str, **ballot: Any) -> None:
        with self.as_seat(seat) as c:
            r = c.post(f"/api/polls/{poll_id}/ballots", json=ballot)
            assert r.status_code == 200, r.text

    def poll(self, poll_id: str) -> dict[str, Any]:
        r = self.secretary.get(f"/api/polls/{poll_id}")
        assert r.status_code == 200, r.text
        return dict(r.json()["poll"])

    def newest(self) -> dict[str, Any]:
        return dict(self.secretary.get("/api/state").json()["polls"][-1])


def card_on(page: Any, where: str, poll_id: str) -> Any:
    return page.locator(f'{where} [data-testid=result-card][data-poll="{poll_id}"]')


def same_everywhere(hall: Hall, screens: dict[str, tuple[Any, str]], poll_id: str) -> dict[str, Any]:
    """Every screen's card for the poll, read whole; they must be equal and match the API."""
    expect = _expect()
    read: dict[str, Any] = {}
    for name, (page, where) in screens.items():
        card = card_on(page, where, poll_id)
        expect(card).to_be_visible(timeout=15000)
        read[name] = card.evaluate(READ_CARD)
    first = read["display"]
    for name, figures in read.items():
        assert figures == first, f"{name} differs from the hall display:\n{figures}\n{first}"
    poll = hall.poll(poll_id)
    assert [r[:4] for r in first["rows"]] == api_rows(poll)
    return first


def test_the_same_figures_on_api_console_tablet_and_hall_display(browser: Any, tmp_path: Path, shots: Any) -> None:
    expect = _expect()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, _log = launch_server(tmp_path, port)
    try:
        client, secretary_id = pair_secretary(base)
        assert client.post("/api/setup", json={"body": "HĐND xã Yên Thủy", "session": "Kỳ họp thứ ba",
                                               "sittings": ["Phiên họp thứ nhất"]}).status_code == 200
        rows = client.post("/api/participants", json={"participants": [*BODY, {"name": "Màn hình chính", "role": "display"}]})
        people = {p["name"]: p for p in rows.json()["participants"]}
        assert client.post("/api/agenda", json={"title": "Bầu bổ sung và lấy phiếu tín nhiệm"}).status_code == 200
        hall = Hall(base, client, people)
        for seat, p in enumerate(BODY, start=1):
            code = client.post("/api/pairing-codes", json={"participant_id": people[p["name"]]["id"]}).json()["code"]
            hall.tokens[seat] = httpx.post(f"{base}/api/pair", json={"code": code}).json()["token"]
        srv = Server(base=base, secretary=client, participants=people, secretary_id=secretary_id)

        display = pair_page(browser, srv, people["Màn hình chính"]["id"], HALL, "display.html")
        chair = pair_page(browser, srv, people[BODY[0]["name"]]["id"], TABLET, "chair.html")
        tablet = pair_page(browser, srv, people[BODY[1]["name"]]["id"], TABLET, "delegate.html")
        posted: list[str] = []
        tablet.on("request", lambda r: r.method == "POST" and posted.append(r.url))
        screens = {"display": (display, "#stage"), "chair": (chair, "#result-slot"), "tablet": (tablet, "#overlay")}

        # Before the sitting the secretary prepares a confidence assessment for item 1 and a
        # draft resolution voted article by article, on the secretary's screen.
        desk = pair_page(browser, srv, secretary_id, TABLET, "secretary.html")
        form = desk.get_by_test_id("polls-secretary").locator("#poll-form")
        form.locator("#poll-item").select_option("1")
        form.locator('input[name=kind][value="confidence"]').check()
        expect(form.locator('input[name=method][value="secret"]')).to_be_checked()
        form.locator("#poll-question").fill("Lấy phiếu tín nhiệm người giữ chức vụ do HĐND xã bầu")
        form.locator("#poll-candidates").fill("\n".join(OFFICIALS))
        form.get_by_test_id("open-poll").click()
        desk.locator("#series-title").fill("Nghị quyết về phí, lệ phí trên địa bàn xã")
        desk.locator("#series-articles").fill("Điều 1. Phạm vi điều chỉnh\nĐiều 2. Mức thu")
        desk.get_by_test_id("series-submit").click()
        expect(desk.get_by_test_id("polls-secretary").locator(".prepared-row")).to_have_count(4)
        listed = client.get("/api/polls/prepared").json()["prepared"]
        confidence_prep = next(p for p in listed if p["kind"] == "confidence")
        assert (confidence_prep["item"], confidence_prep["args"]["candidates"], confidence_prep["method"]) == (1, OFFICIALS, "secret")
        assert [p["question"] for p in listed if p["series"]] == [
            "Nghị quyết về phí, lệ phí trên địa bàn xã — Điều 1. Phạm vi điều chỉnh",
            "Nghị quyết về phí, lệ phí trên địa bàn xã — Điều 2. Mức thu",
            "Thông qua toàn văn Nghị quyết về phí, lệ phí trên địa bàn xã"]
        shots(desk, "figures-secretary-prepared", full_page=True)

        opener = chair.locator("#sitting-toggle")
        opener.click()
        opener.click()
        expect(chair.locator("#sitting-status")).to_have_text("Đang họp")
        chair.locator('button[data-item="1"]').click()
        expect(display.get_by_test_id("current-item")).to_have_text("Bầu bổ sung và lấy phiếu tín nhiệm")
        chair.locator("#check-in").click()
        tablet.locator("#check-in").click()
        for seat in (3, 4, 5, 6):
            with hall.as_seat(seat) as c:
                assert c.post("/api/attendance/check-in", json={}).status_code == 200
        expect(chair.get_by_test_id("present")).to_have_text("6")

        # 1. A public motion typed on the console: 4 for, 1 against, 1 not voted, of all 6.
        # It also adds an item to the agenda (bổ sung chương trình), applied once it passes.
        chair.locator("#poll-question").fill("Tán thành thông qua Nghị quyết về kế hoạch đầu tư công năm 2027?")
        chair.locator("#poll-amend").select_option("add")
        chair.locator("#poll-amend-title").fill("Chất vấn và trả lời chất vấn")
        chair.get_by_test_id("open-poll").click()
        expect(tablet.get_by_test_id("vote-question")).to_have_text("Tán thành thông qua Nghị quyết về kế hoạch đầu tư công năm 2027?")
        motion = hall.newest()["id"]
        tablet.locator('#overlay .vote-btn[data-answer="for"]').click()
        tablet.get_by_test_id("confirm-vote").click()
        expect(tablet.get_by_test_id("vote-done")).to_be_visible()
        chair.locator('#poll-card .vote-btn[data-answer="for"]').click()
        chair.get_by_test_id("confirm-vote").click()
        hall.vote(3, motion, answer="for")
        hall.vote(4, motion, answer="for")
        hall.vote(5, motion, answer="against")
        expect(display.get_by_test_id("poll-progress")).to_contain_text("Đã biểu quyết: 5/6")
        chair.get_by_test_id("close-poll").click()
        chair.get_by_test_id("close-poll").click()
        figures = same_everywhere(hall, screens, motion)
        assert figures["rows"] == [
            ["", "for", "4", "66,7 %", "Tán thành"], ["", "against", "1", "16,7 %", "Không tán thành"],
            ["", "abstain", "0", "0,0 %", "Không biểu quyết"], ["", "not_voted", "1", "16,7 %", "Không tham gia biểu quyết"]]
        assert (figures["base"], figures["verdict"], figures["turnout"]) == (
            "trên tổng số 6 đại biểu", "Thông qua", "Số đại biểu tham gia biểu quyết: 5")
        shots(display, "figures-motion-display")
        # Common hall TVs: the same card, scaled as a whole, fits with nothing cut off.
        for size in ({"width": 1366, "height": 768}, {"width": 1280, "height": 800}):
            display.set_viewport_size(size)
            for part in ("result-base", "verdict", "turnout"):
                box = display.locator("#stage").get_by_test_id(part).bounding_box()
                assert box is not None and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"], (size, part, box)
            base = display.locator("#stage").get_by_test_id("result-base").bounding_box()
            assert base is not None and base["height"] < 40, base  # one line, not a word per line
            shots(display, f"figures-motion-display-{size['width']}x{size['height']}")
        display.set_viewport_size(HALL)
        # Who voted how (a public vote): loaded when the chair opens the list.
        chair.locator("#result-slot .per-delegate-box summary").click()
        names = chair.locator("#result-slot [data-testid=per-delegate] li")
        expect(names).to_have_count(5)
        expect(names.filter(has_text="Hoàng Thị Én")).to_contain_text("Không tán thành")
        expect(names.filter(has_text="Trần Văn Bảo")).to_contain_text("Tán thành")
        expect(chair.locator("#agenda")).to_contain_text("Chất vấn và trả lời chất vấn")
        # The series waits for its order: only the first article can be opened yet.
        steps = [p["id"] for p in listed if p["series"]]
        expect(chair.locator(f'[data-prepared="{steps[0]}"]').get_by_test_id("open-prepared")).to_be_enabled()
        for later in steps[1:]:
            expect(chair.locator(f'[data-prepared="{later}"]').get_by_test_id("open-prepared")).to_be_disabled()
        chair.locator("#poll-amend").select_option("")
        tablet.get_by_role("button", name="Đóng").click()

        # 2. An election on the console: three candidates, choose up to two, secret by default.
        chair.locator('#poll-form input[name=kind][value="election"]').check()
        expect(chair.locator('#poll-form input[name=method][value="secret"]')).to_be_checked()
        chair.locator("#poll-question").fill("Bầu bổ sung Ủy viên Thường trực HĐND xã")
        chair.locator("#poll-candidates").fill("\n".join(CANDIDATES))
        chair.locator("#poll-choose").fill("2")
        shots(chair, "figures-chair-election-form", full_page=True)
        chair.get_by_test_id("open-poll").click()
        expect(tablet.get_by_test_id("chosen-count")).to_have_text("Đã chọn 0/2")
        election = hall.newest()["id"]
        ballot = tablet.locator("#overlay")
        ballot.locator(f'.vote-btn[data-candidate="{CANDIDATES[0]}"][data-answer="for"]').click()
        ballot.locator(f'.vote-btn[data-candidate="{CANDIDATES[1]}"][data-answer="for"]').click()
        expect(tablet.get_by_test_id("chosen-count")).to_have_text("Đã chọn 2/2")
        expect(ballot.locator(f'.vote-btn[data-candidate="{CANDIDATES[2]}"][data-answer="for"]')).to_be_disabled()
        shots(tablet, "figures-election-ballot")
        tablet.get_by_test_id("candidate-submit").click()
        tablet.get_by_test_id("confirm-vote").click()
        expect(tablet.get_by_test_id("vote-done")).to_be_visible()
        a, b, c = CANDIDATES
        hall.vote(1, election, answers={a: "for", c: "for"})
        hall.vote(3, election, answers={a: "for", b: "for"})
        hall.vote(4, election, answers={b: "for", c: "against"})
        hall.vote(5, election, answers={a: "for", b: "against", c: "for"})
        chair.get_by_test_id("close-poll").click()
        chair.get_by_test_id("close-poll").click()
        figures = same_everywhere(hall, screens, election)
        # a: 4 of 6 and b: 3 of 6 (not more than half); c: 2. Only a is elected.
        assert figures["elected"] == f"Trúng cử: {a}"
        assert [r[:4] for r in figures["rows"] if r[1] == "for"] == [
            [a, "for", "4", "66,7 %"], [b, "for", "3", "50,0 %"], [c, "for", "2", "33,3 %"]]
        shots(display, "figures-election-display")
        tablet.get_by_role("button", name="Đóng").click()

        # 3. The prepared confidence assessment, opened with one tap.
        row = chair.locator(f'[data-prepared="{confidence_prep["id"]}"]')
        expect(row).to_contain_text("Lấy phiếu tín nhiệm")
        row.get_by_test_id("open-prepared").click()
        expect(tablet.get_by_test_id("vote-question")).to_have_text("Lấy phiếu tín nhiệm người giữ chức vụ do HĐND xã bầu")
        confidence = hall.newest()["id"]
        shots(tablet, "figures-confidence-ballot")
        ballot.locator(f'.vote-btn[data-candidate="{OFFICIALS[0]}"][data-answer="low"]').click()
        ballot.locator(f'.vote-btn[data-candidate="{OFFICIALS[1]}"][data-answer="high"]').click()
        tablet.get_by_test_id("candidate-submit").click()
        tablet.get_by_test_id("confirm-vote").click()
        q, r_ = OFFICIALS
        for seat, first in ((1, "low"), (3, "low"), (4, "trust"), (5, "low")):
            hall.vote(seat, confidence, answers={q: first, r_: "trust"})
        chair.get_by_test_id("close-poll").click()
        chair.get_by_test_id("close-poll").click()
        figures = same_everywhere(hall, screens, confidence)
        # 4 of 6 rated "low": more than half, and two thirds exactly (NQ 96/2023/QH15).
        assert figures["flags"] == [[q, "more_than_half_low", "Quá nửa tín nhiệm thấp"],
                                    [q, "two_thirds_low", "Từ hai phần ba tín nhiệm thấp"]]
        shots(display, "figures-confidence-display")
        shots(chair, "figures-confidence-chair")
        tablet.get_by_role("button", name="Đóng").click()

        # 4. A paper ballot counted by hand and typed on the console, one ballot invalid.
        chair.locator('#poll-form input[name=kind][value="motion"]').check()
        chair.locator("#poll-question").fill("Thông qua danh sách tổ kiểm phiếu (phiếu giấy)")
        chair.locator("#poll-paper").check()
        box = chair.get_by_test_id("paper-box")
        for key, value in (("for", "3"), ("against", "1"), ("abstain", ""), ("__invalid", "1")):
            box.locator(f'input[data-key="{key}"]').fill(value)
        chair.get_by_test_id("paper-submit").click()  # a blank field is refused with the server's words
        expect(chair.locator(".toast-error").last).to_contain_text("abstain")
        box.locator('input[data-key="abstain"]').fill("0")
        chair.get_by_test_id("paper-submit").click()
        paper = None
        for _ in range(50):
            newest = hall.newest()
            if newest.get("source") == "paper":
                paper = newest["id"]
                break
            chair.wait_for_timeout(100)
        assert paper is not None
        figures = same_everywhere(hall, screens, paper)
        assert (figures["invalid"], figures["turnout"]) == ("Phiếu không hợp lệ: 1", "Số đại biểu tham gia biểu quyết: 5")
        assert [r[:4] for r in figures["rows"]] == [["", "for", "3", "50,0 %"], ["", "against", "1", "16,7 %"],
                                                    ["", "abstain", "0", "0,0 %"], ["", "not_voted", "1", "16,7 %"]]

        # 5. The chair annuls the paper result with a reason; every screen says so.
        chair.locator("#result-slot").get_by_test_id("annul-reason").fill("Nhập nhầm biên bản kiểm phiếu")
        chair.locator("#result-slot").get_by_test_id("annul").click()
        chair.locator("#result-slot").get_by_test_id("annul").click()
        expect(card_on(display, "#stage", paper).get_by_test_id("annulled")).to_have_text(
            "Đã hủy kết quả — lý do: Nhập nhầm biên bản kiểm phiếu")
        assert hall.poll(paper)["annul_reason"] == "Nhập nhầm biên bản kiểm phiếu"
        same_everywhere(hall, screens, paper)
        shots(chair, "figures-annulled-chair")
        # 6. A public motion with a 4-second countdown and live results: the server closes it.
        chair.locator('#poll-form input[name=kind][value="motion"]').check()
        chair.locator("#poll-question").fill("Tán thành kéo dài thời gian họp thêm 30 phút?")
        chair.locator("#poll-duration").fill("4")
        chair.locator("#poll-show-live").check()
        chair.get_by_test_id("open-poll").click()
        expect(display.get_by_test_id("poll-countdown")).to_have_text(re.compile(r"^Còn lại 00:0[1-4]$"))
        timed = hall.newest()["id"]
        tablet.locator('#overlay .vote-btn[data-answer="for"]').click()
        tablet.get_by_test_id("confirm-vote").click()
        expect(display.get_by_test_id("live-card").get_by_test_id("count-for")).to_have_text("1")
        shots(display, "figures-live-countdown-display")
        figures = same_everywhere(hall, screens, timed)  # closed by the server's timer, no tap
        assert (figures["rows"][0][:4], figures["verdict"]) == (["", "for", "1", "16,7 %"], "Không thông qua")

        # The tablet's ballots went on its open live socket, not as HTTP requests.
        assert [u for u in posted if "/ballots" in u] == []
        for page in (display, chair, tablet, desk):
            page.context.close()
    finally:
        stop_server(proc)
