"""Benchmark: sealing a sitting's archive and shipping it to S3, beside a plain boto3 upload.

Builds a sitting in-process (the real Appliance, the real journal and blob store) with
``--mb`` of synthetic PDF documents (random attachments, so nothing compresses), closes
and finalises it, then measures on one machine in one run:
- ``phs archive build`` throughput (journal replay, blob reads, tar, AES-GCM envelope);
- ``phs sync``'s upload (multipart, Content-MD5, ETag check) to a moto S3 server on loopback;
- boto3's own ``upload_file`` of the same bytes to the same server (the reference).
Uploads alternate (``--rounds``, medians compared) so load from elsewhere hits both alike.

Usage: .venv/bin/python bench/bench_archive.py [--mb 200] [--part-mb 8] [--dir PATH]
Ends with one JSON line: {"bench": "archive", "figures": {...}}; target: upload ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402
import httpx  # noqa: E402
import pymupdf  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402

from appliance.archive.after_sitting import finalise, seal_for_upstream  # noqa: E402
from appliance.archive.envelope import generate_archive_keys  # noqa: E402
from appliance.core.settings import Settings  # noqa: E402
from appliance.meeting.decide import Command  # noqa: E402
from appliance.web.service import SYSTEM, Appliance  # noqa: E402

DOC_MB = 10


def synthetic_pdf(mb: int) -> bytes:
    """A one-page PDF carrying ``mb`` MiB of random bytes as an attachment."""
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Tài liệu thử nghiệm")
    doc.embfile_add("data.bin", secrets.token_bytes(mb << 20))
    return bytes(doc.tobytes())


async def make_sitting(data: Path, keys: Path, mb: int) -> str:
    app = Appliance(Settings(data_dir=data, keys_dir=keys, snapshot_every=10**6))
    await app.start()
    try:
        await app.execute(SYSTEM, Command("setup", {"body": "HĐND phường Thử", "session": "Kỳ họp", "sittings": ["Phiên 1"]}))
        await app.execute(SYSTEM, Command("add_participants", {"participants": [{"name": f"Đại biểu {i}", "role": "chair" if i == 0 else "delegate", "seat": i + 1} for i in range(6)] + [{"name": "Thư ký", "role": "secretary"}], "ids": [f"p{i}" for i in range(7)]}))
        await app.execute(SYSTEM, Command("add_agenda_item", {"title": "Mục 1", "id": "i1"}))
        for n in range(mb // DOC_MB):
            blob = app.blobs.put(synthetic_pdf(DOC_MB))
            record = {"title": f"Tài liệu {n}", "page_count": 1, "sizes": [[595, 842]], "page_blobs": {}, "original_blob": blob, "text_blob": None}
            await app.execute(SYSTEM, Command("add_document", {"id": f"doc{n:03d}", "item": 1, "access": "delegates", "filename": f"t{n}.pdf", "record": record}))
        sid = app.state.sittings[0].id
        await app.execute(SYSTEM, Command("open_sitting", {}))
        await app.execute(SYSTEM, Command("close_sitting", {}))
        await finalise(app, SYSTEM, sid, "bench")
        return sid
    finally:
        await app.stop()


def moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, url


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--part-mb", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5, help="uploads of each kind, alternating; medians are compared")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(dir=args.dir))
    data, keys = root / "data", root / "keys"
    try:
        sid = asyncio.run(make_sitting(data, keys, min(args.mb, 1000)))
        from appliance.store.keys import Keyring

        ring = Keyring.open(keys, data, create=False)
        _, public = generate_archive_keys()
        t0 = time.perf_counter()
        built = seal_for_upstream(data, ring, sid, public)  # what finalising does: build into the outbox
        build_s = time.perf_counter() - t0
        out = Path(built["path"])
        size_mb = built["size"] / (1 << 20)
        proc, url = moto()
        try:
            s3: Any = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
            s3.create_bucket(Bucket="ours")
            s3.create_bucket(Bucket="plain")
            from appliance.sync import state as sync_state
            from appliance.sync.rounds import sync_round

            settings = Settings(data_dir=data, s3_endpoint=url, s3_bucket="ours", s3_access_key="x", s3_secret_key="x", s3_part_mb=args.part_mb)
            config = TransferConfig(multipart_chunksize=args.part_mb << 20, multipart_threshold=args.part_mb << 20)
            ours, plain = [], []
            for _ in range(args.rounds):  # alternate, so a busy neighbour on the machine hits both alike
                for obj in s3.list_objects_v2(Bucket="ours").get("Contents", []):
                    s3.delete_object(Bucket="ours", Key=obj["Key"])
                sync_state.state_path(data).unlink(missing_ok=True)
                t0 = time.perf_counter()
                summary = sync_round(settings, report=lambda s, b: True)
                ours.append(time.perf_counter() - t0)
                assert summary["shipped"] == 1, summary
                t0 = time.perf_counter()
                s3.upload_file(str(out), "plain", "bench.phsa", Config=config)
                plain.append(time.perf_counter() - t0)
                s3.delete_object(Bucket="plain", Key="bench.phsa")
            ours_s, plain_s = statistics.median(ours), statistics.median(plain)
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures = {
        "documents_mb": args.mb, "archive_mb": round(size_mb, 1), "part_mb": args.part_mb,
        "build_s": round(build_s, 2), "build_mb_s": round(size_mb / build_s, 1),
        "sync_upload_s": round(ours_s, 2), "sync_mb_s": round(size_mb / ours_s, 1),
        "boto3_upload_s": round(plain_s, 2), "boto3_mb_s": round(size_mb / plain_s, 1),
        "upload_ratio": round(plain_s / ours_s, 2), "rounds": args.rounds,
        "sync_runs_s": [round(x, 2) for x in ours], "boto3_runs_s": [round(x, 2) for x in plain],
    }
    print(f"archive build: {size_mb:.1f} MiB in {build_s:.2f} s ({figures['build_mb_s']} MiB/s)")
    print(f"phs sync upload: {ours_s:.2f} s ({figures['sync_mb_s']} MiB/s); boto3 upload_file: {plain_s:.2f} s ({figures['boto3_mb_s']} MiB/s)")
    print(f"ratio (ours/plain throughput): {figures['upload_ratio']} (target >= 0.8)")
    print(json.dumps({"bench": "archive", "figures": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
