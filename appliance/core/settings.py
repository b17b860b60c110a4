"""Settings declared as data and filled from the environment behind a cached getter.

Each setting has a name, a default and a help text; ``docs/SETTINGS.md`` is checked
against this table by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import platformdirs


def _default_data() -> str:
    return str(Path(platformdirs.user_data_dir("phs")) / "data")


def _default_keys() -> str:
    return str(Path(platformdirs.user_config_dir("phs")) / "keys")


@dataclass(frozen=True)
class Settings:
    """Everything the appliance reads from its environment (``PHS_<NAME>``)."""

    data_dir: Path = field(
        default_factory=lambda: Path(_default_data()),
        metadata={"help": "Data directory: journal, snapshots, sealed blobs. Nothing readable."},
    )
    keys_dir: Path = field(
        default_factory=lambda: Path(_default_keys()),
        metadata={"help": "Directory of the key-encryption key file; never inside the data directory."},
    )
    key_provider: str = field(
        default="file",
        metadata={"help": "Where the key-encryption key comes from: file (keys_dir/kek.key), usb (a key stick), tpm2 (not supported yet)."},
    )
    key_label: str = field(
        default="PHS-KEY",
        metadata={"help": "Filesystem label of the key stick (usb provider); its key is phs/kek.key on the stick."},
    )
    key_mount: str = field(
        default="",
        metadata={"help": "Fixed directory where the key stick is mounted (usb provider; empty: find it by label)."},
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address the web server binds."})
    port: int = field(default=8080, metadata={"help": "Port the web server binds."})
    tls: str = field(
        default="auto",
        metadata={"help": "HTTPS with the box's own CA: on, off, or auto (on when the server binds a non-loopback address). With it, plain HTTP serves only the pairing start page and the CA certificate, except on loopback."},
    )
    tls_port: int = field(default=8443, metadata={"help": "Port of the HTTPS listener (443 on the appliance image)."})
    mdns: str = field(
        default="auto",
        metadata={"help": "Advertise phs.local over mDNS: on, off, or auto (on when the server binds a non-loopback address)."},
    )
    pairing_code_minutes: float = field(
        default=10.0, metadata={"help": "Minutes a typed one-time pairing code stays valid."}
    )
    setup_code: str = field(
        default="",
        metadata={"help": "A one-time secretary pairing code accepted at start (scenario runner, first set-up)."},
    )
    page_cache_mib: int = field(
        default=64,
        metadata={"help": "MiB of decrypted page images `phs serve` keeps in memory (never on disk) so a page fetched by many tablets is read and decrypted once; 0: none."},
    )
    demo: bool = field(default=False, metadata={"help": "Seed a demo session on first start."})
    log_level: str = field(default="INFO", metadata={"help": "Log level: DEBUG, INFO, WARNING."})
    group_commit_ms: float = field(
        default=0.0,
        metadata={"help": "Extra milliseconds the journal writer waits to gather a batch (0: write as soon as idle)."},
    )
    snapshot_every: int = field(
        default=1000, metadata={"help": "Write a sealed snapshot after this many journal records."}
    )
    archive_public_key: str = field(
        default="", metadata={"help": "The upstream archive's X25519 public key (hex, or a file from `phs archive keygen`); empty: no sealed archives."}
    )
    s3_endpoint: str = field(default="", metadata={"help": "S3-compatible endpoint URL for `phs sync` (MinIO, Ceph, AWS); empty: USB export only."})
    s3_bucket: str = field(default="", metadata={"help": "Bucket the sealed archives go to."})
    s3_region: str = field(default="us-east-1", metadata={"help": "Region of the bucket (signature v4)."})
    s3_access_key: str = field(default="", metadata={"help": "Access key id for the bucket (never logged)."})
    s3_secret_key: str = field(default="", metadata={"help": "Secret access key for the bucket (never logged)."})
    s3_prefix: str = field(default="phs/", metadata={"help": "Key prefix of archives in the bucket."})
    s3_part_mb: int = field(default=8, metadata={"help": "Multipart upload part size in MiB (at least 5)."})
    s3_max_kbps: float = field(default=0.0, metadata={"help": "Upload bandwidth cap in KiB/s (0: none), so a thin uplink stays usable."})
    sync_token: str = field(default="", metadata={"help": "A technician device credential `phs sync` reports receipts with when the local socket is absent."})
    sync_server_url: str = field(default="http://127.0.0.1:8080", metadata={"help": "Where `phs sync` reaches the server over HTTP (fallback to the local socket)."})
    retention_days: float = field(default=30.0, metadata={"help": "Days after a confirmed upstream receipt before a sitting's data key is destroyed."})
    token_library: str = field(default="", metadata={"help": "PKCS#11 library (.so) of the secretary's signature USB token, which then also signs the finalised minutes (docs/ARCHIVE.md); empty: the box signs alone."})
    token_label: str = field(default="", metadata={"help": "Label of the signature token to use when several are plugged in (empty: the first)."})
    conference: str = field(default="simulated", metadata={"help": "Conference system `phs devices` drives: simulated, phs-bus, cocon or none."})
    bus_device: str = field(default="", metadata={"help": "phs-bus line device; empty: the adapter is found by its USB vendor/product id and followed as it is plugged and pulled."})
    cocon_host: str = field(default="", metadata={"help": "Address of the Televic CoCon room server (REST API on port 8890) when conference is cocon."})
    card_readers: str = field(default="", metadata={"help": "USB card readers at the door `phs devices` reads check-in cards from: comma-separated VENDOR:PRODUCT ids (0c2e:0b61) or name fragments (barcode); empty: none. A keyboard that matches nothing is never read."})
    kiosk_command: str = field(default="", metadata={"help": "Command starting one kiosk browser per connected display output ({url}, {connector}, {profile}); empty: outputs are only reported."})

    @staticmethod
    def env_name(name: str) -> str:
        """The environment variable for a setting."""
        return f"PHS_{name.upper()}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read ``PHS_*`` variables; explicit overrides (CLI options) win."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(cls.env_name(f.name))
            if raw is not None:
                values[f.name] = _coerce(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "keys_dir"):
            if name in values:
                values[name] = Path(str(values[name])).expanduser().resolve()
        return cls(**values)  # type: ignore[arg-type]


def _coerce(kind: object, raw: str) -> object:
    text = str(kind)
    if "bool" in text:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in text:
        return int(raw)
    if "float" in text:
        return float(raw)
    if "Path" in text:
        return Path(raw)
    return raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
