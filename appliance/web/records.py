"""Which data key seals each journal record, and how readers find the keys.

DESIGN: "each sitting has its own record segment and data key". What happens inside an
open sitting (attendance, the floor, polls and ballots, groups, its closing) is sealed
with ``sitting-<id>``; the session's registry (set-up, participants, agenda, documents,
devices) and the opening of a sitting are sealed with ``session``, because they outlive
the sitting: erasing a sitting must not unpair a tablet or lose another sitting's document
(a document's content has its own key, erased with the sittings it goes with: web/erase.py). A feature
whose facts outlive the sitting they were made in belongs in ``SESSION_COMMANDS``.
"""

from __future__ import annotations

from pathlib import Path

from appliance.meeting.decide import Command
from appliance.meeting.model import SessionState
from appliance.store.frames import SESSION_KEY
from appliance.store.keys import Keyring, sitting_key_name
from appliance.store.verify import VerifyReport, verify_journal

SESSION_COMMANDS = frozenset(
    {
        "setup",
        "add_participants",
        "add_agenda_item",
        "add_document",
        "issue_code",
        "pair",
        "pair_device",  # device trust (meeting/device_trust.py): a revocation outlives the sitting
        "issue_seat_cards",
        "open_pairing_window",
        "close_pairing_window",
        "revoke_device",
        "set_vote_pin_rule",
        "open_sitting",  # the sitting is not open yet; its opening stays on the session record
        "set_group_settings",
        "prepare_poll",
        "prepare_series",
        "remove_prepared",
        "replace_configuration",  # a provisioning bundle replaces the registry
    }
)


def record_key(state: SessionState, command: Command) -> str:
    """The data key name for the record ``command`` makes, judged before its events apply."""
    if command.type in SESSION_COMMANDS:
        return SESSION_KEY
    for sitting in state.sittings:
        if sitting.status == "open":
            return sitting_key_name(sitting.id)
    return SESSION_KEY


def verify_data_dir(keyring: Keyring, data_dir: Path) -> VerifyReport:
    """Verify the journal of a data directory with every key the keyring holds, writing nothing."""
    return verify_journal(
        data_dir / "journal",
        keyring.data_key(SESSION_KEY),
        keys=keyring.existing_key,
        public_key=keyring.identity_public(),
    )
