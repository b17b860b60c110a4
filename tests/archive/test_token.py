"""The secretary's token adapter: a second signature recorded at finalising and carried in minutes.pdf.sig.

No PKCS#11 library or token exists here, so the token is a software stand-in behind the
same ``SigningToken`` interface (the hardware edge); the appliance, journal and blob
store are real.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

from appliance.archive.after_sitting import final_files, finalise, status
from appliance.archive.signing import TokenSignature, check_signature
from appliance.core.settings import Settings
from appliance.meeting.decide import Command
from appliance.web.service import SYSTEM, Appliance


class SoftToken:
    """Signs like a CA token does (ECDSA P-256 over the digest) and hands out its certificate."""

    name = "soft"

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Thư ký HĐND phường Thử")])
        now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(1).not_valid_before(now)
                     .not_valid_after(now + datetime.timedelta(days=3650)).sign(self.key, hashes.SHA256()))
        self.digests: list[bytes] = []

    def sign(self, digest: bytes) -> TokenSignature | None:
        self.digests.append(digest)
        signature = self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return TokenSignature("ECDSA_SHA256", signature.hex(), self.cert.public_bytes(serialization.Encoding.DER).hex())


async def test_a_token_signature_is_recorded_and_travels_with_the_minutes(tmp_path: Path) -> None:
    app = Appliance(Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys"))
    await app.start()
    try:
        await app.execute(SYSTEM, Command("setup", {"body": "HĐND phường Thử", "session": "Kỳ họp", "sittings": ["Phiên 1"]}))
        await app.execute(SYSTEM, Command("add_participants", {"participants": [
            {"name": "Nguyễn Văn An", "role": "chair", "seat": 1}, {"name": "Thư ký", "role": "secretary"}], "ids": ["p1", "p2"]}))
        sid = app.state.sittings[0].id
        await app.execute(SYSTEM, Command("open_sitting", {}))
        await app.execute(SYSTEM, Command("close_sitting", {}))
        token = SoftToken()
        done = await finalise(app, SYSTEM, sid, "test", token=token)
        files = final_files(app, sid)
    finally:
        await app.stop()
    pdf_sha = hashlib.sha256(files["pdf"]).hexdigest()
    assert done["pdf_sha256"] == pdf_sha and token.digests == [bytes.fromhex(pdf_sha)]
    assert check_signature(files["pdf"], files["sig"]) is None  # the box's own signature still holds
    carried = json.loads(files["sig"])["token"]
    assert carried["mechanism"] == "ECDSA_SHA256"
    cert = x509.load_der_x509_certificate(bytes.fromhex(carried["certificate"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Thư ký HĐND phường Thử"
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(bytes.fromhex(carried["signature"]), bytes.fromhex(pdf_sha), ec.ECDSA(Prehashed(hashes.SHA256())))


SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


def _softhsm_token(tmp_path: Path, pin: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, x509.Certificate]:
    """A SoftHSM2 token holding an RSA key and its certificate under one CKA_ID, as a CA token does."""
    import subprocess

    PyKCS11 = pytest.importorskip("PyKCS11")
    if not SOFTHSM.exists():
        pytest.skip("SoftHSM2 is not installed (scripts/setup.sh --with-browser installs it)")
    (tmp_path / "tokens").mkdir(parents=True)
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "thu-ky", "--pin", pin, "--so-pin", "87654321"],
                   check=True, capture_output=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trần Thị Thư Ký")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    n = key.private_numbers()
    big = lambda v: v.to_bytes((v.bit_length() + 7) // 8, "big")  # noqa: E731
    lib = PyKCS11.PyKCS11Lib()
    lib.load(str(SOFTHSM))
    session = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
    session.login(pin)
    ident = (0x42,)
    session.createObject([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_RSA),
        (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_ID, ident),
        (PyKCS11.CKA_LABEL, "chu-ky"), (PyKCS11.CKA_MODULUS, big(n.public_numbers.n)),
        (PyKCS11.CKA_PUBLIC_EXPONENT, big(n.public_numbers.e)), (PyKCS11.CKA_PRIVATE_EXPONENT, big(n.d)),
        (PyKCS11.CKA_PRIME_1, big(n.p)), (PyKCS11.CKA_PRIME_2, big(n.q)), (PyKCS11.CKA_EXPONENT_1, big(n.dmp1)),
        (PyKCS11.CKA_EXPONENT_2, big(n.dmq1)), (PyKCS11.CKA_COEFFICIENT, big(n.iqmp)),
    ])
    session.createObject([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE), (PyKCS11.CKA_CERTIFICATE_TYPE, PyKCS11.CKC_X_509),
        (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_ID, ident), (PyKCS11.CKA_LABEL, "chu-ky"),
        (PyKCS11.CKA_SUBJECT, tuple(subject.public_bytes())),
        (PyKCS11.CKA_VALUE, tuple(cert.public_bytes(serialization.Encoding.DER))),
    ])
    session.logout()
    session.closeSession()
    return str(SOFTHSM), cert


async def test_a_pkcs11_token_signs_the_minutes_and_a_wrong_pin_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.archive.pkcs11_token import Pkcs11Token
    from appliance.core.errors import PhsError

    library, cert = _softhsm_token(tmp_path / "hsm", "123456", monkeypatch)
    # Configured as a box would be: PHS_TOKEN_LIBRARY and PHS_TOKEN_LABEL; the PIN comes with the finalise request.
    app = Appliance(Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", token_library=library, token_label="thu-ky"))
    await app.start()
    try:
        await app.execute(SYSTEM, Command("setup", {"body": "HĐND phường Thử", "session": "Kỳ họp", "sittings": ["Phiên 1"]}))
        sid = app.state.sittings[0].id
        await app.execute(SYSTEM, Command("open_sitting", {}))
        await app.execute(SYSTEM, Command("close_sitting", {}))
        assert status(app, sid)["token"] is True  # the secretary's screen asks for the PIN
        with pytest.raises(PhsError) as refused:
            await finalise(app, SYSTEM, sid, "test", pin="000000")
        assert refused.value.code == "forbidden" and app.state.minutes.get(sid) is None  # nothing recorded
        await finalise(app, SYSTEM, sid, "test", pin="123456")
        files = final_files(app, sid)
    finally:
        await app.stop()
    carried = json.loads(files["sig"])["token"]
    assert carried["mechanism"] == "RSA_PKCS1v15_SHA256"
    assert bytes.fromhex(carried["certificate"]) == cert.public_bytes(serialization.Encoding.DER)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(bytes.fromhex(carried["signature"]), files["pdf"], padding.PKCS1v15(), hashes.SHA256())  # plain PKCS#1 v1.5
    assert Pkcs11Token(library, "123456", token_label="no-such-token").sign(b"\0" * 32) is None  # not plugged in
