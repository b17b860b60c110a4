"""Signatures on the finalised minutes: the box's identity, and optionally the secretary's token.

The box signs with its Ed25519 identity (the key that signs journal checkpoints), so the
archive side checks the minutes against the same public key as the journal. A detached
signature file travels beside the PDF (``minutes.pdf.sig``, JSON) and verifies offline.

A secretary's digital-signature USB token (PKCS#11, as Vietnamese CA tokens are) is an
optional second signature behind ``SigningToken``: ``NoToken`` when none is configured,
``appliance.archive.pkcs11_token.Pkcs11Token`` (PyKCS11, the ``token`` extra) for a real
token, which returns the token's signature and certificate; the archive side checks it
with the CA chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CONTEXT = b"phs-minutes-v1\x00"


def _message(pdf_sha256: str) -> bytes:
    return CONTEXT + bytes.fromhex(pdf_sha256)


def sign_minutes(identity: Ed25519PrivateKey, pdf: bytes) -> tuple[str, str, str]:
    """(pdf sha256, signature hex, public key hex) for the finalised PDF."""
    digest = hashlib.sha256(pdf).hexdigest()
    pub = identity.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return digest, identity.sign(_message(digest)).hex(), pub.hex()


def signature_file(pdf_sha256: str, signature: str, public_key: str, token: TokenSignature | None = None) -> bytes:
    """The detached ``minutes.pdf.sig`` (canonical JSON)."""
    body: dict[str, object] = {
        "format": "phs-minutes-signature/1",
        "alg": "ed25519",
        "context": CONTEXT.decode().rstrip("\x00"),
        "pdf_sha256": pdf_sha256,
        "public_key": public_key,
        "signature": signature,
    }
    if token is not None:
        body["token"] = {"mechanism": token.mechanism, "signature": token.signature, "certificate": token.certificate}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def check_signature(pdf: bytes, sig_file: bytes, public_key: bytes | None = None) -> str | None:
    """None when the PDF matches its signature file (and the pinned key, if given); else why not."""
    try:
        body = json.loads(sig_file)
        digest = hashlib.sha256(pdf).hexdigest()
        if body.get("pdf_sha256") != digest:
            return "minutes.pdf does not match the hash its signature names"
        pub = bytes.fromhex(str(body["public_key"]))
        if public_key is not None and pub != public_key:
            return "minutes signed by another box"
        Ed25519PublicKey.from_public_bytes(pub).verify(bytes.fromhex(str(body["signature"])), _message(digest))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return "minutes signature does not verify"
    return None


@dataclass(frozen=True)
class TokenSignature:
    """What a PKCS#11 token returns: the signature and the signer's certificate (DER, hex)."""

    mechanism: str
    signature: str
    certificate: str


class SigningToken(Protocol):
    """A secretary's signature token; ``sign`` returns None when no token is plugged in."""

    name: str

    def sign(self, digest: bytes) -> TokenSignature | None:
        """Sign a SHA-256 digest on the token (the PIN is asked by the token's own UI)."""


class NoToken:
    """The documented stub: no token adapter is configured, so only the box signs."""

    name = "none"

    def sign(self, digest: bytes) -> TokenSignature | None:
        """Always None: the minutes carry the box's signature alone."""
        return None
