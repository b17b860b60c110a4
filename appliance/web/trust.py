"""Device trust at the edge: last contact, guessing limits, request proofs, revocation.

The journal keeps what must survive a restart (who is paired, device keys, revocations,
the pairing window: ``meeting/device_trust.py``). This keeps what is only useful while
the server runs: when each device last spoke, wrong-code counters, recent proofs (an
exact replay of one is refused), and the alarms the technician sees.
"""

from __future__ import annotations

import hmac
import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.pairing.codes import RateLimiter
from appliance.pairing.device_keys import HEADER, QUERY, check_proof

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from appliance.meeting.roles import Actor
    from appliance.web.service import Appliance

log = logging.getLogger("phs.trust")

# One address: 10 wrong codes a minute locks it for 5 minutes. The whole box: 100 wrong
# codes in 15 minutes (a guesser hopping addresses on the room Wi-Fi) locks code pairing
# for everyone until the lock runs out or the technician opens a pairing window.
PER_ADDRESS = (10, 60.0, 300.0)
BOX_WIDE = (100, 900.0, 900.0)
JUST_USED_S = 60.0  # a code's double tap within this is not a wrong guess
BOX_KEY = "*"
# A tablet guessing its delegate's vote PIN: 5 wrong a quarter hour locks that device.
VOTE_PIN = (5, 900.0, 900.0)
SEEN_PROOFS = 4096
# A signed request earns an HttpOnly session cookie for the requests a browser cannot sign
# (page images, downloads, the offline store's fetches). A copied pair of cookies thus
# works for at most SESSION_TTL_S; after that every request needs the key again.
SESSION_COOKIE = "phs_device_session"
SESSION_TTL_S = 30 * 60
SESSION_REFRESH_S = 5 * 60  # a cookie older than this is replaced on the next signed request
SET_COOKIE_STATE = "phs_set_cookie"
REVOKED_CLOSE_CODE = 4401  # the client wipes its caches and returns to the pairing page
REVOKED_MESSAGE = '{"type": "revoked", "wipe": true, "code": "device_revoked"}'


class DeviceTrust:
    """Runtime trust state for one appliance."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.per_address = RateLimiter(*PER_ADDRESS)
        self.box = RateLimiter(*BOX_WIDE)
        self.last_seen: dict[str, float] = {}  # device id -> wall time
        self.last_address: dict[str, str] = {}
        self.replays: dict[str, int] = {}  # device id -> refused requests without a valid proof
        self._proofs: OrderedDict[str, None] = OrderedDict()
        self.locked_at: float | None = None  # wall time the box-wide lock last engaged
        self.just_used: dict[str, float] = {}  # code digest -> when it paired a device (monotonic)
        # (device, poll) pairs whose delegate typed the PIN; memory only, like the fact
        # "voted" in the journal it reveals nothing about a choice.
        self.vote_unlocked: set[tuple[str, str]] = set()
        self.vote_pin_limiter = RateLimiter(*VOTE_PIN)

    # -- guessing ---------------------------------------------------------------
    def check_guess(self, address: str, mono: float) -> None:
        """Refuse (``locked_out``) while the address or the whole box is locked."""
        self.box.check(BOX_KEY, mono)
        self.per_address.check(address, mono)

    def wrong_guess(self, address: str, mono: float, wall: float, digest: str = "") -> None:
        """Count a wrong code; log when it locks an address or the box.

        A code that paired a device moments ago is not a guess: a double tap sends it twice
        at once, and the second must not count towards the lock-out (it is refused all the same)."""
        used = self.just_used.get(digest)
        if used is not None and mono - used < JUST_USED_S:
            return
        if self.per_address.record_failure(address, mono):
            log.warning(
                "pairing locked for an address",
                extra={"address": address, "event": "pairing_locked_address"},
            )
        if self.box.record_failure(BOX_KEY, mono) and self.locked_at is None:
            self.locked_at = wall
            log.warning(
                "pairing locked: too many wrong codes",
                extra={
                    "event": "pairing_locked",
                    "wrong_codes": BOX_WIDE[0],
                    "minutes": int(BOX_WIDE[2] // 60),
                },
            )

    def good_guess(self, address: str, digest: str = "", mono: float = 0.0) -> None:
        """A paired device starts clean; its code is remembered for a minute (see ``wrong_guess``)."""
        self.per_address.record_success(address)
        if digest:
            self.just_used = {d: t for d, t in self.just_used.items() if mono - t < JUST_USED_S}
            self.just_used[digest] = mono

    def box_locked_for(self, mono: float) -> float:
        """Seconds code pairing stays locked for everyone."""
        left = self.box.locked_for(BOX_KEY, mono)
        if left <= 0:
            self.locked_at = None
        return left

    def unlock(self) -> None:
        """The technician is at the console (opened a window): code pairing works again."""
        if self.locked_at is not None:
            log.info("pairing unlocked by the technician", extra={"event": "pairing_unlocked"})
        self.box.record_success(BOX_KEY)
        self.locked_at = None

    # -- each request -----------------------------------------------------------
    def check_request(self, connection: ASGIConnection[Any, Any, Any, Any], device: str) -> None:
        """Note the contact; a device with a key must prove it (a copied credential is refused)."""
        state = self.appliance.state
        key = state.trust.keys.get(device)
        address = connection.client.host if connection.client else "unknown"
        if key:
            scope = connection.scope
            proof = connection.headers.get(HEADER) or connection.query_params.get(QUERY)
            method = "WS" if str(scope["type"]) == "websocket" else str(scope.get("method", "GET"))
            raw = scope.get("raw_path")
            # The encoded path as the browser's URL.pathname has it; never the query string.
            path = (
                raw.decode("latin-1").split("?", 1)[0]
                if isinstance(raw, bytes) and raw
                else str(scope.get("path", ""))
            )
            now_ms = int(self.appliance.clock.now().wall * 1000)
            if not proof and self._session_ok(
                connection.cookies.get(SESSION_COOKIE), device, now_ms
            ):
                # An <img>, a download or the service worker cannot sign: the short-lived
                # session cookie a signed request earned stands in for the proof.
                self.last_seen[device] = now_ms / 1000
                self.last_address[device] = address
                return
            problem = check_proof(key, proof, method, path, now_ms)
            if problem is None and proof is not None:
                sig = proof.partition(".")[2]
                if sig in self._proofs:
                    problem = "replayed proof"
                else:
                    self._proofs[sig] = None
                    while len(self._proofs) > SEEN_PROOFS:
                        self._proofs.popitem(last=False)
            if problem is not None:
                self.replays[device] = self.replays.get(device, 0) + 1
                log.warning(
                    "device credential used without its key",
                    extra={
                        "event": "credential_replay",
                        "device": device,
                        "address": address,
                        "why": problem,
                    },
                )
                raise refuse("device_proof_invalid", now_ms=now_ms)
            self._maybe_mint(connection, device, now_ms)
        self.last_seen[device] = self.appliance.clock.now().wall
        self.last_address[device] = address

    def is_revoked(self, device: str) -> bool:
        """Whether the device's credential was revoked."""
        found = self.appliance.state.devices.get(device)
        return bool(found and found.revoked)

    def _session_value(self, device: str, expires_ms: int) -> str:
        mac = hmac.new(self.appliance.mac, f"session|{device}|{expires_ms}".encode(), "sha256")
        return f"{device}.{expires_ms}.{mac.hexdigest()[:40]}"

    def _session_ok(self, value: str | None, device: str, now_ms: int) -> bool:
        if not value or value.count(".") != 2:
            return False
        who, expires, _ = value.split(".")
        if who != device or not expires.isdigit() or int(expires) <= now_ms:
            return False
        return hmac.compare_digest(value, self._session_value(device, int(expires)))

    def _maybe_mint(
        self, connection: ASGIConnection[Any, Any, Any, Any], device: str, now_ms: int
    ) -> None:
        """After a signed request: a fresh session cookie when the one held is missing or aging."""
        if str(connection.scope["type"]) == "websocket":
            return  # no response headers to carry it
        held = connection.cookies.get(SESSION_COOKIE)
        if held and self._session_ok(
            held, device, now_ms + (SESSION_TTL_S - SESSION_REFRESH_S) * 1000
        ):
            return
        value = self._session_value(device, now_ms + SESSION_TTL_S * 1000)
        secure = "; Secure" if connection.scope.get("scheme") == "https" else ""
        cookie = f"{SESSION_COOKIE}={value}; HttpOnly; Max-Age={SESSION_TTL_S}; Path=/; SameSite=Strict{secure}"
        connection.scope.setdefault("state", {})[SET_COOKIE_STATE] = cookie

    def seen(self, device: str) -> None:
        """A live-channel message counts as contact too."""
        self.last_seen[device] = self.appliance.clock.now().wall

    # -- the PIN before voting ----------------------------------------------------
    def check_vote_pin(self, device: str, actor: Actor, poll_id: str) -> None:
        """Refuse ``pin_required`` while the body asks a PIN and this tablet has not given it."""
        state = self.appliance.state
        if not state.trust.vote_pin_required or not actor.can("poll.vote"):
            return
        if (device, poll_id) not in self.vote_unlocked:
            raise refuse("pin_required", poll_id=poll_id)

    def unlock_vote(self, device: str, actor: Actor, poll_id: str, pin: str) -> None:
        """Check the delegate's PIN (the check-in PIN) and let this tablet vote in ``poll_id``."""
        from appliance.meeting.attendance_pin import pin_digest

        state = self.appliance.state
        now = self.appliance.clock.now()
        self.vote_pin_limiter.check(device, now.mono)
        poll = state.polls.get(poll_id)
        if poll is None:
            raise refuse("not_found", "Không có lượt biểu quyết này.", "No such poll.")
        stored = state.attendance_rules.pins.get(str(actor.participant_id))
        if stored is None:
            raise refuse(
                "forbidden",
                "Chưa có mã PIN: hãy nhờ thư ký đặt mã.",
                "No PIN is set: ask the secretary to set one.",
                reason="pin_missing",
            )
        salt, digest = stored
        if not text_pin(pin) or not hmac.compare_digest(
            pin_digest(salt, str(actor.participant_id), text_pin(pin)), digest
        ):
            if self.vote_pin_limiter.record_failure(device, now.mono):
                log.warning(
                    "vote PIN locked for a device",
                    extra={"event": "vote_pin_locked", "device": device},
                )
            raise refuse("forbidden", "Mã PIN không đúng.", "The PIN is wrong.", reason="pin_wrong")
        self.vote_pin_limiter.record_success(device)
        self.vote_unlocked.add((device, poll_id))

    def vote_pin_status(self, device: str) -> dict[str, Any]:
        """What the tablet needs to know to ask for the PIN."""
        state = self.appliance.state
        open_polls = [pid for pid, p in state.polls.items() if p.status == "open"]
        return {
            "required": state.trust.vote_pin_required,
            "open": open_polls,
            "unlocked": [pid for pid in open_polls if (device, pid) in self.vote_unlocked],
        }

    # -- revocation ---------------------------------------------------------------
    def on_events(self, position: int, events: Iterable[Event]) -> None:
        """Close a revoked device's live channel at once, telling it to wipe itself first."""
        revoked = {getattr(e, "device_id", "") for e in events if e.type == "device_revoked"}
        if not revoked:
            return
        hub = self.appliance.hub
        for conn in list(hub.connections):
            if conn.device in revoked:
                # The handler sees the device revoked, sends the wipe message and closes with
                # REVOKED_CLOSE_CODE (controllers/live.py).
                hub.disconnect(conn)

    def devices(self) -> list[dict[str, Any]]:
        """Every device the box has paired, for the technician: who, last contact, live or not."""
        state = self.appliance.state
        live = {conn.device for conn in self.appliance.hub.connections}
        out = []
        for device in state.devices.values():
            person = state.participants.get(device.participant_id)
            out.append(
                {
                    "id": device.id,
                    "participant_id": device.participant_id,
                    "name": person.name if person else "",
                    "role": person.role if person else "",
                    "seat": person.seat if person else None,
                    "paired_at": device.paired_at,
                    "last_seen": self.last_seen.get(device.id),
                    "address": self.last_address.get(device.id),
                    "connected": device.id in live,
                    "has_key": device.id in state.trust.keys,
                    "revoked": device.revoked,
                    "revoked_at": state.trust.revoked_at.get(device.id),
                    "refused_without_key": self.replays.get(device.id, 0),
                }
            )
        out.sort(key=lambda d: (d["revoked"], d["seat"] is None, d["seat"] or 0, d["name"]))
        return out


def text_pin(pin: Any) -> str:
    """A PIN as digits (4 to 8), or "" when it cannot be one."""
    text = str(pin).strip() if isinstance(pin, str | int) and not isinstance(pin, bool) else ""
    return text if text.isdigit() and 4 <= len(text) <= 8 else ""
