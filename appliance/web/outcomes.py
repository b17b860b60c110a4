"""The first outcome of each command per (device, client id), kept across restarts.

A retried command (a Wi-Fi drop, a resend) is answered with its first outcome
(DESIGN.md, Idempotency). Accepted outcomes come back after a restart from two places:
the sealed snapshot carries the newest ``DURABLE`` of them, and the replay of the journal
after the snapshot adds those of later records (each record keeps its client id and
request fingerprint). Refusals stay in memory only: a refused command changed nothing,
so after a restart its retry is judged again and still cannot apply twice.

Secret ballots (docs/SECRET_BALLOTS.md): an outcome holds the record's position, the ids
the command created and the request fingerprint — which for a secret ballot leaves the
choice out. Only those fields are ever written, so nothing stored names a choice.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from appliance.core.errors import PhsError
from appliance.core.events import Event
from appliance.meeting.decide import Command

KEPT = 50_000  # outcomes held in memory, oldest dropped first
DURABLE = 20_000  # the newest of them carried in a snapshot: the retry window across a restart
SNAPSHOT_FIELD = "idempotency"  # beside the state in the snapshot body
FIELDS = ("position", "changed", "ref", "refs", "fp")

Key = tuple[str, str]
Table = OrderedDict[Key, "dict[str, Any] | PhsError"]


def remember(table: Table, key: Key, outcome: dict[str, Any] | PhsError) -> None:
    """Keep ``outcome`` as the first answer for ``key``, dropping the oldest beyond ``KEPT``."""
    table[key] = outcome
    while len(table) > KEPT:
        table.popitem(last=False)


def accepted(position: int, refs: list[str], fp: Any) -> dict[str, Any]:
    """The outcome of a command whose record is at ``position``."""
    return {"ok": True, "position": position, "changed": True, "ref": refs[0] if refs else None, "refs": refs, "fp": fp}


def durable_rows(
    table: Table, submitted: Mapping[Key, dict[str, Any]], limit: int = DURABLE
) -> list[list[Any]]:
    """The newest accepted outcomes as ``[device, client, fields]`` rows, oldest first.

    ``submitted`` holds outcomes whose records are in the state but not yet acknowledged:
    the snapshot covers their records, so it must carry their outcomes too.
    """
    rows: list[list[Any]] = []
    for (device, client), outcome in [*table.items(), *submitted.items()]:
        if isinstance(outcome, dict):
            rows.append([device, client, {k: outcome[k] for k in FIELDS if k in outcome}])
    return rows[-limit:] if limit > 0 else []


def restore(table: Table, rows: Iterable[Any]) -> int:
    """Load snapshot rows into ``table``; ValueError when a row is not one ``durable_rows`` writes."""
    loaded: list[tuple[Key, dict[str, Any]]] = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3 and isinstance(row[0], str) and isinstance(row[1], str)):
            raise ValueError("bad idempotency row")
        fields = row[2]
        if not isinstance(fields, dict) or not set(fields) <= set(FIELDS) or not isinstance(fields.get("position"), int):
            raise ValueError("bad idempotency outcome")
        loaded.append(((row[0], row[1]), {"ok": True, **fields}))
    for key, outcome in loaded:
        remember(table, key, outcome)
    return len(loaded)


def refs_of(events: list[Event]) -> list[str]:
    """The ids a command created (a poll, participants, a document), so a retry can find them."""
    out: list[str] = []
    for e in events:
        for name in ("poll_id", "id", "device_id"):
            value = getattr(e, name, None)
            if isinstance(value, str):
                out.append(value)
                break
    return out


def fingerprint(command: Command, *, secret: bool = False) -> str:
    """What a request asked for, so a reused Idempotency-Key cannot stand for another request.

    The fingerprint is kept in the journal record. For a secret ballot it leaves the choice
    out: with only a few possible answers, anyone with the key could hash each one and read
    the voter's choice off the record (docs/SECRET_BALLOTS.md). A reused key with another
    answer then gets the first outcome instead of ``conflict`` — the first ballot stands.
    """
    generated = _GENERATED_BY.get(command.type, frozenset()) | _SECRET_INPUTS
    args = {k: v for k, v in command.args.items() if k not in generated and not (secret and k in _CHOICE)}
    body = json.dumps([command.type, args], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


# What a ballot chose: never fingerprinted for a secret poll.
_CHOICE = {"answer", "answers"}
# Secrets never fingerprinted (a PIN could be guessed from its hash), and the salt and
# digests the server draws for them afresh on every request.
_SECRET_INPUTS = frozenset({"pin", "salt", "token_digest"})
# Ids the server draws per request, by command: a retry brings different ones. Only these
# are left out. An id that names what the request acts on (the poll of a ballot, the
# participant removed, the device revoked) stays in, so a key reused for another target is
# a different request: ``conflict``, never the first request's outcome.
_GENERATED_BY: dict[str, frozenset[str]] = {
    "open_poll": frozenset({"poll_id"}),
    "open_prepared": frozenset({"poll_id"}),
    "enter_paper_result": frozenset({"poll_id"}),
    "annul_poll": frozenset({"new_poll_id"}),
    "prepare_poll": frozenset({"id"}),
    "prepare_series": frozenset({"series", "ids"}),
    "add_participants": frozenset({"ids"}),
    "add_agenda_item": frozenset({"id"}),
    "add_document": frozenset({"id", "record"}),
    "replace_document": frozenset({"id", "record"}),
    "pair_device": frozenset({"device_id"}),
}
