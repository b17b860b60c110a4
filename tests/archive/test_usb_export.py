"""USB export through ``phs devices``: the sealed archive goes out on a stick, the receipt comes back.

The real server (``phs serve``) runs on a copy of a finalised sitting; the stick is a
folder behind the faked ``Mounter`` edge, everything else is the real handler talking
to the real local socket.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from appliance.archive.cli import main as archive_main
from appliance.archive.envelope import read_header
from appliance.archive.replay import read_rows, replay
from appliance.devices.local_api import local_socket_path
from appliance.devices.usb_archive import ARCHIVE_DIR
from appliance.devices.usb_storage import HttpHandover, StickHandler
from appliance.devices.watcher import Change, Device
from appliance.scenario.server import LocalAppliance
from appliance.store.keys import Keyring
from tests.archive.conftest import Finalised
from tests.provisioning.test_usb import FakeMounter


def _plug(handler: StickHandler) -> dict[str, Any]:
    handler.on_change(Change("add", Device("storage", "ARCHIVE", "/dev/sdz1")))
    return handler.archive_outcomes[-1]


async def test_archive_goes_out_on_a_stick_and_its_receipt_comes_back(finalised: Finalised, tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "keys"
    shutil.copytree(finalised.data, data)
    shutil.copytree(finalised.keys, keys)
    outbox = data / "archive" / "outbox"
    built = outbox / f"{finalised.sitting}-built.phsa"
    assert archive_main(["build", finalised.sitting, "--data", str(data), "--keys", str(keys), "--out", str(built),
                         "--recipient", finalised.archive_public]) == 0
    manifest = read_header(built)["manifest_sha256"]
    stick = tmp_path / "stick"
    (stick / ARCHIVE_DIR).mkdir(parents=True)
    (tmp_path / "logs").mkdir()
    server = LocalAppliance(data, keys, tmp_path / "logs")
    await server.start()
    try:
        handler = StickHandler(HttpHandover(socket=local_socket_path(data)), tmp_path / "media", FakeMounter(stick, True))
        # 1. A write-protected stick takes nothing; 2. a writable one takes the sealed archive.
        handler.mounter = FakeMounter(stick, False)
        refused = await asyncio.to_thread(_plug, handler)
        assert refused == {"receipts": [], "exported": [], "kept": [], "error": "write_protected"}
        handler.mounter = FakeMounter(stick, True)
        first = await asyncio.to_thread(_plug, handler)
        assert first == {"receipts": [], "exported": [built.name], "kept": []}
        copied = stick / ARCHIVE_DIR / built.name
        assert copied.read_bytes() == built.read_bytes()
        assert sorted(p.name for p in (stick / ARCHIVE_DIR).iterdir()) == [built.name]  # no part file left
        # 3. The archive side verifies it and writes the receipt; a forged one rides along.
        receipts = stick / ARCHIVE_DIR / "receipts"
        receipts.mkdir()
        assert archive_main(["receipt", str(copied), "--key", str(finalised.archive_private),
                             "--out", str(receipts / "a-real.json")]) == 0
        forged = json.loads((receipts / "a-real.json").read_text()) | {"mac": "0" * 64}
        (receipts / "b-forged.json").write_text(json.dumps(forged))
        # 4. Plugged in again: the real receipt is recorded, the forged one refused, nothing re-copied.
        second = await asyncio.to_thread(_plug, handler)
        assert second == {
            "receipts": [{"file": "a-real.json", "ok": True, "sitting_id": finalised.sitting},
                         {"file": "b-forged.json", "ok": False, "code": "forbidden"}],
            "exported": [], "kept": [],
        }
        third = await asyncio.to_thread(_plug, handler)  # the same receipt again: recorded once
        assert third["receipts"][0]["ok"] is True and third["exported"] == []
    finally:
        await server.stop()
    ring = Keyring.open(keys, data, create=False)
    book = replay(read_rows(data / "journal", ring.existing_key)).state.minutes[finalised.sitting]
    assert [(r.target, r.manifest_sha256, r.key) for r in book.receipts] == [("usb", manifest, built.name)]
