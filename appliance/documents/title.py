"""Pick a document's title: what the secretary would have typed.

Order: the PDF's metadata title when it is meaningful; else the document-type heading of
page 1 with its subject line ("NGHỊ QUYẾT" + "Về kế hoạch đầu tư công..."), as laid out by
Nghị định 30/2020 on administrative documents; else the first line of page 1 that is not
the issuing body's boilerplate; else the filename stem. Metadata of Vietnamese government
PDFs is often junk ("New.pdf", "Microsoft Word - tt.docx", "UỶ BAN NHÂN DÂN"), hence the checks.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from appliance.core.text import fold
from appliance.documents.text import is_letter_text

MAX_TITLE = 200

# Folded document-type headings (Nghị định 30/2020, Phụ lục III) and common others.
_DOC_TYPES = (
    "nghi quyet",
    "quyet dinh",
    "nghi dinh",
    "chi thi",
    "thong tu",
    "luat",
    "phap lenh",
    "ke hoach",
    "to trinh",
    "bao cao",
    "thong bao",
    "giay moi",
    "huong dan",
    "chuong trinh",
    "cong van",
    "bien ban",
    "de an",
    "du an",
    "phuong an",
    "quy che",
    "quy dinh",
    "ket luan",
    "cong dien",
    "thong cao",
    "du thao",
    "danh sach",
    "lich",
)
_DOC_TYPE_LINE = re.compile(r"^(du thao )?(" + "|".join(_DOC_TYPES) + r")\b")
# Lines of the header block that never name the document (folded, prefix match).
_BOILERPLATE = (
    "hoi dong nhan dan",
    "uy ban",
    "cong hoa xa hoi",
    "doc lap",
    "so:",
    "so ",
    "ban thuong",
    "thuong truc",
    "chinh phu",
    "quoc hoi",
    "muc luc",
    "tinh ",
    "thanh pho",
    "huyen ",
    "xa ",
    "phuong ",
    "mat tran",
    "dang cong san",
    "kinh gui",
    "noi nhan",
    "---",
    "___",
)
_SUBJECT_ENDS = ("can cu", "kinh gui", "theo de nghi", "xet ")
_JUNK_META = ("untitled", "document", "no title", "tai lieu", "microsoft word", "new")
_FILE_LIKE = re.compile(r"\.(pdf|docx?|xlsx?|odt|rtf|jpe?g|png|tiff?)$", re.IGNORECASE)


def _clean(text: str) -> str:
    cleaned = re.sub(r"\s+", " ", text).strip(" -_.:;,")
    if len(cleaned) > MAX_TITLE:
        cleaned = cleaned[:MAX_TITLE].rsplit(" ", 1)[0] + "…"
    return cleaned


def _is_boilerplate(line: str) -> bool:
    folded = fold(line)
    if folded.startswith(_BOILERPLATE) or not is_letter_text(line) or len(folded) < 4:
        return True
    words = folded.split()
    # "C N P Ủ": a heading whose glyphs lost their text mapping; not a title.
    if sum(len(word) == 1 for word in words) * 2 >= len(words):
        return True
    # The place-and-date line: "Hà Nội, ngày 27 tháng 6 năm 2025".
    return len(folded) < 80 and " ngay " in f" {folded} " and " thang " in f" {folded} "


def meaningful_metadata(title: str | None) -> str | None:
    """The metadata title if a person could have written it for this document, else None."""
    if not title:
        return None
    cleaned = _clean(title)
    folded = fold(cleaned)
    if len(cleaned) < 4 or not is_letter_text(cleaned) or _FILE_LIKE.search(cleaned):
        return None
    if folded.startswith(_JUNK_META) or _is_boilerplate(cleaned):
        return None
    return cleaned


def _lower_subject(text: str) -> str:
    """An ALL-CAPS subject in sentence case, keeping codes like 22/2022/NQ-HĐND as they are."""
    if text.upper() != text:
        return text[:1].lower() + text[1:]
    return " ".join(
        word if any(ch.isdigit() or ch in "/-" for ch in word) else word.lower()
        for word in text.split()
    )


def _heading_title(lines: list[str]) -> str | None:
    for index, line in enumerate(lines[:60]):
        if _DOC_TYPE_LINE.match(fold(line)) and line.upper() == line:
            subject: list[str] = []
            for follow in lines[index + 1 : index + 7]:
                if _is_boilerplate(follow) or fold(follow).startswith(_SUBJECT_ENDS):
                    break
                subject.append(follow)
            heading = line.strip().capitalize()
            if not subject:
                return _clean(heading)
            return _clean(f"{heading} {_lower_subject(' '.join(subject))}")
    return None


def choose_title(
    metadata_title: str | None, first_page_text: str, filename: str, *, use_text: bool = True
) -> str:
    """The title to show in the agenda (never empty); spreadsheets pass ``use_text=False``."""
    if not use_text:
        first_page_text = ""
    meta = meaningful_metadata(metadata_title)
    if meta:
        return meta
    lines = [line.strip() for line in first_page_text.splitlines() if line.strip()]
    heading = _heading_title(lines)
    if heading:
        return heading
    candidates = [line for line in lines[:40] if not _is_boilerplate(line)]
    # Header blocks are in capitals (and survive garbled); a subject line is in mixed case.
    for line in [c for c in candidates if c.upper() != c] + candidates:
        return _clean(line)
    stem = PurePath(filename.replace("\\", "/")).stem.strip()
    return _clean(stem) or "Tài liệu"
