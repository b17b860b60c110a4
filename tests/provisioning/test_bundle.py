"""Building, inspecting and verifying bundles without a box: the IT laptop's side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from provisioning.cli import main as provision_main
from provisioning.crypto import load_org_key, raw_public
from provisioning.reader import read_bundle, read_bundle_file
from tests.provisioning.conftest import FIXTURES
from tests.provisioning.crafting import bad_bundles


def build(tmp_path: Path, key: Path, sitting: Path, docs: Path, roster: Path = FIXTURES / "dai-bieu.csv", *extra: str) -> Path:
    out = tmp_path / "ky-hop.phsb"
    code = provision_main(["build", "--key", str(key), "--config", str(sitting), "--participants", str(roster), "--documents", str(docs), "-o", str(out), *extra])
    assert code == 0
    return out


@pytest.fixture
def plain_sitting(tmp_path: Path) -> Path:
    """A sitting file without secrets (no box enrolment needed)."""
    import yaml

    from tests.provisioning.conftest import SITTING

    path = tmp_path / "plain.yaml"
    plain = {k: v for k, v in SITTING.items() if k not in ("network", "upstream")}
    path.write_text(yaml.safe_dump(plain, allow_unicode=True), encoding="utf-8")
    return path


def test_build_then_inspect_shows_the_sitting(tmp_path: Path, org_key: Path, plain_sitting: Path, documents: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = build(tmp_path, org_key, plain_sitting, documents)
    capsys.readouterr()
    assert provision_main(["inspect", "--json", str(bundle)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"] == {"participants": 7, "seats": 5, "agenda": 3, "documents": 3}
    assert info["signer"] == json.loads(Path(f"{org_key}.pub").read_text())["fingerprint"]
    verified = read_bundle_file(bundle)
    assert [i["title"] for i in verified.json("agenda.json")] == ["Khai mạc; chương trình kỳ họp", "Báo cáo kinh tế – xã hội năm 2026", "Bế mạc"]
    assert [d["pages"] for d in verified.json("agenda.json")[1]["documents"]] == [2, 1]
    assert verified.json("admins.json")[0]["password"]["alg"] == "scrypt"
    assert b"mot-mat-khau-dai-2026" not in bundle.read_bytes()


def test_secrets_need_the_box_enrolment(tmp_path: Path, org_key: Path, sitting_file: Path, documents: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.phsb"
    code = provision_main(["build", "--key", str(org_key), "--config", str(sitting_file), "--participants", str(FIXTURES / "dai-bieu.csv"), "--documents", str(documents), "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "the Wi-Fi passphrase needs the box's enrol.json (--box)" in err
    assert "upstream credentials needs the box's enrol.json" in err
    assert not out.exists()


def test_a_list_with_errors_is_reported_by_line_and_nothing_is_written(tmp_path: Path, org_key: Path, plain_sitting: Path, documents: Path) -> None:
    out = tmp_path / "loi.phsb"
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "provision", "build", "--key", str(org_key), "--config", str(plain_sitting),
         "--participants", str(FIXTURES / "dai-bieu-loi.csv"), "--documents", str(documents), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 1
    assert "5 problem(s), nothing written" in run.stderr
    for line in ("line 4: thiếu họ và tên", "line 5: ghế 2 đã dùng ở dòng 3", "line 6: trùng với dòng 3", "line 7: số ghế 'ghế năm'"):
        assert line in run.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_every_bad_bundle_is_refused_with_its_code(tmp_path: Path, org_key: Path, plain_sitting: Path, documents: Path) -> None:
    valid = build(tmp_path, org_key, plain_sitting, documents).read_bytes()
    trusted = raw_public(load_org_key(org_key).public_key())
    assert read_bundle(valid, trusted=trusted).manifest["body"] == "HĐND phường Thử nghiệm"
    for name, (data, code) in bad_bundles(valid, org_key).items():
        with pytest.raises(PhsError) as refused:
            read_bundle(data, trusted=trusted)
        assert refused.value.code == code, name
        assert refused.value.message and refused.value.message_en


def test_a_document_that_is_not_one_is_caught_at_build(tmp_path: Path, org_key: Path, plain_sitting: Path, documents: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (documents / "chuong-trinh-ky-hop.pdf").write_bytes(b"%PDF-1.7 this is not really a PDF")
    code = provision_main(["build", "--key", str(org_key), "--config", str(plain_sitting), "--participants", str(FIXTURES / "dai-bieu.csv"), "--documents", str(documents), "-o", str(tmp_path / "y.phsb")])
    assert code == 1
    assert "document 'chuong-trinh-ky-hop.pdf'" in capsys.readouterr().err
