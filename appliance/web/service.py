"""The appliance's single writer: judges commands, makes them durable, then tells everyone.

Flow of every change (DESIGN.md): ``decide`` (pure) -> events applied in memory with
the position the journal assigned -> the journal batch is fsynced -> the outcome is
acknowledged and the live hub publishes. Nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appliance.core.clock import Clock
from appliance.core.errors import PhsError, refuse
from appliance.core.events import Event
from appliance.core.ids import new_id
from appliance.core.settings import Settings
from appliance.meeting import events as ev
from appliance.meeting.apply import apply
from appliance.meeting.custom_roles import actor_for
from appliance.meeting.decide import Command, access_allowed, decide
from appliance.meeting.model import STATE_VERSION, SessionState
from appliance.meeting.poll_commands import secret_choice
from appliance.meeting.roles import PERMISSIONS, ROLES, Actor
from appliance.pairing.cards import is_card_code, new_card_code, normalise_card
from appliance.pairing.codes import (
    RateLimiter,
    code_digest,
    digests_match,
    new_code,
    new_token,
    token_digest,
)
from appliance.store.ballotbox import BallotBox
from appliance.store.blobs import BlobStore
from appliance.store.journal import Journal
from appliance.store.keys import Keyring
from appliance.store.snapshots import Snapshots
from appliance.web import outcomes
from appliance.web.ballot_writer import BallotWriter
from appliance.web.live import LiveHub
from appliance.web.locked import unlock
from appliance.web.poll_timer import PollTimer
from appliance.web.records import record_key
from appliance.web.trust import DeviceTrust

log = logging.getLogger("phs.service")

SYSTEM = Actor("system", "system", frozenset(PERMISSIONS) | {"pair"})
PAIRING_ACTOR = Actor(None, "unpaired", frozenset({"pair"}))


class Appliance:
    """Owns the state, the journal and the live hub for one data directory."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.state = SessionState()
        self.hub = LiveHub(self)
        self._outcomes: outcomes.Table = OrderedDict()  # first outcomes: appliance/web/outcomes.py
        self._submitted: dict[tuple[str, str], dict[str, Any]] = {}  # in the state, not yet durable
        self._snapshot_lock = asyncio.Lock()
        self._inflight: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = {}
        self._since_snapshot = 0
        self.started = False
        self.demo_codes: dict[str, str] = {}
        # Told of every published change (the floor timer, the hardware board): appliance/web/hall.py
        self.listeners: list[Callable[[int, list[Event]], None]] = []
        self.limiter = RateLimiter()  # other guessable secrets (provisioning/admins.py)
        self.poll_timer = PollTimer(self)
        self.trust = DeviceTrust(self)  # last contact, guessing limits, request proofs (web/trust.py)
        self.listeners.append(self.trust.on_events)
        self._lock_file: Any = None
        self.locked = False  # no key yet (key stick out): see appliance/web/locked.py
        self.unlocker: asyncio.Task[None] | None = None
        # token digest -> the device it matched last time: a hint that spares authenticate a scan
        # of every paired device (500 in a full hall) per request; the state still decides.
        self._device_hint: dict[str, str] = {}

    # -- life cycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Lock the data directory and unlock the keys; without the key stick the box waits, locked."""
        data = self.settings.data_dir
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_data_dir(data)
        keyring = await unlock(self)  # None: locked; a poller calls open_store once the key appears
        if keyring is not None:
            await self.open_store(keyring)

    async def open_store(self, keyring: Keyring) -> None:
        """Open the journal, restore the newest snapshot that fits (state and first outcomes) and replay the rest."""
        data = self.settings.data_dir
        self.keyring = keyring
        key = self.keyring.data_key("session")
        self.blobs = BlobStore(data / "blobs", self.keyring)  # each blob names its key: a document's own, or "blobs"
        self.snapshots = Snapshots(data / "snapshots", key)
        self.ballots = BallotBox.open(data / "ballots" / "box.sealed", self.keyring.data_key("ballots"))
        self.mac = self.keyring.mac_key("pairing")
        after = self._restore_snapshot()
        self.journal = await Journal.open(data / "journal", key, keys=self.keyring.journal_key, identity=self.keyring.identity(), verify_from=after)
        if after > self.journal.head:  # it holds records whose write never became durable (a cut tail)
            self.snapshots.set_aside(after, "ahead_of_journal")
            self.state, after = SessionState(), 0
            self._outcomes.clear()
        replayed = 0
        for position, record in self.journal.records(after=after):
            self._replay(position, record)
            replayed += 1
        pending = self.ballots.pending_markers()
        if pending:  # a crash between staging a secret choice and its journal record (SECRET_BALLOTS.md)
            committed = {str(r["box"]) for _, r in self.journal.records() if r.get("box") in pending}
            self.ballots.recover(committed)
            log.warning("ballot box recovered", extra={"kept": len(committed), "dropped": len(pending - committed)})
        self.ballot_writer = BallotWriter(self.ballots)
        for poll_id, poll in self.state.polls.items():
            if poll.spec.get("method") == "secret":
                for choice in self.ballots.choices(poll_id):
                    self.state.add_secret_choice(poll_id, choice)
        from appliance.documents import warm_up

        warm_up()  # start the render workers now: the first page of an upload in < 1 s
        log.info("state restored", extra={"snapshot": after, "replayed": replayed, "head": self.journal.head})
        self.started = True
        self.poll_timer.start()
        if self.settings.demo:
            from appliance.web.demo import demo_codes, seed_demo

            fresh = not self.state.participants
            self.demo_codes = await seed_demo(self) if fresh else await demo_codes(self)
        if self.settings.setup_code:
            await self._ensure_setup_code(self.settings.setup_code)

    def _restore_snapshot(self) -> int:
        """Restore the newest snapshot that fits the model; one that does not is set aside. Its position, or 0."""
        while (snap := self.snapshots.load()) is not None:
            position, body = snap
            if body.get("version") != STATE_VERSION:
                return 0  # another state version: the journal replays from the start
            try:
                rows = body.pop(outcomes.SNAPSHOT_FIELD, [])
                state = SessionState.model_validate(body)
                if state.position != position:
                    raise ValueError("snapshot state is at another position")
                table: outcomes.Table = OrderedDict()
                outcomes.restore(table, rows)
            except (ValidationError, ValueError, TypeError) as err:
                self.snapshots.set_aside(position, type(err).__name__)
                continue
            self.state, self._outcomes = state, table
            return position
        return 0

    def _lock_data_dir(self, data: Path) -> None:
        """One writer per data directory: a second server refuses before touching anything."""
        (data / "run").mkdir(exist_ok=True, mode=0o700)
        handle = open(data / "run" / "writer.lock", "a+")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise refuse(
                "conflict",
                "Thư mục dữ liệu đang được một máy chủ PHS khác sử dụng.",
                f"The data directory {data} is in use by another PHS server.",
            ) from None
        self._lock_file = handle

    async def stop(self) -> None:
        """Snapshot and close the journal."""
        if self.unlocker is not None:
            self.unlocker.cancel()
        if not self.started:
            return
        from appliance.documents import shutdown_pool

        await self.poll_timer.stop()
        await self.hub.close_all()
        await self.ballot_writer.flush()
        self.ballots.close()
        await self._snapshot()
        await asyncio.to_thread(shutdown_pool)
        await self.journal.close()
        self.started = False
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _replay(self, position: int, record: dict[str, Any]) -> None:
        for body in record.get("events", []):
            apply(self.state, Event.from_dict(body), position)
        self.state.position = position
        client = record.get("client")
        if client:
            refs = outcomes.refs_of([Event.from_dict(b) for b in record.get("events", [])])
            self._remember((record.get("device", ""), client), outcomes.accepted(position, refs, record.get("fp")))

    async def _snapshot(self) -> None:
        """Seal the state and the first outcomes, taken together on the loop so they name one position."""
        async with self._snapshot_lock:
            self._since_snapshot = 0
            position = self.state.position
            body = self.state.model_dump(mode="json")
            body[outcomes.SNAPSHOT_FIELD] = outcomes.durable_rows(self._outcomes, self._submitted)
            await asyncio.to_thread(self.snapshots.save, position, body)

    # -- commands -----------------------------------------------------------------
    def _remember(self, key: tuple[str, str], outcome: dict[str, Any] | PhsError) -> None:
        outcomes.remember(self._outcomes, key, outcome)

    def first_outcome(self, device: str, client_id: str | None) -> dict[str, Any] | None:
        """What a retried ``client_id`` got the first time (its refusal raised again), or None:
        for routes that must answer a retry before slow work, such as ingesting an upload."""
        if not client_id:
            return None
        first = self._outcomes.get((device, client_id[:100]))
        if isinstance(first, PhsError):
            raise first
        return first

    async def execute(
        self, actor: Actor, command: Command, *, device: str = "", client_id: str | None = None
    ) -> dict[str, Any]:
        """Judge, persist, publish; a retried ``client_id`` gets the first outcome."""
        if client_id:
            key = (device, client_id[:100])
            fingerprint = outcomes.fingerprint(command, secret=self._secret_vote(command))
            if key in self._outcomes:
                first = self._outcomes[key]
                if isinstance(first, PhsError):
                    raise first
                if first.get("fp") not in (None, fingerprint):
                    raise refuse(
                        "conflict",
                        "Mã yêu cầu (Idempotency-Key) đã dùng cho một thao tác khác.",
                        "This Idempotency-Key was already used for a different request.",
                    )
                return dict(first, replayed=True)
            if key in self._inflight:
                return dict(await asyncio.shield(self._inflight[key]), replayed=True)
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._inflight[key] = fut
            try:
                outcome = await self._execute(actor, command, device, client_id[:100])
            except PhsError as err:
                self._remember(key, err)
                fut.set_exception(err)
                fut.exception()  # retrieved: nobody else may be waiting
                raise
            except BaseException as err:
                fut.set_exception(err)
                fut.exception()
                raise
            finally:
                self._inflight.pop(key, None)
            self._remember(key, outcome)
            fut.set_result(outcome)
            return outcome
        return await self._execute(actor, command, device, None)

    async def _execute(self, actor: Actor, command: Command, device: str, client_id: str | None) -> dict[str, Any]:
        if command.type == "vote":  # HTTP and live ballots alike: the PIN first when the body asks it
            self.trust.check_vote_pin(device, actor, str(command.args.get("poll_id", "")))
        now = self.clock.now()
        events = decide(self.state, actor, command, now)
        secret: Any = None
        marker: str | None = None
        if command.type == "vote" and events and self.state.polls[str(command.args["poll_id"])].spec.get("method") == "secret":
            # The choice is durable in the box (pending) before its journal record exists;
            # meanwhile the poll may close or a twin ballot land, so the vote is judged again.
            secret = secret_choice(self.state, command.args)
            marker = await self.ballot_writer.stage(str(command.args["poll_id"]), secret)
            now = self.clock.now()
            try:
                events = decide(self.state, actor, command, now)
            except PhsError:
                self.ballot_writer.discard(marker)
                raise
        if not events:
            return {"ok": True, "position": self.state.position, "changed": False}
        record: dict[str, Any] = {
            "events": [e.to_dict() for e in events],
            "wall": now.wall,
            "mono": now.mono,
            "actor": actor.participant_id,
            "device": device,
        }
        if client_id:
            record["client"] = client_id
            record["fp"] = outcomes.fingerprint(command, secret=marker is not None or self._secret_vote(command))
        if marker is not None:
            record["box"] = marker  # cleared from the box once durable: see docs/SECRET_BALLOTS.md
        if command.type in _PROBED:
            probe = self.state.model_copy(deep=True)
            try:
                for e in events:
                    apply(probe, e, self.state.position + 1)
            except (ValueError, TypeError, KeyError) as err:
                raise refuse("invalid", message_en=f"cannot apply: {type(err).__name__}") from None
        position, durable = self.journal.submit(record, key_name=record_key(self.state, command))
        for e in events:
            apply(self.state, e, position)
        if marker is not None:
            self.state.add_secret_choice(str(command.args["poll_id"]), secret)
        refs = outcomes.refs_of(events)
        outcome = outcomes.accepted(position, refs, record.get("fp"))
        if client_id:  # a snapshot taken before the fsync covers this record: it carries this outcome
            self._submitted[(device, client_id)] = outcome
        try:
            await durable
        finally:
            if client_id:
                self._submitted.pop((device, client_id), None)
        if marker is not None:
            self.ballot_writer.commit(marker)
        self.hub.publish(position, events)
        for listener in self.listeners:
            listener(position, events)
        self.poll_timer.saw(events)
        if any(isinstance(e, ev.SittingClosed) for e in events):
            await self.journal.checkpoint()  # the closed sitting's record is signed as it stands
        self._since_snapshot += 1
        if self._since_snapshot >= self.settings.snapshot_every:
            await self._snapshot()
        return outcome

    def _secret_vote(self, command: Command) -> bool:
        """A ballot in a secret poll: its request fingerprint must not be a hash of the choice."""
        if command.type != "vote":
            return False
        poll = self.state.polls.get(str(command.args.get("poll_id")))
        return poll is not None and poll.spec.get("method") == "secret"

    # -- devices and pairing ------------------------------------------------------
    def authenticate(self, token: str | None) -> tuple[str, Actor]:
        """The device and actor a credential belongs to, or ``not_paired``."""
        if not token or len(token) > 200:
            raise refuse("not_paired")
        digest = token_digest(token, self.mac)
        hinted = self.state.devices.get(self._device_hint.get(digest, ""))
        known = hinted is not None and digests_match(hinted.token_digest, digest)
        for device in [hinted] if known and hinted else self.state.devices.values():  # else every device
            if digests_match(device.token_digest, digest):
                if device.revoked:  # answered with Clear-Site-Data: the tablet wipes what it cached
                    raise refuse("device_revoked")
                participant = self.state.participants.get(device.participant_id)
                if participant is None:
                    break
                self._device_hint[digest] = device.id  # only ever a matched device: bounded by them
                return device.id, actor_for(self.state, participant)  # custom roles too
        raise refuse("not_paired")

    async def issue_code(self, actor: Actor, participant_id: str, ttl: float | None = None) -> dict[str, Any]:
        """A one-time pairing code for a participant; only its digest is kept."""
        if ttl is None:
            ttl = self.settings.pairing_code_minutes * 60.0
        code = new_code()
        while code_digest(code, self.mac) in self.state.codes:
            code = new_code()
        await self.execute(
            actor,
            Command("issue_code", {"participant_id": participant_id, "digest": code_digest(code, self.mac), "ttl": ttl}),
        )
        return {"code": code, "expires_at": self.clock.now().wall + ttl}

    async def pair(self, code: str, address: str, device_key: str = "") -> dict[str, Any]:
        """Claim a typed code or a seat card: a new device credential bound to its participant."""
        now = self.clock.now()
        self.trust.check_guess(address, now.mono)
        card = is_card_code(code)
        code = normalise_card(code) if card else "".join(ch for ch in str(code) if ch.isdigit())
        token = new_token()
        device_id = new_id("dev_")
        try:
            await self.execute(
                PAIRING_ACTOR,
                Command(
                    "pair_device",
                    {
                        "kind": "card" if card else "code",
                        "code_digest": (digest := code_digest(code, self.mac)),
                        "device_id": device_id,
                        "token_digest": token_digest(token, self.mac),
                        "device_key": device_key,
                    },
                ),
            )
        except PhsError as err:
            if err.code == "code_invalid":
                self.trust.wrong_guess(address, now.mono, now.wall, digest)
            raise
        self.trust.good_guess(address, digest, now.mono)
        device = self.state.devices[device_id]
        participant = self.state.participants[device.participant_id]
        log.info("device paired", extra={"device": device_id, "role": participant.role, "card": card, "keyed": bool(device_key)})
        return {
            "token": token,
            "device_id": device_id,
            "participant": participant.model_dump(),
            "role": participant.role,
        }

    async def issue_seat_cards(self, actor: Actor, participant_ids: list[str]) -> dict[str, str]:
        """One-time seat-card codes (participant id -> code); only their digests are kept."""
        codes = {pid: new_card_code() for pid in participant_ids if isinstance(pid, str)}
        await self.execute(
            actor,
            Command(
                "issue_seat_cards",
                {"participant_ids": list(participant_ids), "digests": [code_digest(codes.get(p, ""), self.mac) for p in participant_ids]},
            ),
        )
        return codes

    async def _ensure_setup_code(self, code: str) -> None:
        digest = code_digest(code, self.mac)
        if digest in self.state.codes:
            return
        secretary = next((p for p in self.state.participants.values() if p.role == "secretary"), None)
        if secretary is None:
            pid = new_id("p_")
            await self.execute(SYSTEM, Command("add_participants", {"participants": [{"name": "Thư ký", "role": "secretary"}], "ids": [pid]}))
        else:
            pid = secretary.id
        await self.execute(SYSTEM, Command("issue_code", {"participant_id": pid, "digest": digest, "ttl": 7 * 24 * 3600}))

    # -- documents ------------------------------------------------------------------
    async def add_document(
        self,
        actor: Actor,
        data: bytes,
        filename: str,
        item: int,
        access: str,
        password: str | None,
        client_id: str | None,
        device: str = "",
    ) -> dict[str, Any]:
        """Ingest, seal the pages, then record the document."""
        from appliance.documents import ingest_and_render
        from appliance.web.doc_service import record_args, services

        if not actor.can("document.manage"):
            raise refuse("forbidden")
        if (first := self.first_outcome(device, client_id)) is not None:
            return {"id": (first.get("refs") or [""])[0]}
        if not 1 <= item <= len(self.state.agenda):
            raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
        if not access_allowed(self.state, access):
            raise refuse("invalid", "Mức truy cập không hợp lệ.", "Unknown access level.")
        doc_id = new_id("doc_")  # before the ingest: every blob of the document is sealed with its key
        record = await ingest_and_render(data, filename, password, services(self).put_for(doc_id))
        rec = record_args(record)  # as an upload records it (with its PDF rendition, so it is not made again)
        await self.execute(
            actor,
            Command("add_document", {"id": doc_id, "item": item, "access": access, "filename": filename, "record": rec}),
            device=device,
            client_id=client_id,
        )
        return {"id": doc_id}


# Registry commands are rare and carry caller-shaped data: their events are tried on a
# copy first, so an event that cannot be applied is refused before it reaches the journal.
_PROBED = {"setup", "add_participants", "add_agenda_item", "add_document"}


def role_permissions(role: str) -> list[str]:
    """Sorted permission names of a role (for /api/me)."""
    return sorted(ROLES.get(role, frozenset()))


def random_code() -> str:
    """A setup code for tools that start their own appliance."""
    return f"{secrets.randbelow(10**6):06d}"


def data_paths(data: Path) -> dict[str, Path]:
    """Where things live in a data directory (for docs and tests)."""
    return {
        "journal": data / "journal",
        "snapshots": data / "snapshots",
        "blobs": data / "blobs",
        "ballots": data / "ballots",
        "keys": data / "keys",
        "run": data / "run",
    }


__all__ = ["Appliance", "SYSTEM", "ev"]
