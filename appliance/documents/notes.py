"""A delegate's private notes on documents: highlights, ink and text pinned to a point.

Notes are not part of the sitting's record: they live outside the journal, in one sealed
file per author (``DATA/notes/<keyed hash of the author>.sealed``, key ``notes``), written
atomically before a change is acknowledged. The client chooses a note's id, so a resend
after a Wi-Fi drop lands on the same note (idempotent), and a global revision number
lets each of a delegate's devices ask only for what changed since it last synced.
Nobody but the author sees a note unless the author shares it with a group they belong to.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pymupdf

from appliance.core.errors import refuse
from appliance.core.text import nfc
from appliance.store.sealed import read_sealed, write_sealed
from appliance.store.sealing import fsync_dir

log = logging.getLogger(__name__)

KINDS = ("highlight", "ink", "text")
NOTE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TEXT = 5000
MAX_RECTS = 200
MAX_STROKES = 200
MAX_POINTS = 20_000
#: The fields a client sends; everything else is the server's.
CLIENT_FIELDS = ("document", "page", "kind", "rects", "strokes", "at", "text", "color", "shared_with")
DEFAULT_COLORS = {"highlight": "#ffd400", "ink": "#d62828", "text": "#1d4ed8"}


def _number(value: Any, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= float(value) <= limit + 1.0:
        raise refuse("invalid", "Tọa độ ghi chú nằm ngoài trang.", "A note's coordinates are outside the page.")
    return round(float(value), 2)


def _point(value: Any, width: float, height: float) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise refuse("invalid", message_en="A point is [x, y] in PDF points.")
    return [_number(value[0], width), _number(value[1], height)]


def clean_note(body: Any, page_sizes: list[list[float]]) -> dict[str, Any]:
    """The client's fields of a note, checked against the document's pages; refuses with ``invalid``."""
    if not isinstance(body, dict):
        raise refuse("invalid", message_en="A note is a JSON object.")
    page = body.get("page")
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= len(page_sizes):
        raise refuse("invalid", "Không có trang này.", f"'page' must be 1..{len(page_sizes)}.")
    width, height = (float(page_sizes[page - 1][0]), float(page_sizes[page - 1][1])) if page_sizes[page - 1] else (1e5, 1e5)
    kind = body.get("kind")
    if kind not in KINDS:
        raise refuse("invalid", "Loại ghi chú không hợp lệ.", f"'kind' must be one of {', '.join(KINDS)}.")
    note: dict[str, Any] = {"document": str(body.get("document", "")), "page": page, "kind": kind}
    text = body.get("text")
    if text is not None:
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise refuse("invalid", "Ghi chú quá dài.", f"'text' is a string of at most {MAX_TEXT} characters.")
        note["text"] = nfc(text)
    if kind == "highlight":
        rects = body.get("rects")
        if not isinstance(rects, list) or not 1 <= len(rects) <= MAX_RECTS:
            raise refuse("invalid", message_en=f"A highlight has 1..{MAX_RECTS} rects [x0, y0, x1, y1].")
        note["rects"] = []
        for rect in rects:
            if not isinstance(rect, (list, tuple)) or len(rect) != 4:
                raise refuse("invalid", message_en="A rect is [x0, y0, x1, y1] in PDF points.")
            x0, y0 = _point(rect[:2], width, height)
            x1, y1 = _point(rect[2:], width, height)
            note["rects"].append([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)])
    elif kind == "ink":
        strokes = body.get("strokes")
        if not isinstance(strokes, list) or not 1 <= len(strokes) <= MAX_STROKES:
            raise refuse("invalid", message_en=f"Ink has 1..{MAX_STROKES} strokes of points.")
        total = 0
        note["strokes"] = []
        for stroke in strokes:
            if not isinstance(stroke, list) or not stroke:
                raise refuse("invalid", message_en="A stroke is a list of [x, y] points.")
            total += len(stroke)
            if total > MAX_POINTS:
                raise refuse("invalid", "Nét vẽ quá dài.", f"Ink has at most {MAX_POINTS} points.")
            note["strokes"].append([_point(p, width, height) for p in stroke])
    else:
        note["at"] = _point(body.get("at"), width, height)
        if not note.get("text"):
            raise refuse("invalid", "Ghi chú chưa có nội dung.", "A text note needs 'text'.")
    color = body.get("color") or DEFAULT_COLORS[kind]
    if not isinstance(color, str) or not COLOR.match(color):
        raise refuse("invalid", message_en="'color' is #rrggbb.")
    note["color"] = color.lower()
    shared = body.get("shared_with")
    if shared is not None and not isinstance(shared, str):
        raise refuse("invalid", message_en="'shared_with' is a group id or null.")
    note["shared_with"] = shared or None
    return note


class NoteStore:
    """Every author's notes in memory, each author's file sealed on disk."""

    def __init__(self, directory: Path, key: bytes, mac_key: bytes) -> None:
        self._dir = Path(directory)
        self._key = key
        self._mac = mac_key
        self._notes: dict[str, dict[str, Any]] = {}  # note id -> note (with author)
        self.rev = 0
        self._load()

    def _file(self, author: str) -> Path:
        name = hmac.new(self._mac, author.encode(), hashlib.sha256).hexdigest()[:32]
        return self._dir / f"{name}.sealed"

    def _load(self) -> None:
        if not self._dir.is_dir():
            return
        for path in sorted(self._dir.glob("*.sealed")):
            body = read_sealed(path, self._key, b"phs-notes:" + path.stem.encode())
            for note in body.get("notes", []):
                self._notes[str(note["id"])] = note
                self.rev = max(self.rev, int(note.get("rev", 0)))

    def _save(self, author: str) -> None:
        if not self._dir.exists():
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fsync_dir(self._dir.parent)
        path = self._file(author)
        notes = [n for n in self._notes.values() if n["author"] == author]
        write_sealed(path, self._key, {"version": 1, "notes": notes}, b"phs-notes:" + path.stem.encode())

    def get(self, note_id: str) -> dict[str, Any] | None:
        """A note by id (any author), or None."""
        return self._notes.get(note_id)

    def put(self, author: str, note_id: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
        """Create or change one of ``author``'s notes; the same fields again change nothing."""
        if not NOTE_ID.match(note_id):
            raise refuse("invalid", message_en="A note id is 8-64 characters of A-Z a-z 0-9 _ -.")
        current = self._notes.get(note_id)
        if current is not None and current["author"] != author:
            raise refuse("not_found")  # someone else's id: as if it did not exist
        if current is not None and not current.get("deleted") and all(current.get(k) == fields.get(k) for k in CLIENT_FIELDS):
            return current
        if current is not None and current.get("document") != fields.get("document"):
            raise refuse("conflict", "Ghi chú này thuộc tài liệu khác.", "This note belongs to another document.")
        self.rev += 1
        note = {**fields, "id": note_id, "author": author, "updated_at": now, "rev": self.rev, "deleted": False}
        self._notes[note_id] = note
        self._save(author)
        return note

    def delete(self, author: str, note_id: str, now: float) -> dict[str, Any]:
        """Leave a tombstone so the author's other devices drop the note too."""
        current = self._notes.get(note_id)
        if current is None or current["author"] != author:
            raise refuse("not_found")
        if current.get("deleted"):
            return current
        self.rev += 1
        tomb = {"id": note_id, "author": author, "document": current["document"], "page": current["page"],
                "kind": current["kind"], "deleted": True, "updated_at": now, "rev": self.rev}
        self._notes[note_id] = tomb
        self._save(author)
        return tomb

    def visible(
        self, viewer: str, documents: Iterable[str], groups: Iterable[str], since: int = 0
    ) -> list[dict[str, Any]]:
        """The viewer's own notes and live notes shared with a group of theirs, on ``documents``."""
        docs, mine_groups = set(documents), set(groups)
        out = []
        for note in self._notes.values():
            if note["document"] not in docs or int(note["rev"]) <= since:
                continue
            if note["author"] == viewer or (not note.get("deleted") and note.get("shared_with") in mine_groups):
                out.append(note)
        return sorted(out, key=lambda n: int(n["rev"]))

    def of_author(self, author: str, document: str) -> list[dict[str, Any]]:
        """An author's live notes on one document, oldest first (for the PDF export)."""
        found = [n for n in self._notes.values() if n["author"] == author and n["document"] == document and not n.get("deleted")]
        return sorted(found, key=lambda n: int(n["rev"]))


def _rgb(color: str) -> tuple[float, float, float]:
    return (int(color[1:3], 16) / 255, int(color[3:5], 16) / 255, int(color[5:7], 16) / 255)


def export_pdf(pdf: bytes, notes: list[dict[str, Any]], author_name: str) -> bytes:
    """The document with the author's notes as real PDF annotations (a pool job)."""
    with pymupdf.open("pdf", pdf) as doc:
        for note in notes:
            page = doc.load_page(int(note["page"]) - 1)
            color = _rgb(str(note.get("color") or DEFAULT_COLORS[note["kind"]]))
            annot: Any
            if note["kind"] == "highlight":
                annot = page.add_highlight_annot([pymupdf.Rect(*r) for r in note["rects"]])
            elif note["kind"] == "ink":
                annot = page.add_ink_annot([[tuple(p) for p in stroke] for stroke in note["strokes"]])
                annot.set_border(width=1.5)
            else:
                annot = page.add_text_annot(pymupdf.Point(*note["at"]), note.get("text", ""))
            annot.set_colors(stroke=color)
            annot.set_info(title=author_name, content=note.get("text", ""))
            annot.update()
        return bytes(doc.tobytes(garbage=1, deflate=True))

