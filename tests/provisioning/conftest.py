"""Inputs as an IT person prepares them: an org key, a participant list, documents, a sitting file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from provisioning.crypto import generate_org_key

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
DEMO_DOCS = REPO / "appliance" / "demo"


@pytest.fixture
def org_key(tmp_path: Path) -> Path:
    path = tmp_path / "org.key"
    generate_org_key(path)
    return path


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "tai-lieu"
    folder.mkdir()
    for name in ("chuong-trinh-ky-hop.pdf", "bao-cao-kinh-te-xa-hoi-2026.pdf", "gop-y-du-thao-nghi-quyet.docx"):
        shutil.copy(DEMO_DOCS / name, folder / name)
    return folder


SITTING = {
    "body": "HĐND phường Thử nghiệm",
    "session": "Kỳ họp thứ nhất",
    "room": "Hội trường tầng 2",
    "sittings": [{"title": "Phiên họp thứ nhất", "date": "2026-12-10"}, {"title": "Phiên họp thứ hai", "date": "2026-12-11"}],
    "agenda": [
        {"title": "Khai mạc; chương trình kỳ họp", "documents": ["chuong-trinh-ky-hop.pdf"]},
        {"title": "Báo cáo kinh tế – xã hội năm 2026", "documents": ["bao-cao-kinh-te-xa-hoi-2026.pdf", "gop-y-du-thao-nghi-quyet.docx"]},
        {"title": "Bế mạc", "documents": []},
    ],
    "network": {"ssid": "HĐND Thử nghiệm", "passphrase": "mat-khau-wifi-2026", "channel": 11, "address": "10.42.0.1/24",
                "dhcp_start": "10.42.0.50", "dhcp_end": "10.42.0.200"},
    "upstream": {"endpoint": "https://luutru.example.vn", "bucket": "hdnd-luu-tru", "access_key": "AKIAEXAMPLE", "secret_key": "s3cr3t-upstream-key"},
    "admins": [{"username": "kythuat", "password": "mot-mat-khau-dai-2026"}],
}


@pytest.fixture
def sitting_file(tmp_path: Path) -> Path:
    path = tmp_path / "ky-hop.yaml"
    path.write_text(yaml.safe_dump(SITTING, allow_unicode=True), encoding="utf-8")
    return path
