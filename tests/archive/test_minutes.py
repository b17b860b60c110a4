"""Minutes from the journal: every poll's exact figures, speakers in order, diacritics intact."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import docx
import pymupdf
import pytest

from appliance.archive.cli import main as archive_main
from appliance.archive.minutes_content import pct
from appliance.archive.replay import read_rows, replay
from appliance.archive.signing import check_signature
from appliance.store.keys import Keyring
from tests.archive.conftest import GROUP_CONCLUSION, Finalised

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "minutes" / "sitting-with-minutes.yaml"
CORPUS = ROOT.parent / "shared" / "corpus"
MOTTO = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BIÊN BẢN"]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.get_text() for page in pymupdf.open("pdf", data))


def docx_rows(data: bytes) -> tuple[str, list[str]]:
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    rows = ["|".join(c.text for c in row.cells) for t in document.tables for row in t.rows]
    return text, rows


def figures(result: dict, labels: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, count, share) rows exactly as the Result holds them."""
    name = {**labels, "not_voted": "Không tham gia biểu quyết"}
    return [(name[a], str(n), pct(result["shares"][a])) for a, n in result["counts"].items()]


@pytest.fixture(scope="module")
def scenario_minutes(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, Path, Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    root = tmp_path_factory.mktemp("scenario")
    data = root / "data"
    run = subprocess.run([sys.executable, "-m", "appliance.cli", "scenario", "run", str(SCENARIO), "--data", str(data)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    keys = data.with_name("data-keys")
    ring = Keyring.open(keys, data, create=False)
    sitting = replay(read_rows(data / "journal", ring.existing_key)).state.sittings[0].id
    out = root / "minutes"
    assert archive_main(["minutes", sitting, "--data", str(data), "--keys", str(keys), "--out", str(out)]) == 0
    return (out / "minutes.pdf").read_bytes(), (out / "minutes.docx").read_bytes(), data, keys


def test_scenario_minutes_carry_every_poll_exactly(scenario_minutes: tuple[bytes, bytes, Path, Path]) -> None:
    pdf, docx_bytes, data, keys = scenario_minutes
    state = replay(read_rows(data / "journal", Keyring.open(keys, data, create=False).existing_key)).state
    text = pdf_text(pdf)
    dtext, drows = docx_rows(docx_bytes)
    polls = sorted(state.polls.values(), key=lambda p: p.opened_at)
    assert [p.result["counts"] for p in polls if p.result] == [
        {"for": 7, "against": 2, "abstain": 1, "not_voted": 2},
        {"for": 6, "against": 4, "not_voted": 2},
    ]
    for poll in polls:
        assert poll.result is not None
        for label, count, share in figures(poll.result, state.labels):
            assert f"{label}\n{count}\n{share}\n" in text
            assert f"{label}|{count}|{share}" in drows
    assert "Kết quả: THÔNG QUA." in text and "Kết quả: KHÔNG THÔNG QUA." in text
    delegates = state.delegates()
    roll = [r for r in drows if r.split("|")[0].isdigit() and r.endswith(("|Tán thành", "|Không tán thành",
                                                                           "|Không biểu quyết", "|Không tham gia biểu quyết"))]
    assert [r.split("|")[1] for r in roll] == [p.name for p in delegates]  # the public roll names every delegate, by seat
    assert roll[10:] == [f"11|{delegates[10].name}|Không tham gia biểu quyết", f"12|{delegates[11].name}|Không tham gia biểu quyết"]
    public_block = text.split("Biểu quyết 2:")[0]
    assert "Lựa chọn" in public_block and "Lựa chọn" not in text.split("Biểu quyết 2:")[1]  # no names for secret


def test_scenario_minutes_list_speakers_in_order_with_diacritics(scenario_minutes: tuple[bytes, bytes, Path, Path]) -> None:
    pdf, docx_bytes, data, keys = scenario_minutes
    state = replay(read_rows(data / "journal", Keyring.open(keys, data, create=False).existing_key)).state
    text = pdf_text(pdf)
    dtext, drows = docx_rows(docx_bytes)
    delegates = state.delegates()
    expected = [delegates[4].name, delegates[2].name, delegates[8].name]  # delegates 5, 3 then 9
    assert [state.participants[s.participant_id].name for s in state.floor.speeches] == expected
    speaker_rows = [r for r in drows if r.startswith(("1|", "2|", "3|")) and "Phát biểu" in r]
    assert [r.split("|")[1] for r in speaker_rows] == expected
    section = text.split("III. NỘI DUNG PHIÊN HỌP")[1]
    positions = [section.index(name) for name in expected]
    assert positions == sorted(positions)
    assert "00:01" in section  # delegate 5 spoke 1.2 s: mm:ss
    for words in [*MOTTO, "PHƯỜNG ĐIỆN BIÊN PHỦ", "Thông qua Nghị quyết về kế hoạch đầu tư công năm 2026"]:
        assert words in text
        assert words in dtext + "\n".join(drows)
    assert "Tài liệu: Nghị quyết" in text  # the corpus document under its item
    guests = [p.name for p in state.participants.values() if p.role == "guest"]
    assert len(guests) == 1 and f"1\n{guests[0]}\n" in text.split("Đại biểu vắng mặt")[1]  # the guests' table
    assert f"{delegates[11].name}\nKhông có lý do được ghi nhận" in text  # delegate 12 never came


def test_minutes_figures_equal_the_api(finalised: Finalised) -> None:
    text = pdf_text(finalised.answers["final_pdf"])
    labels = {"for": "Tán thành", "against": "Không tán thành", "abstain": "Không biểu quyết"}
    for poll in finalised.polls.values():
        for label, count, share in figures(poll["result"], labels):
            assert f"{label}\n{count}\n{share}\n" in text
    assert finalised.polls["public"]["result"]["counts"] == {"for": 3, "against": 1, "abstain": 1, "not_voted": 1}
    assert "Nguyễn Văn Chủ" in text.split("Lựa chọn")[1]  # the public poll's per-delegate list
    assert "Chủ tọa kết luận: thống nhất thông qua." in text
    assert finalised.answers["group_conclusion"] == 200
    assert f"Kết luận của Tổ đại biểu số 1: {GROUP_CONCLUSION}" in " ".join(text.split())  # under item 1
    absent = text.split("Đại biểu vắng mặt")[1]
    assert "Đỗ Ngọc Lan\nĐi công tác tại Sở Nội vụ" in absent  # the reason the secretary recorded
    assert "Tổng số đại biểu: 6; có mặt: 5; vắng mặt: 1." in text


def test_absence_reasons_only_by_the_secretary_and_only_for_delegates(finalised: Finalised) -> None:
    a = finalised.answers
    assert (a["absence"], a["absence_unknown"], a["absence_delegate"]) == (200, "not_found", 403)
    assert list(a["status"]["absences"].values()) == ["Đi công tác tại Sở Nội vụ"]


def test_finalising_freezes_the_minutes_in_the_journal(finalised: Finalised) -> None:
    a = finalised.answers
    assert a["draft_delegate"] == 403 and a["draft_chair"] == 200 and a["conclusions"] == 200
    assert a["finalise_open"]["code"] == "conflict"  # not while the sitting is open
    assert a["finalise"]["pdf_sha256"] == hashlib.sha256(a["final_pdf"]).hexdigest()
    assert a["after_final"] == "conflict"
    assert (a["finalise_twice"], a["sig_before"], a["bad_format"], a["unknown_sitting"]) == (
        "conflict", "not_found", "not_found", "not_found")
    assert a["final_docx"][:2] == b"PK"
    sig = json.loads(a["final_sig"])
    assert sig["pdf_sha256"] == a["finalise"]["pdf_sha256"] == a["status"]["final"]["pdf_sha256"]
    assert check_signature(a["final_pdf"], a["final_sig"]) is None
    changed = bytearray(a["final_pdf"])
    changed[len(changed) // 2] ^= 0x01
    assert check_signature(bytes(changed), a["final_sig"]) == "minutes.pdf does not match the hash its signature names"


def test_minutes_pdf_embeds_a_font_with_vietnamese_glyphs(finalised: Finalised) -> None:
    doc = pymupdf.open("pdf", finalised.answers["final_pdf"])
    fonts = {f[3].split("+")[-1]: len(doc.extract_font(f[0])[3]) for page in doc for f in page.get_fonts()}
    assert {"Charis SIL Regular", "Charis SIL Bold"} <= set(fonts)  # full Vietnamese coverage, as MuPDF ships it
    assert all(size > 0 for size in fonts.values()), fonts  # every font embedded (a subset), none left to the reader
    assert "Đỗ Ngọc Lan" in pdf_text(finalised.answers["final_pdf"])
    assert "ỗ" in pdf_text(finalised.answers["final_pdf"])


def test_phs_archive_verify_checks_the_minutes_pdf_against_its_signature(finalised: Finalised, tmp_path: Path) -> None:
    pdf, sig = tmp_path / "bien-ban.pdf", tmp_path / "bien-ban.pdf.sig"
    pdf.write_bytes(finalised.answers["final_pdf"])
    sig.write_bytes(finalised.answers["final_sig"])
    box = json.loads(sig.read_text())["public_key"]
    assert archive_main(["verify", str(pdf)]) == 0
    assert archive_main(["verify", str(pdf), "--box", box]) == 0
    assert archive_main(["verify", str(pdf), "--box", "00" * 32]) == 1  # pinned to another box
    changed = bytearray(pdf.read_bytes())
    changed[100] ^= 0x01
    pdf.write_bytes(bytes(changed))
    assert archive_main(["verify", str(pdf), "--sig", str(sig)]) == 1
