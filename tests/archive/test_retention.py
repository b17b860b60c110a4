"""Retention: after a confirmed receipt and the configured days, the sitting's key is destroyed at start-up."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from appliance.archive.cli import main as archive_main
from appliance.archive.replay import read_rows, replay
from appliance.scenario.server import LocalAppliance
from appliance.store.keys import Keyring
from tests.archive.conftest import Finalised

DAY = 86400.0


def _with_receipt(finalised: Finalised, root: Path) -> tuple[Path, Path, float]:
    """A copy of the finalised sitting whose USB export the archive side confirmed."""
    data, keys = root / "data", root / "keys"
    shutil.copytree(finalised.data, data)
    shutil.copytree(finalised.keys, keys)
    common = ["--data", str(data), "--keys", str(keys)]
    assert archive_main(["export", finalised.sitting, "--to", str(root / "stick"), "--recipient", finalised.archive_public, *common]) == 0
    (archive,) = (root / "stick").glob("*.phsa")
    assert archive_main(["receipt", str(archive), "--key", str(finalised.archive_private), "--out", str(root / "r.json")]) == 0
    assert archive_main(["import-receipt", str(root / "r.json"), *common]) == 0
    ring = Keyring.open(keys, data, create=False)
    (receipt,) = replay(read_rows(data / "journal", ring.existing_key)).state.minutes[finalised.sitting].receipts
    return data, keys, receipt.at


def test_retention_counts_from_the_receipt_and_erases_when_the_box_starts(
    finalised: Finalised, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, keys, received = _with_receipt(finalised, tmp_path)
    capsys.readouterr()
    assert archive_main(["retention", "--data", str(data), "--keys", str(keys)]) == 0
    shown = json.loads(capsys.readouterr().out)
    (row,) = shown["sittings"]
    assert row["erase_after"] == received + 30 * DAY and row["erased"] is False and shown["due"] == []
    assert archive_main(["retention", "--apply", "--data", str(data), "--keys", str(keys)]) == 0  # nothing due yet
    assert not (data / "keys" / f"sitting-{finalised.sitting}.erased").exists()

    outbox = data / "archive" / "outbox"
    assert archive_main(["build", finalised.sitting, "--data", str(data), "--keys", str(keys), "--recipient",
                         finalised.archive_public, "--out", str(outbox / "waiting.phsa")]) == 0
    # Retention of zero days: the next start of `phs serve` shreds the sitting before it opens the data.
    monkeypatch.setenv("PHS_RETENTION_DAYS", "0")
    (tmp_path / "logs").mkdir()
    server = LocalAppliance(data, keys, tmp_path / "logs")

    async def start_and_stop() -> None:
        await server.start()
        await server.stop()

    asyncio.run(start_and_stop())
    assert (data / "keys" / f"sitting-{finalised.sitting}.erased").exists()
    assert list(outbox.iterdir()) == []  # its sealed archive left with it
    ring = Keyring.open(keys, data, create=False)
    rows = read_rows(data / "journal", ring.existing_key)
    shredded = [r for r in rows if r.key_id == f"sitting-{finalised.sitting}"]
    assert shredded and all(r.record is None for r in shredded)  # the sitting's records are noise now
    state = replay(rows).state
    assert state.minutes[finalised.sitting].receipts[0].target == "usb"  # the receipt itself stays readable
    capsys.readouterr()
    assert archive_main(["retention", "--data", str(data), "--keys", str(keys)]) == 0
    assert json.loads(capsys.readouterr().out)["sittings"][0]["erased"] is True
