"""Replacing the whole configuration from a provisioning bundle (docs/BUNDLE.md, ``replace``).

The registry commands only add; a bundle built with ``replace: true`` starts the box's
configuration over — delegates and guests, agenda, documents, sittings — in the same
journal record as the new configuration, so the change is all or nothing. The journal
keeps everything before it (the record of earlier sittings is never rewritten).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor


@event("configuration_replaced")
@dataclass(frozen=True)
class ConfigurationReplaced(Event):
    """The box's configuration was cleared for a bundle (its id) applied in the same record."""

    bundle: str


@handles("replace_configuration", "session.manage")
def _replace(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    if any(s.status == "open" for s in state.sittings):
        raise refuse(
            "conflict",
            "Đang có phiên họp mở: không thể thay cấu hình. Hãy bế mạc phiên họp trước.",
            "A sitting is open: the configuration cannot be replaced. Close the sitting first.",
        )
    return [ConfigurationReplaced(str(args.get("bundle", ""))[:64])]


# Staff and hall displays belong to the room, not to the session: they keep their
# pairing across a replacement, so the technician and the screens need no new codes.
KEPT_ROLES = frozenset({"secretary", "technician", "display"})


@applies(ConfigurationReplaced)
def _cleared(s: SessionState, e: ConfigurationReplaced) -> None:
    staff = {pid: p for pid, p in s.participants.items() if p.role in KEPT_ROLES}
    devices = {did: d for did, d in s.devices.items() if d.participant_id in staff}
    codes = {k: c for k, c in s.codes.items() if c.participant_id in staff}
    fresh = SessionState()
    for name in type(s).model_fields:
        if name not in ("version", "position"):
            setattr(s, name, getattr(fresh, name))
    s.participants, s.devices, s.codes = staff, devices, codes


@event("bundle_applied")
@dataclass(frozen=True)
class BundleApplied(Event):
    """A bundle's commands were committed, in this same record (``apply`` is one id per application).

    The box's sealed provisioning state (trust pin, administrators, upstream, Wi-Fi) is
    written beside the journal; after a power cut it is finished from this marker or
    dropped without it (provisioning/box.py), so the two never disagree."""

    apply: str


@handles("mark_bundle_applied", "session.manage")
def _mark(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    return [BundleApplied(str(args.get("apply", ""))[:64])]


@applies(BundleApplied)
def _marked(s: SessionState, e: BundleApplied) -> None:
    s.applied_bundle = e.apply
