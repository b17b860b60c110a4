"""Poll results in the minutes: the Result's own figures, and every kind's outcome in words."""

from __future__ import annotations

from appliance.archive.minutes_content import _poll
from tests.meeting.conftest import Sitting


def _outcome_line(s: Sitting, poll_id: str) -> str:
    blocks = _poll(s.state, s.state.polls[poll_id], 1)
    return next(b.text for b in blocks if b.text.startswith("Kết quả: "))


def test_a_single_vote_of_confidence_prints_its_flag_in_words_nq96() -> None:
    """NQ 96/2023/QH15: more than half "không tín nhiệm" of all delegates is stated in the minutes."""
    s = Sitting(30)
    s.open_with(25)
    s.run("d1", "open_poll", poll_id="v", question="Bỏ phiếu tín nhiệm Chủ tịch UBND", method="secret",
          kind="confidence_vote", answers=["trust", "no_trust"])
    for i in range(1, 17):
        s.run(f"d{i}", "vote", poll_id="v", answer="no_trust")
    s.run("d1", "close_poll", poll_id="v")
    assert s.state.polls["v"].result["flags"] == ["more_than_half_no_trust"]
    assert _outcome_line(s, "v") == "Kết quả: quá nửa tổng số đại biểu bỏ phiếu không tín nhiệm."


def test_confidence_assessment_flags_per_official_and_figures_as_the_result_nq96() -> None:
    s = Sitting(30)
    s.open_with(25)
    s.run("d1", "open_poll", poll_id="c", question="Lấy phiếu tín nhiệm", method="secret", kind="confidence",
          candidates=["Ông A", "Bà B"])
    for i in range(1, 21):
        s.run(f"d{i}", "vote", poll_id="c", answers={"Ông A": "low", "Bà B": "high"})
    s.run("d1", "close_poll", poll_id="c")
    assert _outcome_line(s, "c") == (
        "Kết quả: Ông A: quá nửa tổng số đại biểu đánh giá tín nhiệm thấp, "
        "từ hai phần ba tổng số đại biểu trở lên đánh giá tín nhiệm thấp.")
    table = next(b for b in _poll(s.state, s.state.polls["c"], 1) if b.kind == "table" and b.header[0] == "Ông A")
    result = s.state.polls["c"].result
    assert [row[1:] for row in table.rows] == [
        [str(result["counts"]["Ông A"][a]), f"{result['shares']['Ông A'][a]}".replace(".", ",") + "%"]
        for a in ("high", "trust", "low", "not_voted")]
    assert [row[1] for row in table.rows] == ["0", "0", "20", "10"]
