"""A secretary's digital-signature USB token over PKCS#11 (optional; needs the PyKCS11 package).

Vietnamese CA tokens (VNPT-CA, Viettel-CA, ...) ship a PKCS#11 library (``.so``). This
adapter loads it, logs in with the PIN (or the token's own PIN pad when none is given),
signs the SHA-256 of the finalised minutes with the token's private key and returns the
certificate stored under the same ``CKA_ID``. RSA keys sign a SHA-256 DigestInfo with
``CKM_RSA_PKCS`` (what PKCS#1 v1.5 signatures are); EC keys sign the digest with
``CKM_ECDSA``, returned DER-encoded. The PIN is used once and never stored or logged.
Tested against SoftHSM2, a software PKCS#11 token (tests/archive/test_token.py).
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from appliance.archive.signing import TokenSignature
from appliance.core.errors import refuse

log = logging.getLogger("phs.archive")

# DER of DigestInfo{sha256, NULL} without the digest (RFC 8017, 9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class Pkcs11Token:
    """``SigningToken`` over a PKCS#11 library; ``sign`` returns None when no token is plugged in."""

    name = "pkcs11"

    def __init__(self, library: str, pin: str | None = None, *, token_label: str | None = None,
                 key_label: str | None = None) -> None:
        self.library, self._pin = library, pin
        self.token_label, self.key_label = token_label, key_label

    def _lib(self) -> Any:
        try:
            import PyKCS11  # optional dependency (the "token" extra)
        except ImportError:
            raise refuse("invalid", "Chưa cài gói PyKCS11 để dùng USB token.", "PyKCS11 is not installed.") from None
        lib = PyKCS11.PyKCS11Lib()
        try:
            lib.load(self.library)
        except PyKCS11.PyKCS11Error:
            raise refuse("invalid", "Không nạp được thư viện PKCS#11 của USB token.",
                         "Cannot load the token's PKCS#11 library.") from None
        return lib

    def sign(self, digest: bytes) -> TokenSignature | None:
        """Sign a SHA-256 digest on the token."""
        import PyKCS11

        lib = self._lib()
        slot = self._slot(lib)
        if slot is None:
            return None
        session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
        try:
            try:
                session.login(self._pin)
            except PyKCS11.PyKCS11Error:
                raise refuse("forbidden", "Sai mã PIN của USB token (hoặc token đã bị khóa).",
                             "The token refused the PIN (or is locked).") from None
            try:
                return self._sign(session, digest)
            finally:
                session.logout()
        finally:
            session.closeSession()

    def _slot(self, lib: Any) -> Any:
        for slot in lib.getSlotList(tokenPresent=True):
            label = str(lib.getTokenInfo(slot).label).strip()
            if self.token_label is None or label == self.token_label:
                return slot
        return None

    def _sign(self, session: Any, digest: bytes) -> TokenSignature:
        import PyKCS11

        template = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)]
        if self.key_label:
            template.append((PyKCS11.CKA_LABEL, self.key_label))
        keys = session.findObjects(template)
        if not keys:
            raise refuse("not_found", "Không có khóa ký trên USB token.", "The token holds no signing key.")
        key_type, key_id = session.getAttributeValue(keys[0], [PyKCS11.CKA_KEY_TYPE, PyKCS11.CKA_ID])
        if key_type == PyKCS11.CKK_RSA:
            signature = bytes(session.sign(keys[0], SHA256_DIGEST_INFO + digest, PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS)))
            mechanism = "RSA_PKCS1v15_SHA256"
        elif key_type == PyKCS11.CKK_EC:
            raw = bytes(session.sign(keys[0], digest, PyKCS11.Mechanism(PyKCS11.CKM_ECDSA)))
            half = len(raw) // 2
            signature = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
            mechanism = "ECDSA_SHA256"
        else:
            raise refuse("invalid", "Loại khóa trên USB token không được hỗ trợ.", "The token's key type is not supported.")
        certificate = b""
        found = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE), (PyKCS11.CKA_ID, key_id)])
        if found:
            certificate = bytes(session.getAttributeValue(found[0], [PyKCS11.CKA_VALUE])[0])
        log.info("minutes signed on the token", extra={"event": "token_signed", "mechanism": mechanism})
        return TokenSignature(mechanism, signature.hex(), certificate.hex())
