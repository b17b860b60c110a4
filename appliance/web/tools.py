"""Command-line tools that read the data directory without writing it."""

from __future__ import annotations

import dataclasses
import json
import sys

from appliance.core.errors import PhsError
from appliance.core.settings import Settings


def journal_verify(settings: Settings) -> int:
    """``phs journal verify``: seals, chain and signatures; non-zero on a fault."""
    from appliance.store.keys import Keyring
    from appliance.store.verify import verify_journal

    try:
        keyring = Keyring.open(settings.keys_dir, settings.data_dir, create=False)
    except PhsError as err:
        sys.stderr.write(f"{err.message}\n{err.message_en}\n")
        return 2
    report = verify_journal(
        settings.data_dir / "journal", keyring.data_key("session"), public_key=keyring.identity_public()
    )
    body = dataclasses.asdict(report)
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    verdict = "Nhật ký toàn vẹn / journal verifies" if report.ok else "Nhật ký có lỗi / journal is damaged"
    sys.stdout.write(f"{verdict}: {body.get('records')} records\n")
    return 0 if report.ok else 1


def keys_status(settings: Settings) -> int:
    """``phs keys status``: which keys are present and unlocked (never their values)."""
    kek = settings.keys_dir / "kek.key"
    wrapped = sorted(p.name for p in (settings.data_dir / "keys").glob("*.wrapped")) if (settings.data_dir / "keys").exists() else []
    sys.stdout.write(
        json.dumps({"kek": "present" if kek.exists() else "missing", "keys_dir": str(settings.keys_dir), "data_keys": wrapped}, indent=2)
        + "\n"
    )
    return 0 if kek.exists() else 1


__all__ = ["dataclasses"]
