"""`phs sync` against a real S3 HTTP endpoint (moto's server): resumable, checked, idempotent."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.archive.envelope import SealingWriter, generate_archive_keys
from appliance.core.settings import Settings
from appliance.sync import state as sync_state
from appliance.sync.rounds import sync_round
from tests.sync.conftest import S3Server

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = "ab" * 32


def make_archive(data: Path, size: int, sitting: str = "s1", manifest: str = MANIFEST) -> Path:
    """A sealed archive of ``size`` random bytes in the outbox (sync reads only its clear header)."""
    out = data / "archive" / "outbox" / f"{sitting}-{manifest[:16]}.phsa"
    out.parent.mkdir(parents=True, exist_ok=True)
    _, public = generate_archive_keys()
    header = {"format": "phs-archive-envelope/1", "sitting": sitting, "manifest_sha256": manifest, "manifest": {}}
    with out.open("wb") as fh:
        writer = SealingWriter(fh, header, public, Ed25519PrivateKey.generate())
        for _ in range(size // (1 << 20)):
            writer.write(secrets.token_bytes(1 << 20))
        writer.close()
    return out


def env_for(s3: S3Server, data: Path, bucket: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PHS_DATA_DIR=str(data), PHS_S3_ENDPOINT=s3.endpoint,
               PHS_S3_BUCKET=bucket, PHS_S3_ACCESS_KEY=s3.access_key, PHS_S3_SECRET_KEY=s3.secret_key,
               PHS_S3_PART_MB="5")
    return env | extra


def run_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance.sync.program", "--once"], env=env,
                          capture_output=True, text=True, timeout=120)


def saved(data: Path) -> dict[str, Any]:
    return next(iter(sync_state.load(data)["archives"].values()), {})


def multipart_etag(path: Path, part: int) -> str:
    md5s = []
    with path.open("rb") as fh:
        while chunk := fh.read(part):
            md5s.append(hashlib.md5(chunk).digest())
    return hashlib.md5(b"".join(md5s)).hexdigest() + f"-{len(md5s)}"


def test_upload_resumes_after_kill_and_a_second_run_sends_nothing(s3_server: S3Server, tmp_path: Path) -> None:
    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="resume")
    data = tmp_path / "data"
    archive = make_archive(data, 30 << 20)
    env = env_for(s3_server, data, "resume", PHS_S3_MAX_KBPS="15000")  # ~0.35 s a part: time to cut power
    proc = subprocess.Popen([sys.executable, "-m", "appliance.sync.program", "--once"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(saved(data).get("parts", [])) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # the power cut, mid-multipart
    proc.wait()
    cut = saved(data)
    assert cut["state"] == "uploading" and 2 <= len(cut["parts"]) < 6
    first_upload = cut["upload_id"]
    done = run_once(env_for(s3_server, data, "resume"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming upload" in done.stderr and "starting over" not in done.stderr
    entry = saved(data)
    assert entry["state"] == "uploaded"  # no server to take the receipt: it stays pending
    objects = s3.list_objects_v2(Bucket="resume")["Contents"]
    assert [o["Key"] for o in objects] == [f"phs/s1/{MANIFEST}.phsa"]
    head = s3.head_object(Bucket="resume", Key=objects[0]["Key"])
    assert head["ETag"].strip('"') == multipart_etag(archive, 5 << 20)
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert head["Metadata"]["sha256"] == sha and entry["receipt"]["checksum"] == f"sha256:{sha}"
    assert s3.get_object(Bucket="resume", Key=objects[0]["Key"])["Body"].read() == archive.read_bytes()
    assert s3.list_multipart_uploads(Bucket="resume").get("Uploads", []) == []  # the first upload was finished, not abandoned
    assert first_upload
    # A second run, even with its state lost, finds the manifest upstream and sends nothing.
    sync_state.state_path(data).unlink()
    again = run_once(env_for(s3_server, data, "resume"))
    assert again.returncode == 0 and "archive already upstream" in again.stderr
    assert "archive uploaded" not in again.stderr
    assert s3.head_object(Bucket="resume", Key=objects[0]["Key"])["LastModified"] == head["LastModified"]


def test_wrong_credentials_and_missing_bucket_are_clear_and_record_no_receipt(s3_server: S3Server, tmp_path: Path) -> None:
    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="creds")
    data = tmp_path / "data"
    make_archive(data, 1 << 20)
    wrong = run_once(env_for(s3_server, data, "creds", PHS_S3_SECRET_KEY="not-the-secret"))
    assert wrong.returncode == 1
    assert saved(data)["error"] == "credentials" and "receipt" not in saved(data)
    assert "credentials" in wrong.stderr and "not-the-secret" not in wrong.stderr
    missing = run_once(env_for(s3_server, data, "no-such-bucket"))
    assert missing.returncode == 1
    assert saved(data)["error"] == "bucket_missing" and "receipt" not in saved(data)
    assert "does not exist" in missing.stderr
    assert s3.list_objects_v2(Bucket="creds").get("KeyCount") == 0


def test_receipt_is_reported_with_key_and_checksum(s3_server: S3Server, tmp_path: Path) -> None:
    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="receipts")
    data = tmp_path / "data"
    archive = make_archive(data, 2 << 20, sitting="s7")
    settings = Settings(data_dir=data, s3_endpoint=s3_server.endpoint, s3_bucket="receipts",
                        s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key)
    sent: list[dict[str, Any]] = []
    down = sync_round(settings, report=lambda s, body: False)  # the server is away: kept pending
    assert down["shipped"] == 1 and saved(data)["state"] == "uploaded"
    up = sync_round(settings, report=lambda s, body: sent.append(body) or True)
    assert up["shipped"] == 0 and up["reported"] == 1 and saved(data)["state"] == "reported"
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert sent == [{"sitting_id": "s7", "manifest_sha256": MANIFEST, "target": "s3",
                     "key": f"phs/s7/{MANIFEST}.phsa", "checksum": f"sha256:{sha}"}]
    assert json.loads(sync_state.state_path(data).read_text())["version"] == 1


async def test_sync_waits_for_the_uplink_then_ships(s3_server: S3Server, tmp_path: Path) -> None:
    import asyncio

    from appliance.sync.program import run

    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="uplink")
    data = tmp_path / "data"
    make_archive(data, 1 << 20, sitting="s9")
    settings = Settings(data_dir=data, s3_endpoint=s3_server.endpoint, s3_bucket="uplink",
                        s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key)
    up = asyncio.Event()
    stop = asyncio.Event()
    checks: list[bool] = []

    def uplink() -> bool:
        checks.append(up.is_set())
        return up.is_set()

    # The endpoint counts as a city data centre reached over the uplink, not the hall's network.
    task = asyncio.create_task(run(data, stop=stop, interval=0.05, uplink=uplink, settings=settings,
                                   on_hall_network=lambda s: False))
    while len(checks) < 5:
        await asyncio.sleep(0.02)
    assert s3.list_objects_v2(Bucket="uplink").get("KeyCount") == 0
    waiting = sync_state.load(data)
    assert waiting["uplink"]["up"] is False and waiting["archives"] == {}  # not even tried: no errors while waiting
    assert "last_round" not in waiting
    up.set()
    deadline = time.monotonic() + 30
    while s3.list_objects_v2(Bucket="uplink").get("KeyCount") == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    assert await task == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="uplink")["Contents"]] == [f"phs/s9/{MANIFEST}.phsa"]
    assert saved(data)["state"] == "uploaded"
    after = sync_state.load(data)
    assert after["uplink"]["up"] is True
    assert {k: after["last_round"][k] for k in ("shipped", "reported", "errors")} == {"shipped": 1, "reported": 0, "errors": []}


def test_a_checksum_that_does_not_match_the_file_never_completes_an_object(s3_server: S3Server, tmp_path: Path) -> None:
    s3: Any = s3_server.client()
    s3.create_bucket(Bucket="sidecar")
    data = tmp_path / "data"
    archive = make_archive(data, 6 << 20, sitting="s5")
    sidecar = archive.with_name(archive.name + ".sha256")
    settings = Settings(data_dir=data, s3_endpoint=s3_server.endpoint, s3_bucket="sidecar", s3_part_mb=5,
                        s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key)
    sidecar.write_text("0" * 64 + "\n")  # what the server wrote no longer matches what is on disk
    bad = sync_round(settings, report=lambda s, body: True)
    assert bad["errors"] == ["checksum"] and bad["reported"] == 0
    assert saved(data)["state"] == "failed" and "receipt" not in saved(data)
    assert s3.list_objects_v2(Bucket="sidecar").get("KeyCount") == 0
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    sidecar.write_text(sha + "\n")  # the true checksum: the next round resumes and completes
    good = sync_round(settings, report=lambda s, body: True)
    assert (good["shipped"], good["reported"], good["errors"]) == (1, 1, [])
    (obj,) = s3.list_objects_v2(Bucket="sidecar")["Contents"]
    assert s3.head_object(Bucket="sidecar", Key=obj["Key"])["Metadata"]["sha256"] == sha
    assert s3.list_multipart_uploads(Bucket="sidecar").get("Uploads", []) == []  # the upload begun for the lie was aborted
