"""Find words in a document's pages, insensitive to case and Vietnamese diacritics.

"ngan sach" finds "Ngân sách" and the defective "ngân sách" spelled with look-alike
code points (ƣ for ư), because both sides go through ``appliance.core.text.fold``.
Also the JSON text blob stored per document (text and word positions per page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from appliance.core.text import fold
from appliance.documents.models import PageInfo, Rect, SearchHit, Word

TEXT_BLOB_VERSION = 1
_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Folded alphanumeric tokens: punctuation and hyphens separate, never match."""
    return _TOKEN.findall(fold(text))


def _page_tokens(words: Sequence[Word]) -> tuple[list[str], list[int]]:
    flat: list[str] = []
    owner: list[int] = []
    for index, word in enumerate(words):
        for token in tokens(word[4]):
            flat.append(token)
            owner.append(index)
    return flat, owner


def search(words_by_page: Sequence[Sequence[Word]], query: str) -> list[SearchHit]:
    """Every place the query's words appear consecutively; one hit per occurrence.

    A hit's rects are the rects of the words it spans (a phrase across a line break has
    two or more). Pages are 1-based like the HTTP API.
    """
    wanted = tokens(query)
    if not wanted:
        return []
    hits: list[SearchHit] = []
    n = len(wanted)
    for page_index, words in enumerate(words_by_page):
        flat, owner = _page_tokens(words)
        for start in range(len(flat) - n + 1):
            if flat[start : start + n] == wanted:
                spanned = sorted(set(owner[start : start + n]))
                rects: tuple[Rect, ...] = tuple(
                    (words[i][0], words[i][1], words[i][2], words[i][3]) for i in spanned
                )
                hits.append(SearchHit(page=page_index + 1, rects=rects))
    return hits


def text_blob(pages: Sequence[PageInfo]) -> bytes | None:
    """The stored text of a document as JSON; None when no page has any text (a scan)."""
    if not any(page.text for page in pages):
        return None
    body = {
        "version": TEXT_BLOB_VERSION,
        "pages": [{"text": page.text, "words": [list(w) for w in page.words]} for page in pages],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_text_blob(blob: bytes) -> list[PageInfo]:
    """Read a text blob back (sizes are not stored there: they are 0)."""
    body: dict[str, Any] = json.loads(blob)
    if body.get("version") != TEXT_BLOB_VERSION:
        raise ValueError(f"unknown text blob version {body.get('version')!r}")
    pages: list[PageInfo] = []
    for page in body["pages"]:
        words = tuple(
            (float(w[0]), float(w[1]), float(w[2]), float(w[3]), str(w[4])) for w in page["words"]
        )
        pages.append(PageInfo(width_pt=0.0, height_pt=0.0, text=str(page["text"]), words=words))
    return pages
