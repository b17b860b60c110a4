"""Device trust — ghép nối và tin cậy thiết bị: pairing by code or seat card, the pairing
window, device keys and revocation, as pure rules plus the events they cause.

Two ways to pair. A typed six-digit code is issued on demand and expires (10 minutes by
default). A printed seat card carries a long one-time code in its QR; cards are printed
days ahead, so a card alone is not enough: it pairs only while the technician has opened
a pairing window on the console. Either way the new device's credential is bound to one
participant, and a device that registered a key must sign every request with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting import events as ev
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.trust_model import SeatCard

MAX_WINDOW_MINUTES = 120
MAX_KEY_CHARS = 200  # an uncompressed P-256 point is 87 base64url characters
CARD_DAYS = 90  # a printed card stays valid for a term's sittings, but only inside a window


@event("pairing_window_opened")
@dataclass(frozen=True)
class PairingWindowOpened(Event):
    """The technician let seat cards pair until ``until``."""

    until: float
    at: float


@event("pairing_window_closed")
@dataclass(frozen=True)
class PairingWindowClosed(Event):
    """Seat cards stop pairing now."""

    at: float


@event("seat_cards_issued")
@dataclass(frozen=True)
class SeatCardsIssued(Event):
    """New seat cards; each participant's older unused cards stop working."""

    digests: tuple[str, ...]
    participant_ids: tuple[str, ...]
    at: float
    expires_at: float


@event("seat_card_used")
@dataclass(frozen=True)
class SeatCardUsed(Event):
    """A seat card paired a device; it never pairs another."""

    digest: str


@event("device_key_registered")
@dataclass(frozen=True)
class DeviceKeyRegistered(Event):
    """The public half of the key a tablet made at pairing and keeps to itself."""

    device_id: str
    key: str


@event("device_revoked")
@dataclass(frozen=True)
class DeviceRevoked(Event):
    """The device's credential stops working; its live channel closes and it wipes itself."""

    device_id: str
    at: float


@event("vote_pin_rule_set")
@dataclass(frozen=True)
class VotePinRuleSet(Event):
    """The body requires (or no longer requires) the delegate's PIN before each ballot."""

    required: bool


def window_open(state: SessionState, wall: float) -> bool:
    """Whether seat cards pair at ``wall``."""
    return wall < state.trust.window_until


def _technician_limit(state: SessionState, actor: Actor, pid: str) -> None:
    if actor.role == "technician" and state.participants[pid].role not in ("display", "technician"):
        # Same rule as typed codes: a delegate's or the chair's device is the secretary's call.
        raise refuse(
            "forbidden",
            "Kỹ thuật viên chỉ cấp mã cho màn hình và máy kỹ thuật.",
            "Technicians pair only displays and technician devices.",
        )


@handles("open_pairing_window", "device.manage")
def _open_window(
    state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp
) -> list[Event]:
    minutes = args.get("minutes", 10)
    if (
        not isinstance(minutes, int | float)
        or isinstance(minutes, bool)
        or not 1 <= minutes <= MAX_WINDOW_MINUTES
    ):
        raise refuse(
            "invalid",
            f"Thời gian mở ghép nối phải từ 1 đến {MAX_WINDOW_MINUTES} phút.",
            f"The pairing window must last 1 to {MAX_WINDOW_MINUTES} minutes.",
        )
    return [PairingWindowOpened(now.wall + float(minutes) * 60.0, now.wall)]


@handles("close_pairing_window", "device.manage")
def _close_window(
    state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp
) -> list[Event]:
    return [PairingWindowClosed(now.wall)]


@handles("issue_seat_cards", "device.pair")
def _issue_cards(
    state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp
) -> list[Event]:
    digests, pids = args.get("digests"), args.get("participant_ids")
    if (
        not isinstance(digests, list)
        or not isinstance(pids, list)
        or len(digests) != len(pids)
        or not pids
    ):
        raise refuse("invalid", "Hãy chọn người cần in thẻ.", "Choose whom to print cards for.")
    for pid in pids:
        if not isinstance(pid, str) or pid not in state.participants:
            raise refuse(
                "not_found",
                "Không có người tham dự này.",
                "No such participant.",
                participant_id=str(pid)[:40],
            )
        _technician_limit(state, actor, pid)
    if len(set(pids)) != len(pids):
        raise refuse("invalid", "Mỗi người chỉ một thẻ.", "One card per person.")
    return [SeatCardsIssued(tuple(digests), tuple(pids), now.wall, now.wall + CARD_DAYS * 86400.0)]


@handles("pair_device", "pair")
def _pair_device(
    state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp
) -> list[Event]:
    digest = str(args.get("code_digest", ""))
    key = args.get("device_key") or ""
    if not isinstance(key, str) or len(key) > MAX_KEY_CHARS:
        raise refuse("invalid", "Khóa thiết bị không hợp lệ.", "The device key is not valid.")
    events: list[Event] = []
    if args.get("kind") == "card":
        card = state.trust.cards.get(digest)
        if card is None or card.used or card.expires_at < now.wall:
            raise refuse("code_invalid")
        if not window_open(state, now.wall):
            raise refuse("pairing_window_closed")
        pid = card.participant_id
        events.append(SeatCardUsed(digest))
    else:
        code = state.codes.get(digest)
        if code is None or code.used or code.expires_at < now.wall:
            raise refuse("code_invalid")
        pid = code.participant_id
    if pid not in state.participants:
        raise refuse("code_invalid")
    device_id = str(args["device_id"])
    events.insert(0, ev.DevicePaired(device_id, pid, str(args["token_digest"]), digest, now.wall))
    if key:
        events.append(DeviceKeyRegistered(device_id, key))
    return events


@handles("revoke_device", "device.manage")
def _revoke(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    device = state.devices.get(str(args.get("device_id", "")))
    if device is None:
        raise refuse("not_found", "Không có thiết bị này.", "No such device.")
    if device.revoked:
        raise refuse("conflict", "Thiết bị đã bị thu hồi.", "The device is already revoked.")
    return [DeviceRevoked(device.id, now.wall)]


@handles("set_vote_pin_rule", "session.manage")
def _vote_pin_rule(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    required = args.get("required")
    if not isinstance(required, bool):
        raise refuse("invalid", "Hãy chọn bật hoặc tắt.", "'required' must be true or false.")
    return [] if state.trust.vote_pin_required == required else [VotePinRuleSet(required)]


@applies(VotePinRuleSet)
def _vote_pin_rule_set(s: SessionState, e: VotePinRuleSet) -> None:
    s.trust.vote_pin_required = e.required


@applies(PairingWindowOpened)
def _window_opened(s: SessionState, e: PairingWindowOpened) -> None:
    s.trust.window_until = e.until


@applies(PairingWindowClosed)
def _window_closed(s: SessionState, e: PairingWindowClosed) -> None:
    s.trust.window_until = 0.0


@applies(SeatCardsIssued)
def _cards(s: SessionState, e: SeatCardsIssued) -> None:
    fresh = set(e.participant_ids)
    for digest in [
        d for d, c in s.trust.cards.items() if c.participant_id in fresh or c.expires_at < e.at
    ]:
        del s.trust.cards[digest]  # a reprinted card replaces a lost one; expired ones are dropped
    for digest, pid in zip(e.digests, e.participant_ids, strict=True):
        s.trust.cards[digest] = SeatCard(
            digest=digest, participant_id=pid, issued_at=e.at, expires_at=e.expires_at
        )


@applies(SeatCardUsed)
def _card_used(s: SessionState, e: SeatCardUsed) -> None:
    if e.digest in s.trust.cards:
        s.trust.cards[e.digest].used = True


@applies(DeviceKeyRegistered)
def _key(s: SessionState, e: DeviceKeyRegistered) -> None:
    s.trust.keys[e.device_id] = e.key


@applies(DeviceRevoked)
def _revoked(s: SessionState, e: DeviceRevoked) -> None:
    if e.device_id in s.devices:
        s.devices[e.device_id].revoked = True
    s.trust.revoked_at[e.device_id] = e.at
