"""The sealed envelope around an archive: only the upstream archive's key opens it.

Layout (docs/ARCHIVE.md)::

    "PHSARC1\\n" | header_len:u32 | header (canonical JSON, in the clear)
    | { len:u32 | AES-256-GCM chunk }*  (the last one flagged final)
    | "SIG1" | Ed25519 signature by the box over SHA-256 of everything before it

The content key comes from X25519 between a fresh ephemeral key and the archive's
public key (HKDF-SHA256), so every build differs while the content inside does not.
Each chunk's nonce and associated data carry its index and a final flag: chunks cannot
be reordered, dropped or cut off unnoticed. The header names the manifest and its hash,
so a verifier without the archive key still checks the box's signature over all of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.core.errors import PhsError, refuse

MAGIC = b"PHSARC1\n"
TRAILER = b"SIG1"
SIG_CONTEXT = b"phs-archive-v1\x00"
CHUNK = 1 << 20
U32 = struct.Struct(">I")
MAX_HEADER = 4 << 20


def canonical(body: Any) -> bytes:
    """The one JSON form hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _raw(pub: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _derive(shared: bytes, eph: bytes, recipient: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=eph + recipient, info=info).derive(shared)


def recipient_id(public: bytes) -> str:
    """A short fingerprint of an archive public key, written in the header."""
    return hashlib.sha256(public).hexdigest()[:32]


def _bad(why: str) -> PhsError:
    return refuse("invalid", f"Tệp lưu trữ không hợp lệ: {why}.", f"Not a valid archive: {why}.")


def _header_bytes(header: dict[str, Any], key: str, size: int) -> bytes:
    """A hex field of the clear header, or ``invalid``: the header is read before anything verifies it."""
    try:
        value = bytes.fromhex(str(header.get(key, "")))
    except ValueError:
        raise _bad(f"header {key}") from None
    if len(value) != size:
        raise _bad(f"header {key}")
    return value


class SealingWriter:
    """A write-only stream: plaintext in, sealed chunks out; ``close`` writes the signature."""

    def __init__(self, out: BinaryIO, header: dict[str, Any], recipient: bytes, identity: Ed25519PrivateKey) -> None:
        eph = X25519PrivateKey.generate()
        eph_pub = _raw(eph.public_key())
        shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
        self._aead = AESGCM(_derive(shared, eph_pub, recipient, b"phs-archive-v1"))
        self.receipt_key = _derive(shared, eph_pub, recipient, b"phs-archive-receipt-v1")
        self._prefix = secrets.token_bytes(8)
        full = dict(header, ephemeral=eph_pub.hex(), nonce_prefix=self._prefix.hex(), chunk=CHUNK,
                    recipient=recipient_id(recipient),
                    box_public_key=_raw(identity.public_key()).hex())
        self.header_bytes = canonical(full)
        self._bind = hashlib.sha256(self.header_bytes).digest()
        self._out, self._identity = out, identity
        self._digest = hashlib.sha256()
        self._file = hashlib.sha256()  # of every byte written, trailer included (sync's checksum)
        self._buf = bytearray()
        self._index = 0
        self.size = 0
        self._emit(MAGIC + U32.pack(len(self.header_bytes)) + self.header_bytes)

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self._file.update(data)
        self.size += len(data)

    def _seal(self, chunk: bytes, final: bool) -> None:
        nonce = self._prefix + U32.pack(self._index)
        aad = self._bind + struct.pack(">QB", self._index, final)
        sealed = self._aead.encrypt(nonce, chunk, aad)
        self._emit(U32.pack(len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> int:
        """Buffer plaintext and seal every whole chunk."""
        self._buf += data
        while len(self._buf) > CHUNK:
            self._seal(bytes(self._buf[:CHUNK]), False)
            del self._buf[:CHUNK]
        return len(data)

    def close(self) -> None:
        """Seal the final chunk and sign the whole file."""
        self._seal(bytes(self._buf), True)
        self._buf.clear()
        sig = self._identity.sign(SIG_CONTEXT + self._digest.digest())
        self._out.write(TRAILER + sig)
        self._file.update(TRAILER + sig)
        self.size += len(TRAILER) + len(sig)

    @property
    def file_sha256(self) -> str:
        """SHA-256 of the whole file as written (valid after ``close``)."""
        return self._file.hexdigest()


def read_header(path: Path) -> dict[str, Any]:
    """The clear header of an envelope (sync reads it to learn the sitting and manifest hash)."""
    with Path(path).open("rb") as fh:
        head = fh.read(len(MAGIC) + U32.size)
        if len(head) < len(MAGIC) + U32.size or head[: len(MAGIC)] != MAGIC:
            raise _bad("magic")
        (n,) = U32.unpack_from(head, len(MAGIC))
        if n > MAX_HEADER:
            raise _bad("header too large")
        raw = fh.read(n)
    try:
        header = json.loads(raw)
    except ValueError:
        raise _bad("header") from None
    if not isinstance(header, dict) or canonical(header) != raw:
        raise _bad("header")
    return header


def _frames(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset, sealed chunk) until the trailer."""
    while True:
        at = fh.tell()
        lead = fh.read(U32.size)
        if lead == TRAILER[: len(lead)] and len(lead) == U32.size and lead == TRAILER:
            fh.seek(at)
            return
        if len(lead) < U32.size:
            raise _bad("cut short")
        (n,) = U32.unpack(lead)
        if n > CHUNK + 16:
            raise _bad("chunk length")
        body = fh.read(n)
        if len(body) < n:
            raise _bad("cut short")
        yield at, body


def check_outer(path: Path, box_key: bytes | None = None) -> tuple[dict[str, Any], list[str]]:
    """Without the archive key: magic, header, manifest hash, chunk framing, the box's signature."""
    problems: list[str] = []
    header = read_header(path)
    manifest = header.get("manifest")
    if hashlib.sha256(canonical(manifest)).hexdigest() != header.get("manifest_sha256"):
        problems.append("manifest: hash differs from the header")
    pub = _header_bytes(header, "box_public_key", 32)
    if box_key is not None and pub != box_key:
        problems.append("signed by another box")
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        raw = header_len = len(MAGIC) + U32.size + len(canonical(header))
        digest.update(fh.read(header_len))
        try:
            for _, body in _frames(fh):
                digest.update(U32.pack(len(body)) + body)
                raw += U32.size + len(body)
        except PhsError as err:
            return header, [*problems, str(err.message_en)]
        tail = fh.read()
    if len(tail) != len(TRAILER) + 64 or not tail.startswith(TRAILER):
        return header, [*problems, "signature missing or trailing bytes"]
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(tail[len(TRAILER):], SIG_CONTEXT + digest.digest())
    except (InvalidSignature, ValueError):
        problems.append("envelope signature does not verify")
    return header, problems


def _keys(header: dict[str, Any], private: X25519PrivateKey) -> tuple[AESGCM, bytes]:
    mine = _raw(private.public_key())
    if header.get("recipient") != recipient_id(mine):
        raise refuse("forbidden", "Tệp lưu trữ không dành cho khóa này.", "This archive was sealed for another archive key.")
    eph = _header_bytes(header, "ephemeral", 32)
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph))
    return AESGCM(_derive(shared, eph, mine, b"phs-archive-v1")), _derive(shared, eph, mine, b"phs-archive-receipt-v1")


def receipt_key(path: Path, private: X25519PrivateKey) -> bytes:
    """The key a receipt is MACed with: only the box that built the envelope and its recipient know it."""
    return _keys(read_header(path), private)[1]


def decrypt(path: Path, private: X25519PrivateKey) -> Iterator[bytes]:
    """Plaintext chunks in order; raises ``invalid`` naming the first chunk that does not open."""
    header = read_header(path)
    aead, _ = _keys(header, private)
    bind = hashlib.sha256(canonical(header)).digest()
    prefix = _header_bytes(header, "nonce_prefix", 8)
    with Path(path).open("rb") as fh:
        fh.seek(len(MAGIC) + U32.size + len(canonical(header)))
        index, final = 0, False
        for at, body in _frames(fh):
            if final:
                raise _bad("data after the final chunk")
            nonce = prefix + U32.pack(index)
            for flag in (False, True):
                try:
                    plain = aead.decrypt(nonce, body, bind + struct.pack(">QB", index, flag))
                except InvalidTag:
                    continue
                final = flag
                break
            else:
                raise _bad(f"chunk {index} at byte {at} does not open (modified or damaged)")
            index += 1
            yield plain
        if not final:
            raise _bad("cut short (no final chunk)")


def receipt_mac(key: bytes, body: dict[str, Any]) -> str:
    """HMAC-SHA256 over a receipt's canonical JSON (without its mac)."""
    return hmac.new(key, canonical({k: v for k, v in body.items() if k != "mac"}), hashlib.sha256).hexdigest()


def generate_archive_keys() -> tuple[bytes, bytes]:
    """(private, public) raw X25519 bytes for ``phs archive keygen``."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return raw, _raw(private.public_key())


def load_private(path: Path) -> X25519PrivateKey:
    """The archive's private key file (hex, written by ``phs archive keygen``)."""
    try:
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(Path(path).read_text().strip()))
    except (OSError, ValueError):
        raise refuse("invalid", "Không đọc được khóa lưu trữ.", f"Cannot read the archive private key {path}.") from None


def load_public(value: str) -> bytes:
    """An archive public key: 64 hex characters, or a file holding them."""
    text = value.strip()
    if len(text) != 64 and Path(text).is_file():
        text = Path(text).read_text().strip()
    try:
        raw = bytes.fromhex(text)
        X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise refuse("invalid", "Khóa công khai của kho lưu trữ không hợp lệ.", "The archive public key is not valid.") from None
    return raw
