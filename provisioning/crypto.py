"""Keys of provisioning: the organisation's signing key, the box's identity, sealed secrets.

The organisation signs bundles with an Ed25519 key kept on the IT person's laptop. The
box has its Ed25519 identity (journal checkpoints) and, kept beside it, an X25519 key
pair whose public half it writes to the stick at enrolment, so the IT tool can seal
secrets (the Wi-Fi passphrase, upstream credentials) that only that box can open.
A sealed secret is ECIES: an ephemeral X25519 key, HKDF-SHA256, AES-256-GCM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.core.errors import PhsError, refuse

SEAL_ALG = "x25519-hkdf-sha256-aes256gcm"
_SEAL_INFO = b"phs-bundle-secret-v1"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def b64(data: bytes) -> str:
    """Standard base64 text, as every key and signature appears in JSON."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    """Decode base64 or refuse naming the field (a hand-edited file is the usual cause)."""
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise refuse("bundle_invalid", f"Trường {what} không phải base64.", f"{what} is not base64.") from None


def raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """A key's fingerprint as people compare it: SHA-256, first 16 bytes, groups of four hex digits."""
    digest = hashlib.sha256(public).hexdigest()[:32].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


# -- the organisation's key --------------------------------------------------------


def generate_org_key(path: Path) -> str:
    """Write a new organisation key (PKCS#8 PEM, mode 0600) and its public half; the fingerprint."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = raw_public(key.public_key())
    Path(f"{path}.pub").write_text(json.dumps({"ed25519": b64(public), "fingerprint": fingerprint(public)}) + "\n")
    return fingerprint(public)


def load_org_key(path: Path) -> Ed25519PrivateKey:
    """Read an organisation key written by ``generate_org_key``."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise refuse("invalid", f"Không đọc được khóa {path}.", f"Cannot read the key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise refuse("invalid", "Khóa phải là Ed25519.", "The organisation key must be Ed25519.")
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> dict[str, str]:
    """``signature.json``: who signed and the signature over the manifest's exact bytes."""
    public = raw_public(key.public_key())
    return {"alg": "ed25519", "key": b64(public), "fingerprint": fingerprint(public), "signature": b64(key.sign(message))}


def verify_signature(signature: dict[str, Any], message: bytes) -> bytes:
    """Check ``signature.json`` against the manifest; the signer's raw public key."""
    if signature.get("alg") != "ed25519":
        raise refuse("bundle_signature", message_en="Unknown signature algorithm (expected ed25519).")
    public = unb64(signature.get("key"), "signature.key")
    sig = unb64(signature.get("signature"), "signature.signature")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, message)
    except (InvalidSignature, ValueError):
        raise refuse("bundle_signature") from None
    return public


# -- sealed secrets ------------------------------------------------------------------


def _seal_key(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=_SEAL_INFO)
    return hkdf.derive(shared)


def seal_secret(recipient: bytes, value: Any, purpose: str) -> dict[str, str]:
    """Encrypt a JSON value so only the holder of ``recipient``'s X25519 private key reads it."""
    ephemeral = X25519PrivateKey.generate()
    epk = raw_public(ephemeral.public_key())
    key = _seal_key(ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient)), epk, recipient)
    nonce = secrets.token_bytes(12)
    plain = json.dumps(value, ensure_ascii=False).encode()
    body = AESGCM(key).encrypt(nonce, plain, purpose.encode())
    return {"alg": SEAL_ALG, "to": fingerprint(recipient), "purpose": purpose, "epk": b64(epk), "nonce": b64(nonce), "ct": b64(body)}


def open_secret(private: X25519PrivateKey, sealed: Any, purpose: str) -> Any:
    """Decrypt a sealed secret meant for this box, or refuse saying which box it was for."""
    if not isinstance(sealed, dict) or sealed.get("alg") != SEAL_ALG:
        raise refuse("bundle_invalid", f"Bí mật '{purpose}' không được mã hóa đúng cách.", f"The secret '{purpose}' is not sealed.")
    mine = raw_public(private.public_key())
    if sealed.get("to") != fingerprint(mine):
        raise _not_for_this_box(str(sealed.get("to")), fingerprint(mine))
    epk = unb64(sealed.get("epk"), "epk")
    try:
        key = _seal_key(private.exchange(X25519PublicKey.from_public_bytes(epk)), epk, mine)
        plain = AESGCM(key).decrypt(unb64(sealed.get("nonce"), "nonce"), unb64(sealed.get("ct"), "ct"), purpose.encode())
    except (InvalidTag, ValueError):
        raise refuse("bundle_invalid", f"Không giải mã được '{purpose}'.", f"Cannot decrypt '{purpose}'.") from None
    return json.loads(plain)


def _not_for_this_box(meant: str, mine: str) -> PhsError:
    return refuse(
        "bundle_invalid",
        f"Gói này được tạo cho hộp {meant}, không phải hộp này ({mine}). Hãy dùng enrol.json của hộp này.",
        f"This bundle was built for box {meant}, not this box ({mine}). Build it with this box's enrol.json.",
        reason="other_box",
    )


# -- administrator credentials ----------------------------------------------------------


def hash_password(password: str) -> dict[str, Any]:
    """An scrypt hash (hashlib.scrypt) of an administrator password; the password never travels."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **SCRYPT)
    return {"alg": "scrypt", **SCRYPT, "salt": b64(salt), "hash": b64(digest)}


def check_password(password: str, record: dict[str, Any]) -> bool:
    """Constant-time check of a password against ``hash_password``'s record."""
    salt, expected = unb64(record["salt"], "salt"), unb64(record["hash"], "hash")
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=int(record["n"]), r=int(record["r"]), p=int(record["p"]),
        maxmem=64 * 1024 * 1024, dklen=len(expected),
    )
    return secrets.compare_digest(digest, expected)


# -- the box's enrolment -------------------------------------------------------------------


def enrolment_document(identity: Ed25519PrivateKey, x25519: X25519PrivateKey, version: str) -> dict[str, Any]:
    """``enrol.json``: the box's public keys; the X25519 key is signed by the identity key."""
    ident = raw_public(identity.public_key())
    xpub = raw_public(x25519.public_key())
    return {
        "kind": "phs-enrolment",
        "format": 1,
        "fingerprint": fingerprint(ident),
        "ed25519": b64(ident),
        "x25519": b64(xpub),
        "x25519_signature": b64(identity.sign(b"phs-x25519:" + xpub)),
        "software": version,
    }


def read_enrolment(doc: Any) -> tuple[str, bytes]:
    """Check an ``enrol.json`` (the X25519 key must be signed by the identity); (fingerprint, x25519)."""
    if not isinstance(doc, dict) or doc.get("kind") != "phs-enrolment":
        raise refuse("invalid", "Tệp enrol.json không hợp lệ.", "Not an enrol.json written by a PHS box.")
    ident, xpub = unb64(doc.get("ed25519"), "ed25519"), unb64(doc.get("x25519"), "x25519")
    try:
        Ed25519PublicKey.from_public_bytes(ident).verify(unb64(doc.get("x25519_signature"), "x25519_signature"), b"phs-x25519:" + xpub)
    except (InvalidSignature, ValueError):
        raise refuse("invalid", "enrol.json đã bị sửa.", "enrol.json was altered: its key signature does not verify.") from None
    return fingerprint(ident), xpub
