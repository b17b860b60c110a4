"""The box's own certificate authority and its HTTPS server certificate.

A room network has no public name, so no public CA can vouch for the box. On first
start the box makes its own CA (kept for the box's life) and a server certificate for
``phs.local`` and every address of its interfaces; tablets install the CA once from
the pairing start page and compare its fingerprint with the one on the hall display.
When the addresses change (a cable plugged, another DHCP lease) the server
certificate is reissued from the same CA, so tablets need nothing new.

Files live in DATA/tls (mode 0700, keys 0600). The keys are not sealed with the data
keys: the HTTPS listener must start before a key stick is inserted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from appliance.core.settings import Settings

log = logging.getLogger("phs.tls")

BOX_NAME = "phs.local"
CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate's life
RENEW_BEFORE_DAYS = 30
CA_NAME = "PHS — Phòng họp số (CA của hộp)"


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA and the server certificate live."""

    folder: Path

    @property
    def ca_key(self) -> Path:
        """The CA's private key."""
        return self.folder / "ca.key"

    @property
    def ca_cert(self) -> Path:
        """The CA certificate tablets install."""
        return self.folder / "ca.pem"

    @property
    def server_key(self) -> Path:
        """The server's private key."""
        return self.folder / "server.key"

    @property
    def server_cert(self) -> Path:
        """The server certificate followed by the CA (the chain uvicorn serves)."""
        return self.folder / "server.pem"

    @property
    def names_file(self) -> Path:
        """The names the current server certificate was issued for."""
        return self.folder / "server.names.json"


def tls_files(data_dir: Path) -> TlsFiles:
    """The TLS folder of a data directory."""
    return TlsFiles(data_dir / "tls")


def interface_addresses() -> list[str]:
    """Every IPv4 and global/link IPv6 address of the box, loopback included (the kiosk uses it)."""
    from appliance.network.interfaces import list_interfaces

    found: list[str] = []
    for info in list_interfaces():
        for addr in [*info["ipv4"], *info["ipv6"]]:
            try:
                ipaddress.ip_address(addr)
            except ValueError:
                continue
            if addr not in found:
                found.append(addr)
    for loop in ("127.0.0.1", "::1"):
        if loop not in found:
            found.append(loop)
    return found


def wanted_names(addresses: list[str] | None = None) -> dict[str, list[str]]:
    """The DNS names and IP addresses the server certificate must name."""
    ips = sorted(set(addresses if addresses is not None else interface_addresses()))
    return {"dns": [BOX_NAME, "localhost"], "ip": ips}


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _make_ca(files: TlsFiles) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PHS"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        # The CA may only vouch for the box's own names: a stolen CA key cannot impersonate
        # a bank's site to a tablet that installed it. Addresses stay unconstrained (a room
        # network may use any range), and no public site is reached by a bare address.
        .add_extension(
            x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(BOX_NAME), x509.DNSName("localhost")],
                excluded_subtrees=None,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    files.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write(files.ca_key, _key_pem(key), 0o600)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    log.info("box CA created", extra={"fingerprint": fingerprint(cert)})


def _issue_server(files: TlsFiles, names: dict[str, list[str]]) -> None:
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the box CA key is not an EC key")
    ca = load_ca(files)
    key = ec.generate_private_key(ec.SECP256R1())
    ips = [ipaddress.ip_address(a) for a in names["ip"]]
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BOX_NAME)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [*(x509.DNSName(n) for n in names["dns"]), *(x509.IPAddress(ip) for ip in ips)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + files.ca_cert.read_bytes()
    _write(files.server_key, _key_pem(key), 0o600)
    _write(files.server_cert, chain, 0o644)
    _write(files.names_file, json.dumps(names, sort_keys=True).encode(), 0o644)
    log.info("server certificate issued", extra={"names": len(names["dns"]) + len(ips)})


def load_ca(files: TlsFiles) -> x509.Certificate:
    """The box CA certificate."""
    return x509.load_pem_x509_certificate(files.ca_cert.read_bytes())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as people compare it: upper-case hex pairs joined by colons."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def _current_names(files: TlsFiles) -> dict[str, list[str]] | None:
    try:
        data = json.loads(files.names_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _server_expiring(files: TlsFiles) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    except (OSError, ValueError):
        return True
    return cert.not_valid_after_utc - _now() < dt.timedelta(days=RENEW_BEFORE_DAYS)


def ensure(data_dir: Path, addresses: list[str] | None = None) -> bool:
    """Make the CA on first start; (re)issue the server certificate when its names changed.

    Returns True when a new server certificate was written.
    """
    files = tls_files(data_dir)
    files.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not files.ca_key.exists() or not files.ca_cert.exists():
        _make_ca(files)
    names = wanted_names(addresses)
    if _current_names(files) == names and files.server_key.exists() and not _server_expiring(files):
        return False
    _issue_server(files, names)
    return True


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The TLS context the HTTPS listener serves (TLS 1.2+); reload it with ``reload``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.server_cert), str(files.server_key))
    return ctx


def reload(ctx: ssl.SSLContext, files: TlsFiles) -> None:
    """Serve a reissued certificate: new handshakes get it, open connections keep theirs."""
    ctx.load_cert_chain(str(files.server_cert), str(files.server_key))


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def tls_wanted(settings: Settings) -> bool:
    """Whether the box serves HTTPS: ``on``, or ``auto`` while it binds a non-loopback address."""
    mode = settings.tls.strip().lower()
    if mode == "auto":
        return not is_loopback_host(settings.host)
    return mode in ("on", "1", "true", "yes")


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine's loopback."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
