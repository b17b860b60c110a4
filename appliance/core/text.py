"""Text helpers: NFC on input, diacritic folding for search."""

from __future__ import annotations

import unicodedata

# Defective Vietnamese PDF text layers use look-alike code points.
_LOOKALIKES = str.maketrans({"ƣ": "ư", "Ƣ": "Ư", "đ": "đ"})


def nfc(text: str) -> str:
    """Normalize user input to NFC so 'Nguyễn' typed on any keyboard compares equal."""
    return unicodedata.normalize("NFC", text.translate(_LOOKALIKES))


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: 'Ngân sách' -> 'ngan sach'."""
    decomposed = unicodedata.normalize("NFD", nfc(text).lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")
