"""Text helpers: NFC on input, diacritic folding for search."""

from __future__ import annotations

import unicodedata

# Defective Vietnamese PDF text layers use look-alike code points.
_LOOKALIKES = str.maketrans({"ƣ": "ư", "Ƣ": "Ư", "đ": "đ"})


def nfc(text: str) -> str:
    """Normalize user input to NFC so 'Nguyễn' typed on any keyboard compares equal."""
    return unicodedata.normalize("NFC", text.translate(_LOOKALIKES))


def clean(text: str, *, one_line: bool = False) -> str:
    """User text as every screen should show it: NFC, no invisible characters, trimmed.

    Dropped: control characters (tab and newline kept unless ``one_line``), format
    characters (zero-width spaces and joiners, bidi overrides and isolates, tags, BOM, soft
    hyphen: a name made of them looks blank, an RTL override makes "Nguyễn" read backwards)
    and lone surrogates. ``one_line`` (names, titles, candidates) also folds every run of
    whitespace, non-breaking spaces included, to one space, so twins typed with a double
    space or a trailing NBSP compare equal.
    """
    out = "".join(
        ch
        for ch in nfc(text)
        if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES or (ch.isspace() if one_line else ch in "\t\n")
    )
    if one_line:
        out = " ".join(out.split())
    return out.strip()


_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: 'Ngân sách' -> 'ngan sach'."""
    decomposed = unicodedata.normalize("NFD", nfc(text).lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")
