"""Command-line tools on the data directory: verify the journal, show and rotate the keys.

``journal verify`` and ``keys status`` only read. ``keys rotate`` (and ``sitting erase``
in ``erase.py``) change the keys, so they take the writer's lock first and refuse while a
server runs on the data directory: a running server holds keys in memory that a rotation
or an erasure would silently contradict.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.core.errors import PhsError, refuse
from appliance.core.settings import Settings


def _say(body: dict[str, Any], line: str) -> None:
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n" + line + "\n")


def refusal_exit(err: PhsError) -> int:
    """Write a refusal in both languages to stderr; 1 for a refusal, 2 for a locked or broken box."""
    sys.stderr.write(f"{err.message}\n{err.message_en}\n")
    return 1 if err.code in ("conflict", "not_found", "invalid") else 2


@contextlib.contextmanager
def writer_lock(data: Path) -> Iterator[None]:
    """Hold ``DATA/run/writer.lock`` like ``phs serve`` does; ``conflict`` while a server holds it."""
    if not (data / "journal").is_dir():
        raise refuse(
            "not_found",
            f"Không có dữ liệu PHS tại {data}.",
            f"There is no PHS data at {data}.",
        )
    (data / "run").mkdir(exist_ok=True, mode=0o700)
    with (data / "run" / "writer.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise refuse(
                "conflict",
                "Máy chủ PHS đang chạy trên thư mục dữ liệu này; hãy dừng nó trước.",
                "A PHS server is running on this data directory; stop it first.",
            ) from None
        yield


def open_keyring(settings: Settings) -> Any:
    """The keyring through the configured provider, never creating a key."""
    from appliance.store.keys import Keyring
    from appliance.web.locked import provider_for

    return Keyring.open(
        settings.keys_dir, settings.data_dir, create=False, provider=provider_for(settings)
    )


def journal_verify(settings: Settings) -> int:
    """``phs journal verify``: seals, chain and signatures; non-zero on a fault."""
    from appliance.web.records import verify_data_dir

    try:
        keyring = open_keyring(settings)
    except PhsError as err:
        return refusal_exit(err)
    report = verify_data_dir(keyring, settings.data_dir)
    body = report.to_dict()
    found = f"{report.records} records, {report.sittings} sittings"
    if report.ok:
        verdict = f"Nhật ký toàn vẹn / journal verifies: {found}"
    else:
        verdict = (
            f"Nhật ký có lỗi tại vị trí {report.first_bad} / "
            f"journal is damaged at position {report.first_bad}; before it: {found}"
        )
    if report.shredded:
        verdict += f"; {report.shredded} shredded (đã hủy khóa / key erased)"
    _say(body, verdict)
    return 0 if report.ok else 1


def keys_status(settings: Settings) -> int:
    """``phs keys status``: the provider, whether it unlocks, which data keys exist (never values)."""
    from appliance.store.keys import has_wrapped_keys
    from appliance.web.locked import provider_for

    try:
        provider = provider_for(settings)
    except PhsError as err:
        return refusal_exit(err)
    body: dict[str, Any] = {**provider.describe(), "unlocked": False}
    try:
        keyring = open_keyring(settings)
        if has_wrapped_keys(settings.data_dir):
            keyring.existing_key("session")  # the KEK really opens this box's keys
        body.update(unlocked=True, data_keys=keyring.names(), erased=keyring.erased_names())
    except (PhsError, LookupError) as err:
        body["reason"] = err.message_en if isinstance(err, PhsError) else "no session key"
    state = "mở / unlocked" if body["unlocked"] else "khóa / locked"
    _say(body, f"Khóa ({provider.name}): {state}")
    return 0 if body["unlocked"] else 1


def keys_rotate(settings: Settings) -> int:
    """``phs keys rotate``: a new KEK re-wraps every data key; sealed data is not touched."""
    try:
        with writer_lock(settings.data_dir):
            keyring = open_keyring(settings)
            names = keyring.names()
            keyring.rotate_kek(secrets.token_bytes(32))
    except PhsError as err:
        return refusal_exit(err)
    _say(
        {"rotated": len(names), "provider": keyring.provider.name},
        f"Đã đổi khóa mã hóa / KEK rotated: {len(names)} data keys re-wrapped",
    )
    return 0
