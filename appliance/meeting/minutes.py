"""The minutes (biên bản) of a sitting and the receipts of its sealed archive — pure rules.

The secretary edits the chair's conclusions while the draft is open; finalising freezes
the generated files: their hashes and the box's signature go into the journal, so the
record itself says which PDF is the minutes, and nothing can change them afterwards.
An upstream archive's receipt (S3, or a USB import confirmed by the archive side) is
recorded the same way; ``phs sitting erase`` and retention look for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import PhsError, refuse
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.decide import _text, handles
from appliance.meeting.minutes_model import FinalMinutes, Receipt, SittingMinutes
from appliance.meeting.model import SessionState, Sitting
from appliance.meeting.roles import Actor

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
TARGETS = ("s3", "usb")


@event("minutes_conclusions_set")
@dataclass(frozen=True)
class MinutesConclusionsSet(Event):
    """The secretary wrote (or rewrote) the chair's conclusions and the place of the sitting."""

    sitting_id: str
    conclusions: str
    place: str
    at: float


@event("minutes_finalised")
@dataclass(frozen=True)
class MinutesFinalised(Event):
    """The minutes were frozen: these files, these hashes, this signature."""

    sitting_id: str
    pdf_sha256: str
    docx_sha256: str
    pdf_blob: str
    docx_blob: str
    signature: str
    public_key: str
    cut: int
    at: float
    token: tuple[str, str, str] | None = None  # (mechanism, signature, certificate) from a PKCS#11 token


@event("absence_noted")
@dataclass(frozen=True)
class AbsenceNoted(Event):
    """The secretary recorded why a delegate is absent from a sitting (empty: the reason is withdrawn)."""

    sitting_id: str
    participant_id: str
    reason: str
    at: float


@event("archive_receipt")
@dataclass(frozen=True)
class ArchiveReceipt(Event):
    """The upstream archive holds the sitting's sealed archive (``phs sitting erase`` reads this)."""

    sitting_id: str
    manifest_sha256: str
    target: str
    key: str
    checksum: str
    at: float


def _sitting(state: SessionState, sitting_id: Any) -> Sitting:
    for sitting in state.sittings:
        if sitting.id == sitting_id:
            return sitting
    raise refuse("not_found", "Không có phiên họp này.", "No such sitting.")


def refusal_before_finalising(still_open: bool) -> PhsError:
    """Why minutes cannot be finalised: the sitting is still open, or they are final already."""
    if still_open:
        return refuse(
            "conflict",
            "Phiên họp chưa bế mạc: chưa hoàn thành biên bản được.",
            "The sitting is not closed yet, so its minutes cannot be finalised.",
        )
    return refuse(
        "conflict",
        "Biên bản phiên họp này đã được hoàn thành, không sửa được nữa.",
        "The minutes of this sitting are final and can no longer change.",
    )


def _frozen(state: SessionState, sitting_id: str) -> None:
    book = state.minutes.get(sitting_id)
    if book is not None and book.final is not None:
        raise refusal_before_finalising(False)


def _hex64(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not _HEX64.match(value):
        raise refuse("invalid", f"Trường '{key}' không hợp lệ.", f"'{key}' must be a SHA-256 hex digest.")
    return value


@handles("set_minutes_conclusions", "minutes.manage")
def _conclusions(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _sitting(state, args.get("sitting_id"))
    _frozen(state, sitting.id)
    text = _text(args, "conclusions", required=False, limit=20_000)
    place = _text(args, "place", required=False, limit=200)
    return [MinutesConclusionsSet(sitting.id, text, place, now.wall)]


@handles("note_absence", "minutes.manage")
def _absence(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _sitting(state, args.get("sitting_id"))
    _frozen(state, sitting.id)
    pid = args.get("participant_id")
    person = state.participants.get(pid) if isinstance(pid, str) else None
    if person is None or not person.is_delegate:
        raise refuse("not_found", "Không có đại biểu này.", "No such delegate.")
    reason = _text(args, "reason", required=False, limit=500)
    return [AbsenceNoted(sitting.id, person.id, reason, now.wall)]


@handles("finalise_minutes", "minutes.manage")
def _finalise(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _sitting(state, args.get("sitting_id"))
    if sitting.status != "closed":
        raise refusal_before_finalising(True)
    _frozen(state, sitting.id)
    blobs = [args.get("pdf_blob"), args.get("docx_blob"), args.get("signature"), args.get("public_key")]
    if not all(isinstance(b, str) and 0 < len(b) <= 200 for b in blobs):
        raise refuse("invalid", message_en="finalise_minutes needs the stored files and the signature.")
    cut = args.get("cut")
    if not isinstance(cut, int) or not 0 < cut <= state.position:
        raise refuse("invalid", message_en="cut must be a journal position already written.")
    token = args.get("token")
    if token is not None and not (
        isinstance(token, (list, tuple)) and len(token) == 3 and all(isinstance(t, str) and len(t) <= 20_000 for t in token)
    ):
        raise refuse("invalid", message_en="token must be (mechanism, signature, certificate).")
    return [
        MinutesFinalised(
            sitting.id,
            _hex64(args, "pdf_sha256"),
            _hex64(args, "docx_sha256"),
            str(args["pdf_blob"]),
            str(args["docx_blob"]),
            str(args["signature"]),
            str(args["public_key"]),
            cut,
            now.wall,
            None if token is None else (str(token[0]), str(token[1]), str(token[2])),
        )
    ]


@handles("record_archive_receipt", "archive.manage")
def _receipt(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _sitting(state, args.get("sitting_id"))
    manifest = _hex64(args, "manifest_sha256")
    target = args.get("target")
    if target not in TARGETS:
        raise refuse("invalid", message_en=f"target must be one of {TARGETS}.")
    key = _text(args, "key", limit=500)
    checksum = _text(args, "checksum", limit=500)
    book = state.minutes.get(sitting.id)
    if book is not None and any(
        r.manifest_sha256 == manifest and r.target == target and r.key == key for r in book.receipts
    ):
        return []  # a receipt reported twice (a resend after a lost answer) is recorded once
    return [ArchiveReceipt(sitting.id, manifest, str(target), key, checksum, now.wall)]


def _book(state: SessionState, sitting_id: str) -> SittingMinutes:
    return state.minutes.setdefault(sitting_id, SittingMinutes())


@applies(MinutesConclusionsSet)
def _set(s: SessionState, e: MinutesConclusionsSet) -> None:
    book = _book(s, e.sitting_id)
    book.conclusions, book.place, book.edited_at = e.conclusions, e.place, e.at


@applies(MinutesFinalised)
def _final(s: SessionState, e: MinutesFinalised) -> None:
    _book(s, e.sitting_id).final = FinalMinutes(
        pdf_sha256=e.pdf_sha256,
        docx_sha256=e.docx_sha256,
        pdf_blob=e.pdf_blob,
        docx_blob=e.docx_blob,
        signature=e.signature,
        public_key=e.public_key,
        cut=e.cut,
        at=e.at,
        token=None if e.token is None else list(e.token),
    )


@applies(AbsenceNoted)
def _absent(s: SessionState, e: AbsenceNoted) -> None:
    book = _book(s, e.sitting_id)
    if e.reason:
        book.absences[e.participant_id] = e.reason
    else:
        book.absences.pop(e.participant_id, None)


@applies(ArchiveReceipt)
def _received(s: SessionState, e: ArchiveReceipt) -> None:
    _book(s, e.sitting_id).receipts.append(
        Receipt(manifest_sha256=e.manifest_sha256, target=e.target, key=e.key, checksum=e.checksum, at=e.at)
    )
