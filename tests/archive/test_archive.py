"""Sealed archives: deterministic content, only the archive key opens them, every modified byte is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from appliance.archive import check, envelope
from appliance.archive.cli import main as archive_main
from tests.archive.conftest import Finalised


@pytest.fixture(scope="module")
def built(finalised: Finalised, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("built")
    paths = []
    for name in ("a.phsa", "b.phsa"):
        argv = ["build", finalised.sitting, "--data", str(finalised.data), "--keys", str(finalised.keys),
                "--out", str(out / name), "--recipient", finalised.archive_public]
        assert archive_main(argv) == 0
        paths.append(out / name)
    return paths[0], paths[1]


def _parts(path: Path, f: Finalised) -> dict[str, tuple[int, int]]:
    """Plaintext (offset, size) of each tar member, to know where each part's bytes sit."""
    private = envelope.load_private(f.archive_private)
    plain = b"".join(envelope.decrypt(path, private))
    out = {}
    import io

    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        for info in tar.getmembers():
            out[info.name] = (info.offset_data, info.size)
    return out


def test_same_sitting_same_manifest_different_envelope(built: tuple[Path, Path], finalised: Finalised) -> None:
    a, b = built
    ha, hb = envelope.read_header(a), envelope.read_header(b)
    assert ha["manifest_sha256"] == hb["manifest_sha256"]
    assert a.read_bytes() != b.read_bytes()
    private = envelope.load_private(finalised.archive_private)
    assert b"".join(envelope.decrypt(a, private)) == b"".join(envelope.decrypt(b, private))
    paths = [p["path"] for p in ha["manifest"]["parts"]]
    assert paths == sorted(paths)
    assert {"journal/records.jsonl", "minutes/minutes.pdf", "minutes/minutes.docx", "minutes/minutes.pdf.sig",
            "results/polls.json"} <= set(paths)


def test_verify_with_and_without_the_archive_key(built: tuple[Path, Path], finalised: Finalised) -> None:
    a, _ = built
    outer = check.verify_file(a)
    assert outer["ok"] and not outer["opened"]
    full = check.verify_file(a, envelope.load_private(finalised.archive_private))
    assert full["ok"] and full["opened"], full["problems"]
    assert archive_main(["verify", str(a), "--key", str(finalised.archive_private)]) == 0
    other, _ = envelope.generate_archive_keys()
    wrong = a.parent / "wrong.key"
    wrong.write_text(other.hex())
    refused = check.verify_file(a, envelope.load_private(wrong))
    assert not refused["ok"] and any("another archive key" in p for p in refused["problems"])


def test_a_modified_byte_in_any_sealed_part_fails_verification(built: tuple[Path, Path], finalised: Finalised, tmp_path: Path) -> None:
    a, _ = built
    private = envelope.load_private(finalised.archive_private)
    header = envelope.read_header(a)
    start = len(envelope.MAGIC) + 4 + len(envelope.canonical(header))
    chunk = header["chunk"]
    for name, (offset, size) in _parts(a, finalised).items():
        target = offset + size // 2  # a byte inside this part
        index, inside = divmod(target, chunk)
        at = start + index * (chunk + 16 + 4) + 4 + inside
        bad = tmp_path / f"bad-{name.replace('/', '_')}"
        data = bytearray(a.read_bytes())
        data[at] ^= 0x01
        bad.write_bytes(bytes(data))
        report = check.verify_file(bad, private)
        assert not report["ok"], name
        assert archive_main(["verify", str(bad), "--key", str(finalised.archive_private)]) == 1, name
        assert any("signature" in p for p in report["problems"]), (name, report["problems"])
        assert any(f"chunk {index}" in p for p in report["problems"]), (name, report["problems"])


def test_a_modified_byte_in_each_opened_part_is_named(built: tuple[Path, Path], finalised: Finalised, tmp_path: Path) -> None:
    a, _ = built
    opened = tmp_path / "opened"
    assert archive_main(["open", str(a), "--key", str(finalised.archive_private), "--out", str(opened)]) == 0
    pinned = envelope.read_header(a)["manifest_sha256"]
    assert check.verify_dir(opened, manifest_sha256=pinned)["ok"]
    names = sorted(str(p.relative_to(opened)) for p in opened.rglob("*") if p.is_file())
    assert {"manifest.json", "journal/records.jsonl", "minutes/minutes.pdf", "results/polls.json"} <= set(names)
    assert finalised.answers.get("upload") in (None, 200)
    assert finalised.answers.get("upload") is None or any(n.startswith("documents/") for n in names)
    for name in names:
        copy = tmp_path / f"copy-{name.replace('/', '_')}"
        shutil.copytree(opened, copy)
        path = copy / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x20
        path.write_bytes(bytes(data))
        report = check.verify_dir(copy, manifest_sha256=pinned)
        assert not report["ok"], name
        assert any(p.startswith(name) for p in report["problems"]), (name, report["problems"])


def test_usb_export_and_receipt_round_trip(finalised: Finalised, tmp_path: Path) -> None:
    # On a copy: the receipt recorded here must not confirm the shared sitting for other tests.
    data, keys = tmp_path / "data", tmp_path / "keys"
    shutil.copytree(finalised.data, data)
    shutil.copytree(finalised.keys, keys)
    stick = tmp_path / "stick"
    common = ["--data", str(data), "--keys", str(keys)]
    assert archive_main(["export", finalised.sitting, "--to", str(stick), "--recipient", finalised.archive_public, *common]) == 0
    (archive,) = stick.glob("*.phsa")
    receipt = tmp_path / "receipt.json"
    assert archive_main(["receipt", str(archive), "--key", str(finalised.archive_private), "--out", str(receipt)]) == 0
    forged = json.loads(receipt.read_text()) | {"mac": "0" * 64}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert archive_main(["import-receipt", str(tmp_path / "forged.json"), *common]) == 1
    assert archive_main(["import-receipt", str(receipt), *common]) == 0
    from appliance.archive.replay import read_rows, replay
    from appliance.store.keys import Keyring

    ring = Keyring.open(keys, data, create=False)
    book = replay(read_rows(data / "journal", ring.existing_key)).state.minutes[finalised.sitting]
    assert [r.target for r in book.receipts] == ["usb"]
    assert book.receipts[0].manifest_sha256 == envelope.read_header(archive)["manifest_sha256"]


def test_queue_seals_into_the_outbox_with_its_checksum(finalised: Finalised, tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "keys"
    shutil.copytree(finalised.data, data)
    shutil.copytree(finalised.keys, keys)
    assert archive_main(["queue", finalised.sitting, "--recipient", finalised.archive_public,
                         "--data", str(data), "--keys", str(keys)]) == 0
    (queued,) = (data / "archive" / "outbox").glob("*.phsa")
    manifest = envelope.read_header(queued)["manifest_sha256"]
    assert queued.name == f"{finalised.sitting}-{manifest[:16]}.phsa"
    sidecar = queued.with_name(queued.name + ".sha256").read_text().strip()
    assert sidecar == hashlib.sha256(queued.read_bytes()).hexdigest()
