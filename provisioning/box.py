"""The box's side of provisioning: trust on first use, enrolment, and applying a bundle.

A verified bundle becomes the existing registry commands (``setup``,
``add_participants``, ``add_agenda_item``, ``add_document``), judged one after another
on a copy of the state and then committed as ONE journal record: the configuration
changes all at once or not at all, and every refusal leaves the journal untouched.
The applied bundle is kept sealed in the blob store so the previous one can be put
back once (rollback). Secrets stay sealed to the box; logs never carry them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from appliance import __version__
from appliance.core.errors import PhsError, refuse
from appliance.core.events import Event
from appliance.core.ids import new_id
from appliance.core.text import clean
from appliance.meeting.apply import apply
from appliance.meeting.decide import Command, decide
from appliance.store.keys import bundle_key_name, document_key_name
from appliance.store.sealing import InvalidTag, atomic_write, seal, unseal

from .crypto import b64, enrolment_document, fingerprint, open_secret, unb64
from .reader import Bundle, read_bundle

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.provisioning")
X25519_KEY = "provisioning-x25519"  # beside the identity, wrapped by the KEK like every data key
STATE_KEY = "provisioning"
_AAD = b"phs-provisioning-state"


def box_x25519(app: Appliance) -> X25519PrivateKey:
    """The box's X25519 key (secrets in bundles are sealed to its public half)."""
    return X25519PrivateKey.from_private_bytes(app.keyring.data_key(X25519_KEY))


async def commit_commands(app: Appliance, commands: list[Command], device: str = "provisioning") -> int:
    """Judge ``commands`` in order on a copy of the state, then commit all their events as one record."""
    from appliance.web.service import SYSTEM

    probe = app.state.model_copy(deep=True)
    now = app.clock.now()
    events: list[Event] = []
    for command in commands:
        produced = decide(probe, SYSTEM, command, now)
        for e in produced:
            try:
                apply(probe, e, probe.position + 1)
            except (ValueError, TypeError, KeyError) as err:
                raise refuse("invalid", message_en=f"cannot apply {command.type}: {type(err).__name__}") from None
        events += produced
    record = {"events": [e.to_dict() for e in events], "wall": now.wall, "mono": now.mono, "actor": "system", "device": device}
    position, durable = app.journal.submit(record)
    for e in events:
        apply(app.state, e, position)
    await durable
    app.hub.publish(position, events)
    return position


class ProvisioningService:
    """Applies bundles to one appliance; keeps the trusted key and the last two bundles sealed."""

    def __init__(self, app: Appliance) -> None:
        self.app = app
        self.path = app.settings.data_dir / "provisioning" / "state.sealed"
        self.lock = asyncio.Lock()
        self.status: dict[str, Any] = {"stage": "idle"}

    # -- sealed state -------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        """The sealed provisioning state (trusted key, current/previous bundle, admins, secrets)."""
        try:
            raw = unseal(self.app.keyring.data_key(STATE_KEY), self.path.read_bytes(), _AAD)
        except FileNotFoundError:
            return {"version": 1}
        except InvalidTag:
            raise refuse("locked", message_en="The provisioning state does not open with this box's keys.") from None
        state: dict[str, Any] = json.loads(raw)
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Seal and write the provisioning state atomically."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(self.path, seal(self.app.keyring.data_key(STATE_KEY), json.dumps(state).encode(), _AAD))

    def trusted(self) -> bytes | None:
        """The organisation key this box trusts (pinned by the first bundle it applied)."""
        key = self.load().get("trusted")
        return unb64(key, "trusted") if key else None

    def enrolment(self) -> dict[str, Any]:
        """``enrol.json`` for the stick: the box's public keys, for the IT tool."""
        return enrolment_document(self.app.keyring.identity(), box_x25519(self.app), __version__)

    def describe(self) -> dict[str, Any]:
        """What the technician page and the hall display show: progress, outcome, fingerprints."""
        trusted = self.trusted()
        return {
            **self.status,
            "box_fingerprint": self.enrolment()["fingerprint"],
            "trusted_fingerprint": fingerprint(trusted) if trusted else None,
        }

    def public(self) -> dict[str, Any]:
        """The part of ``describe`` anyone on the hall network may see: no names, no counts."""
        outcome = self.status.get("outcome") or {}
        shown = {k: outcome[k] for k in ("code", "message", "message_en") if k in outcome}
        if self.status.get("stage") == "done":
            shown = {"ok": True}
        trusted = self.trusted()
        return {
            "stage": self.status.get("stage", "idle"),
            "bundle": self.status.get("bundle"),
            "done": self.status.get("done"),
            "total": self.status.get("total"),
            "outcome": shown or None,
            "configured": bool(self.load().get("current")),
            "box_fingerprint": self.enrolment()["fingerprint"],
            "trusted_fingerprint": fingerprint(trusted) if trusted else None,
        }

    # -- applying -------------------------------------------------------------------
    async def apply(self, data: bytes, name: str = "bundle.phsb", *, force_replace: bool = False) -> dict[str, Any]:
        """Verify and apply a provisioning bundle; a refusal changes nothing and says why."""
        async with self.lock:
            self.status = {"stage": "verifying", "bundle": name, "started": time.time()}
            try:
                receipt = await self._apply(data, name, force_replace)
            except PhsError as err:
                self.status = {**self._counts(), "stage": "refused", "bundle": name, "outcome": err.to_dict()}
                log.warning("bundle refused", extra={"bundle": name, "code": err.code, "reason": err.detail.get("reason")})
                raise
            self.status = {**self._counts(), "stage": "done", "bundle": name, "outcome": receipt}
            log.info("bundle applied", extra={"bundle": name, "position": receipt.get("position"), "already_applied": bool(receipt.get("already_applied"))})
            return receipt

    def _counts(self) -> dict[str, Any]:
        """Documents done / total of the run that just ended (the progress bar's last state)."""
        return {k: self.status[k] for k in ("done", "total") if k in self.status}

    async def _apply(self, data: bytes, name: str, force_replace: bool) -> dict[str, Any]:
        stored = self.load()
        trusted = unb64(stored["trusted"], "trusted") if stored.get("trusted") else None
        bundle = read_bundle(data, trusted=trusted)
        if bundle.kind != "provisioning":
            raise refuse("bundle_invalid", "Đây là gói cập nhật phần mềm.", "This is a software update bundle.", reason="kind")
        current = stored.get("current") or {}
        if not force_replace and current.get("id") and current.get("id") == bundle.manifest.get("id"):
            # The same stick plugged in again: nothing to do, and not a refusal to alarm anyone.
            return {"ok": True, "already_applied": True, "bundle": current["id"], "name": name, "applied_at": current.get("at"),
                    "box": self.enrolment()["fingerprint"], "signer": bundle.fingerprint, "first_use": False,
                    "counts": bundle.manifest.get("counts", {}), "network_files": []}
        mine = self.enrolment()["fingerprint"]
        meant = bundle.manifest.get("box")
        if meant and meant != mine:
            raise refuse("bundle_invalid", f"Gói dành cho hộp {meant}, không phải hộp này ({mine}).",
                         f"This bundle is for box {meant}, not this box ({mine}).", reason="other_box")
        network = self._secrets(bundle)
        commands = self._registry_commands(bundle, force_replace)
        admins, admin_commands = self._admins(bundle, stored.get("admins") or [])
        commands += admin_commands + self._displays(bundle)
        self.status.update(stage="ingesting", done=0, total=_count_documents(bundle))
        commands += await self._documents(bundle)
        self.status["stage"] = "applying"
        # Its own key: it holds the documents' originals, so erasing a sitting's documents erases it too.
        # Stored before the commit: a cut leaves at most an unused blob.
        blob = await asyncio.to_thread(self.app.blobs.put, data, key_name=bundle_key_name(new_id()))
        record = {"blob": blob, "id": bundle.manifest.get("id"), "at": time.time(), "name": name}
        first_use = trusted is None
        # What the box keeps beside the journal, written as *pending* before the commit and
        # promoted after it. A cut in between is settled on the next start by the journal's
        # ``bundle_applied`` marker (``recover``): promoted if the commit is there, dropped if not.
        # Never the trust pin without the registry, nor the registry without the pin.
        apply_id = new_id("apply_")
        stored["pending"] = {
            "apply": apply_id,
            "fields": {"trusted": b64(bundle.signer), "previous": stored.get("current"), "current": record, "admins": admins,
                       "upstream": bundle.json("upstream.json"), "network": bundle.json("network.json")},
        }
        self.save(stored)
        position = await commit_commands(self.app, [*commands, Command("mark_bundle_applied", {"apply": apply_id})])
        self._promote(stored)
        written = self._write_network(network)
        return {
            "ok": True,
            "bundle": bundle.manifest.get("id"),
            "name": name,
            "position": position,
            "applied_at": record["at"],
            "box": mine,
            "signer": bundle.fingerprint,
            "first_use": first_use,
            "counts": bundle.manifest.get("counts", {}),
            "network_files": written,
        }

    def _secrets(self, bundle: Bundle) -> Any:
        """Open the sealed secrets now, so a bundle for another box is refused before any change."""
        key = box_x25519(self.app)
        network = bundle.json("network.json")
        if network:
            from appliance.network.config import NetworkSettings

            fields = dict(network, passphrase=open_secret(key, network.get("passphrase"), "wifi"))
            try:
                settings = NetworkSettings(**{k: v for k, v in fields.items() if k in NetworkSettings.__dataclass_fields__})
            except TypeError:
                raise refuse("bundle_invalid", "Cấu hình mạng không hợp lệ.", "network.json is not valid.", reason="network") from None
            settings.validate()
            network = settings
        upstream = bundle.json("upstream.json")
        if upstream:
            open_secret(key, upstream.get("credentials"), "upstream")  # checked here, opened by sync later
        return network

    def _registry_commands(self, bundle: Bundle, force_replace: bool) -> list[Command]:
        state, m = self.app.state, bundle.manifest
        configured = bool(state.body or state.agenda or state.documents or state.delegates())
        commands: list[Command] = []
        if configured:
            if not (m.get("replace") or force_replace):
                raise refuse(
                    "conflict",
                    "Hộp đã có kỳ họp. Muốn thay, hãy tạo gói với 'replace: true' (khi không có phiên họp nào đang mở).",
                    "This box already holds a session. To replace it, build the bundle with 'replace: true' (no sitting may be open).",
                    reason="configured",
                )
            commands.append(Command("replace_configuration", {"bundle": str(m.get("id", ""))}))
        titles = [s["title"] for s in m.get("sittings") or [] if s.get("title")] or None
        commands.append(Command("setup", {"body": m["body"], "session": m["session"], "sittings": titles, "rehearsal": bool(m.get("rehearsal"))}))
        people = [row for row in bundle.json("participants.json") if not self._kept_staff(row)]
        commands.append(Command("add_participants", {"participants": people, "ids": [new_id("p_") for _ in people]}))
        for item in bundle.json("agenda.json"):
            commands.append(Command("add_agenda_item", {"title": item["title"], "id": new_id("i_")}))
        return commands

    def _kept_staff(self, row: Any) -> bool:
        """A row naming staff the box already has: a replacement keeps them (and their pairing), so adding them again would list one person twice."""
        from appliance.meeting.model import person_key
        from appliance.meeting.provisioned import KEPT_ROLES

        if not isinstance(row, dict) or row.get("role") not in KEPT_ROLES:
            return False
        who = person_key(*(clean(str(row.get(k) or ""), one_line=True) for k in ("name", "title", "unit", "team")))
        return any(p.role == row["role"] and p.identity() == who for p in self.app.state.participants.values())

    def _admins(self, bundle: Bundle, before: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Command]]:
        """The bundle's administrators, each bound to a participant (kept from before when still there)."""
        from .admins import admin_participants

        admins = [dict(a) for a in bundle.json("admins.json", [])]
        known = {str(a.get("username")): str(a.get("participant_id") or "") for a in before if isinstance(a, dict)}
        fresh, ids = admin_participants(admins)
        people, new_ids = [], []
        for admin, person, pid in zip(admins, fresh, ids, strict=True):
            kept = self.app.state.participants.get(known.get(str(admin["username"]), ""))
            if kept is not None and kept.role == person["role"]:
                admin["participant_id"] = kept.id  # staff keep their pairing across a replacement
                continue
            admin["participant_id"] = pid
            people.append(person)
            new_ids.append(pid)
        commands = [Command("add_participants", {"participants": people, "ids": new_ids})] if people else []
        return admins, commands

    def _displays(self, bundle: Bundle) -> list[Command]:
        """Hall displays the bundle names, as participants (role display); ones already there are kept."""
        have = {p.name for p in self.app.state.participants.values() if p.role == "display"}
        names = [str(n) for n in bundle.manifest.get("displays") or [] if str(n) not in have]
        if not names:
            return []
        people = [{"name": n, "role": "display"} for n in names]
        return [Command("add_participants", {"participants": people, "ids": [new_id("p_") for _ in people]})]

    async def _documents(self, bundle: Bundle) -> list[Command]:
        from appliance.documents import ingest_and_render

        commands: list[Command] = []
        for n, item in enumerate(bundle.json("agenda.json"), start=1):
            for doc in item.get("documents", []):
                filename = str(doc.get("filename") or doc["file"])
                doc_id = new_id("doc_")  # before the ingest: the document's blobs are sealed with its own key
                put = partial(self.app.blobs.put, key_name=document_key_name(doc_id))
                try:
                    rec = await ingest_and_render(bundle.files[doc["file"]], filename, None, put)
                except PhsError as err:
                    raise refuse("bundle_invalid", f"Tài liệu '{filename}': {err.message}", f"Document '{filename}': {err.message_en}",
                                 reason="document", path=doc["file"]) from None
                args = {"id": doc_id, "item": n, "access": doc.get("access", "delegates"), "filename": filename,
                        "record": {"title": rec.title, "page_count": rec.page_count, "sizes": [[p["w"], p["h"]] for p in rec.pages],
                                   "page_blobs": rec.page_blobs, "original_blob": rec.original_blob, "text_blob": rec.text_blob}}
                commands.append(Command("add_document", args))
                self.status["done"] = self.status.get("done", 0) + 1
        return commands

    def _promote(self, stored: dict[str, Any]) -> None:
        """Move a committed application's pending fields into place."""
        pending = stored.pop("pending")
        stored.update(pending["fields"])
        self.save(stored)

    def recover(self) -> str | None:
        """Settle an application a power cut interrupted; what was done ("promoted", "dropped") or None.

        Runs once, when the service is made (before any bundle is judged against the trust pin)."""
        stored = self.load()
        pending = stored.get("pending")
        if not isinstance(pending, dict):
            return None
        if self.app.state.applied_bundle == pending.get("apply"):
            self._promote(stored)
            current = stored.get("current") or {}
            try:  # the Wi-Fi files come from the bundle's sealed secrets, kept in the blob store
                bundle = read_bundle(self.app.blobs.get(str(current.get("blob"))), trusted=unb64(stored["trusted"], "trusted"))
                self._write_network(self._secrets(bundle))
            except PhsError as err:
                log.warning("network files not rewritten after recovery", extra={"code": err.code})
            outcome = "promoted"
        else:
            stored.pop("pending")
            self.save(stored)
            outcome = "dropped"
        log.warning("interrupted bundle application settled", extra={"event": "provisioning_recovered", "outcome": outcome})
        return outcome

    def _write_network(self, network: Any) -> list[str]:
        """Write hostapd/dnsmasq files when this machine is the box (PHS_SYSTEM_ROOT set)."""
        root = os.environ.get("PHS_SYSTEM_ROOT")
        if not network or not root:
            return []
        from appliance.network.config import write_network_config

        return [str(p) for p in write_network_config(network, Path(root))]

    async def rollback(self) -> dict[str, Any]:
        """Put the previous bundle's configuration back (once); refused during an open sitting."""
        stored = self.load()
        previous = stored.get("previous")
        if not previous:
            raise refuse("not_found", "Không có cấu hình trước đó để quay lại.", "There is no previous configuration to roll back to.")
        data = await asyncio.to_thread(self.app.blobs.get, previous["blob"])
        receipt = await self.apply(data, str(previous.get("name", "previous")), force_replace=True)
        stored = self.load()
        stored["previous"] = None  # one rollback: the configuration we left is not kept again
        self.save(stored)
        return receipt


def _count_documents(bundle: Bundle) -> int:
    return sum(len(item.get("documents", [])) for item in bundle.json("agenda.json", []))
