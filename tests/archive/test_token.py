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

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

from appliance.archive.after_sitting import final_files, finalise
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
