"""Device keys: a tablet proves each request with a key that never leaves it.

At pairing the browser makes an ECDSA P-256 key pair with WebCrypto (the private half
not extractable, kept in IndexedDB) and sends the public half. Every later request
carries ``X-PHS-Proof: <ms>.<signature>`` over the method, the path and the time, so a
credential copied off the tablet (a cookie export, a backup) is useless elsewhere: the
copy has the cookie but not the key. WebSockets cannot send headers, so the live
channel passes the same proof as ``?proof=``; it is not a credential on its own.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

HEADER = "x-phs-proof"
QUERY = "proof"
SKEW_MS = 120_000  # the client reads the box's clock from the Date header; 2 minutes is generous
PREFIX = "phs-proof/1"


def b64url_decode(text: str) -> bytes:
    """Base64url without padding, as WebCrypto users write it."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4096)  # one entry per paired tablet: decoding the point is half a verify
def parse_public_key(text: str) -> ec.EllipticCurvePublicKey | None:
    """A P-256 public key from its raw uncompressed point (base64url), or None."""
    try:
        raw = b64url_decode(text)
        if len(raw) != 65 or raw[0] != 4:
            return None
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, binascii.Error):
        return None


def proof_message(ms: int, method: str, path: str) -> bytes:
    """What a proof signs: a versioned line per field."""
    return f"{PREFIX}\n{ms}\n{method.upper()}\n{path}".encode()


def check_proof(
    key_text: str, proof: str | None, method: str, path: str, now_ms: int
) -> str | None:
    """None when ``proof`` is a fresh signature by the key; otherwise why not (for the log)."""
    if not proof:
        return "missing"
    stamp, _, sig_text = proof.partition(".")
    if not stamp.isdigit() or not sig_text or len(proof) > 200:
        return "malformed"
    ms = int(stamp)
    if abs(now_ms - ms) > SKEW_MS:
        return "stale"
    key = parse_public_key(key_text)
    if key is None:
        return "bad key"
    try:
        sig = b64url_decode(sig_text)
    except (ValueError, binascii.Error):
        return "malformed"
    if len(sig) != 64:  # WebCrypto signs in IEEE P1363 form: r || s
        return "malformed"
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, proof_message(ms, method, path), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "bad signature"
    return None
