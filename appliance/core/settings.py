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
    setup_code: str = field(
        default="",
        metadata={"help": "A one-time secretary pairing code accepted at start (scenario runner, first set-up)."},
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
