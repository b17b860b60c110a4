"""Ship one sealed archive to an S3-compatible store: resumable, checked, idempotent.

- Idempotent: the object key names the manifest hash, and a HEAD first finds an archive
  already upstream with the same manifest (metadata ``manifest-sha256``): nothing is sent.
- Resumable: the upload id and every completed part are saved after each part; after a
  power cut the store's own list of parts is trusted over ours, and only missing or
  different parts are sent again.
- Checked: each part carries Content-MD5 (the store refuses a damaged part) and the
  finished object's ETag must equal the multipart ETag computed here; the whole file's
  SHA-256 (from the sidecar the server wrote when it sealed the archive, else a first
  pass) goes in the metadata and the receipt, and is computed again over the bytes read
  for the parts: a mismatch never completes the upload.
- Bounded: each request is retried a few times with backoff; credentials and a missing
  bucket are not retried but reported as what they are.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from appliance.archive.envelope import read_header
from appliance.core.settings import Settings

log = logging.getLogger("appliance.sync")

MIN_PART = 5 * 1024 * 1024
ATTEMPTS = 5
WORKERS = 4  # parts in flight at once: enough to fill a LAN or a city uplink, little memory
CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidToken"}


class SyncError(Exception):
    """A failure a person must fix (``credentials``, ``bucket_missing``, ``checksum``) or an uplink gone."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def client(settings: Settings) -> Any:
    """A boto3 client for the configured endpoint; nothing here knows which S3 it is."""
    config = Config(
        region_name=settings.s3_region,
        retries={"max_attempts": 1, "mode": "standard"},  # our own bounded retries below
        connect_timeout=5,
        read_timeout=60,
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        aws_access_key_id=settings.s3_access_key or None,
        aws_secret_access_key=settings.s3_secret_key or None,
        config=config,
    )


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _permanent(err: ClientError) -> SyncError | None:
    code = _code(err)
    if code in CREDENTIAL_CODES:
        return SyncError("credentials", f"the store refused the credentials ({code})")
    if code == "NoSuchBucket":
        return SyncError("bucket_missing", "the bucket does not exist")
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if 400 <= status < 500 and code not in ("RequestTimeout", "SlowDown", "NoSuchUpload"):
        return SyncError("refused", f"the store refused the request ({code})")
    return None


def retry(what: str, fn: Callable[[], Any], *, attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run ``fn``; retry transient failures with exponential backoff, raise the rest at once."""
    for attempt in range(attempts):
        try:
            return fn()
        except ClientError as err:
            permanent = _permanent(err)
            if permanent is not None or _code(err) == "NoSuchUpload":
                raise permanent or err from None
            problem = _code(err)
        except (BotoCoreError, OSError) as err:
            problem = type(err).__name__
        if attempt + 1 < attempts:
            delay = min(8.0, 0.5 * 2**attempt)
            log.warning("s3 request failed, retrying", extra={"what": what, "error": problem, "in_s": delay})
            sleep(delay)
    raise SyncError("unreachable", f"{what} failed {attempts} times ({problem})")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def known_sha256(path: Path) -> str | None:
    """The SHA-256 the server wrote beside the archive when it sealed it (checked again while uploading)."""
    try:
        text = Path(path).with_name(Path(path).name + ".sha256").read_text().strip()
    except OSError:
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def object_key(settings: Settings, sitting: str, manifest: str) -> str:
    """Where an archive lives upstream: one key per content, whatever envelope carried it."""
    return f"{settings.s3_prefix}{sitting}/{manifest}.phsa"


class Shipper:
    """Uploads archives for one settings; ``entry`` is the archive's record in the sync state."""

    def __init__(self, settings: Settings, save: Callable[[], None], *, s3: Any = None, max_kbps: float = 0.0,
                 workers: int = WORKERS) -> None:
        self.settings, self.save = settings, save
        self.s3 = s3 or client(settings)
        self.workers = max(1, workers)
        self.part_size = max(MIN_PART, settings.s3_part_mb * 1024 * 1024)
        self.max_kbps = max_kbps

    def check_bucket(self) -> None:
        """A clear error for a missing bucket or refused credentials before any upload starts."""
        try:
            self.s3.head_bucket(Bucket=self.settings.s3_bucket)
        except ClientError as err:
            code, status = _code(err), int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if status == 404 or code in ("NoSuchBucket", "404"):
                raise SyncError("bucket_missing", f"the bucket {self.settings.s3_bucket!r} does not exist") from None
            if status == 403 or code in CREDENTIAL_CODES:
                raise SyncError("credentials", f"the store refused the credentials ({code or status})") from None
            raise SyncError("refused", f"the store refused the bucket check ({code})") from None
        except (BotoCoreError, OSError) as err:
            raise SyncError("unreachable", f"the store is not reachable ({type(err).__name__})") from None

    def already_there(self, key: str, manifest: str) -> dict[str, Any] | None:
        """HEAD the object: its metadata if it holds this manifest, else None."""
        try:
            head = self.s3.head_object(Bucket=self.settings.s3_bucket, Key=key)
        except ClientError as err:
            if int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) == 404:
                return None
            raise _permanent(err) or SyncError("unreachable", f"HEAD failed ({_code(err)})") from None
        except (BotoCoreError, OSError) as err:
            raise SyncError("unreachable", f"the store is not reachable ({type(err).__name__})") from None
        meta = head.get("Metadata", {})
        return dict(head) if meta.get("manifest-sha256") == manifest else None

    def ship(self, path: Path, entry: dict[str, Any]) -> dict[str, Any]:
        """Upload ``path`` (resuming from ``entry``); returns ``{"key", "checksum", "etag"}``."""
        header = read_header(path)
        sitting, manifest = str(header["sitting"]), str(header["manifest_sha256"])
        key = object_key(self.settings, sitting, manifest)
        entry.update(sitting=sitting, manifest_sha256=manifest, key=key, size=Path(path).stat().st_size)
        found = self.already_there(key, manifest)
        if found is not None:
            entry.update(state="uploaded", upload_id=None, parts=[], sent_bytes=entry["size"])
            sha = found.get("Metadata", {}).get("sha256", "")
            log.info("archive already upstream", extra={"event": "sync_present", "manifest": manifest[:16]})
            return {"key": key, "checksum": f"sha256:{sha}", "etag": str(found.get("ETag", "")).strip('"'), "sent": False}
        sha = known_sha256(path) or file_sha256(path)
        upload_id = self._resume_or_start(entry, key, manifest, sitting, sha)
        md5s, read_sha = self._send_parts(path, entry, key, upload_id)
        if read_sha != sha:  # the file changed, or its sidecar lies: never complete a wrong object
            entry.update(state="failed", error="checksum")
            raise SyncError("checksum", "the archive on disk does not match its checksum")
        parts = [{"PartNumber": p["n"], "ETag": p["etag"]} for p in sorted(entry["parts"], key=lambda p: p["n"])]
        retry("complete", lambda: self.s3.complete_multipart_upload(
            Bucket=self.settings.s3_bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}))
        expected = hashlib.md5(b"".join(md5s), usedforsecurity=False).hexdigest() + f"-{len(md5s)}"
        head = retry("head", lambda: self.s3.head_object(Bucket=self.settings.s3_bucket, Key=key))
        etag = str(head.get("ETag", "")).strip('"')
        # Stores that encrypt at rest (SSE-KMS, some Ceph set-ups) give ETags that are not MD5s;
        # there the parts' Content-MD5, which the store checked, and the size must do.
        md5_style = bool(re.fullmatch(r"[0-9a-f]{32}-\d+", etag))
        if (md5_style and etag != expected) or head.get("ContentLength") != entry["size"]:
            entry.update(state="failed", error="checksum")
            raise SyncError("checksum", "the stored object does not match what was sent")
        entry.update(state="uploaded", upload_id=None, sent_bytes=entry["size"])
        self.save()
        log.info("archive uploaded", extra={"event": "sync_uploaded", "manifest": manifest[:16], "bytes": entry["size"]})
        return {"key": key, "checksum": f"sha256:{sha}", "etag": etag, "sent": True}

    def _resume_or_start(self, entry: dict[str, Any], key: str, manifest: str, sitting: str, sha: str) -> str:
        upload_id = entry.get("upload_id")
        if upload_id and entry.get("sha256", sha) != sha:  # begun for other bytes: its metadata would lie
            with contextlib.suppress(ClientError, BotoCoreError, OSError):
                self.s3.abort_multipart_upload(Bucket=self.settings.s3_bucket, Key=key, UploadId=upload_id)
            upload_id = None
        if upload_id and entry.get("key") == key:
            try:
                listed = retry("list parts", lambda: self.s3.list_parts(Bucket=self.settings.s3_bucket, Key=key, UploadId=upload_id))
                upstream = {int(p["PartNumber"]): str(p["ETag"]) for p in listed.get("Parts", [])}
                entry["parts"] = [p for p in entry.get("parts", []) if upstream.get(p["n"]) == p["etag"]]
                log.info("resuming upload", extra={"event": "sync_resume", "parts_done": len(entry["parts"])})
                return str(upload_id)
            except ClientError:  # NoSuchUpload: it expired or was aborted upstream
                log.warning("upload gone upstream, starting over", extra={"event": "sync_restart"})
        made = retry("create upload", lambda: self.s3.create_multipart_upload(
            Bucket=self.settings.s3_bucket, Key=key, ContentType="application/octet-stream",
            Metadata={"manifest-sha256": manifest, "sitting": sitting, "sha256": sha}))
        entry.update(state="uploading", upload_id=made["UploadId"], parts=[], sent_bytes=0, sha256=sha)
        self.save()
        return str(made["UploadId"])

    def _send_parts(self, path: Path, entry: dict[str, Any], key: str, upload_id: str) -> tuple[list[bytes], str]:
        """Send the parts the store lacks, ``workers`` at a time; the state is saved after each one.

        Parts are read in order by this thread (so at most ``workers`` parts sit in memory),
        which also keeps the whole file's SHA-256; each part's MD5 is taken by the worker that
        sends it, so the two hashes run side by side. A capped uplink sends one part at a time.
        """
        done = {p["n"]: p for p in entry.get("parts", [])}
        md5s: dict[int, bytes] = {}
        whole = hashlib.sha256()  # every byte read, sent or already upstream: the file's checksum in one pass
        lock = threading.Lock()
        workers = 1 if self.max_kbps > 0 else self.workers

        def send(n: int, chunk: bytes) -> None:
            md5 = md5s[n] = hashlib.md5(chunk, usedforsecurity=False).digest()
            if n in done and done[n]["etag"].strip('"') == md5.hex():
                return  # already upstream (a resumed upload)
            started = time.monotonic()
            answer = retry(f"part {n}", self._part(key, upload_id, n, chunk, md5))
            with lock:
                done[n] = {"n": n, "etag": str(answer["ETag"])}
                entry["parts"] = sorted(done.values(), key=lambda p: p["n"])
                entry["sent_bytes"] = min(entry["size"], len(entry["parts"]) * self.part_size)
                self.save()
            self._throttle(len(chunk), time.monotonic() - started)

        with ThreadPoolExecutor(max_workers=workers) as pool, Path(path).open("rb") as fh:
            pending: set[Future[None]] = set()
            n = 0
            while chunk := fh.read(self.part_size):
                n += 1
                if len(pending) >= workers:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()  # a failed part stops the reading; the others finish
                pending.add(pool.submit(send, n, chunk))
                whole.update(chunk)
            for future in pending:
                future.result()
        return [md5s[i] for i in range(1, n + 1)], whole.hexdigest()

    def _part(self, key: str, upload_id: str, n: int, chunk: bytes, md5: bytes) -> Callable[[], Any]:
        return lambda: self.s3.upload_part(
            Bucket=self.settings.s3_bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=chunk,
            ContentMD5=base64.b64encode(md5).decode())

    def _throttle(self, size: int, took: float) -> None:
        if self.max_kbps > 0:
            wanted = size / (self.max_kbps * 1024)
            if wanted > took:
                time.sleep(wanted - took)
