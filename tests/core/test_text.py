"""NFC on input and diacritic folding for search."""

from __future__ import annotations

import unicodedata

from appliance.core.errors import CATALOGUE, PhsError, refuse
from appliance.core.text import fold, nfc


def test_nfd_name_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert decomposed != "Nguyễn Thị Ánh Tuyết"
    assert nfc(decomposed) == "Nguyễn Thị Ánh Tuyết"


def test_fold_strips_diacritics_and_case() -> None:
    assert fold("Ngân sách Đô thị") == "ngan sach do thi"
    assert fold("nhà nƣớc") == "nha nuoc"  # the ƣ defect of some PDF text layers


def test_every_error_code_has_both_languages() -> None:
    for code, (status, vi, en) in CATALOGUE.items():
        assert 400 <= status <= 503 and vi and en, code
    err = refuse("already_voted")
    assert (err.status, err.to_dict()["code"]) == (409, "already_voted")
    assert PhsError("no_such_code").code == "no_such_code"


def test_clean_drops_what_a_screen_cannot_show_and_keeps_vietnamese() -> None:
    from appliance.core.text import clean

    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
    assert clean(f"\ufeff{nfd}\u200b\u202e ") == "Nguyễn Thị Hương"
    assert clean("Dòng một\nDòng\u00ad hai\t\x00") == "Dòng một\nDòng hai"
    assert clean("Trần \t Văn\u00a0\u00a0Bình\n", one_line=True) == "Trần Văn Bình"
    assert clean("\u200b\u200c\u200d\u2066") == ""
