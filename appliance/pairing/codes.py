"""One-time pairing codes, device tokens, and the limit on guessing codes.

Codes and tokens are never stored in clear: the store keeps a keyed hash (HMAC with a
MAC key from the keyring), so a copy of the disk does not let anyone pair a device.
A six-digit code is only a million guesses wide, hence the rate limiter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from appliance.core.errors import refuse

CODE_DIGITS = 6


def new_code() -> str:
    """A fresh six-digit pairing code, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_token() -> str:
    """A device credential: 32 random bytes, URL-safe so it fits a cookie and a header."""
    return secrets.token_urlsafe(32)


def _digest(value: str, mac_key: bytes) -> str:
    return hmac.new(mac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def code_digest(code: str, mac_key: bytes) -> str:
    """The keyed hash stored for a pairing code (HMAC-SHA256, hex).

    Whitespace is stripped so a code typed as "123 456" matches "123456".
    """
    return _digest("".join(code.split()), mac_key)


def token_digest(token: str, mac_key: bytes) -> str:
    """The keyed hash stored for a device token (HMAC-SHA256, hex)."""
    return _digest(token, mac_key)


def digests_match(a: str, b: str) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a hash matched."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class RateLimiter:
    """Locks a key (a client address, a device) out after too many failures in a window.

    Pure: the caller passes ``now`` (monotonic seconds), so tests need no sleeping and a
    wall-clock change on the box cannot unlock anyone early.
    """

    # Above this many tracked keys, stale ones are dropped so a flood cannot grow memory.
    MAX_KEYS = 10_000

    def __init__(self, max_failures: int = 10, window_s: float = 60.0, lockout_s: float = 300.0) -> None:
        if max_failures < 1 or window_s <= 0 or lockout_s <= 0:
            raise ValueError("max_failures, window_s and lockout_s must be positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._records: dict[str, _Record] = {}

    def locked_for(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0.0 when it may try now."""
        record = self._records.get(key)
        if record is None:
            return 0.0
        return max(0.0, record.locked_until - now)

    def is_locked(self, key: str, now: float) -> bool:
        """True while ``key`` is locked out."""
        return self.locked_for(key, now) > 0.0

    def check(self, key: str, now: float) -> None:
        """Raise ``locked_out`` (with ``retry_after`` seconds) while ``key`` is locked out."""
        wait = self.locked_for(key, now)
        if wait > 0.0:
            raise refuse("locked_out", retry_after=int(wait + 0.999))

    def record_failure(self, key: str, now: float) -> bool:
        """Count a wrong guess; returns True when this failure locked the key out."""
        if len(self._records) >= self.MAX_KEYS:
            self._prune(now)
        record = self._records.setdefault(key, _Record())
        if record.locked_until > now:
            return True
        record.failures = [t for t in record.failures if now - t < self.window_s]
        record.failures.append(now)
        if len(record.failures) >= self.max_failures:
            record.locked_until = now + self.lockout_s
            record.failures.clear()
            return True
        return False

    def record_success(self, key: str) -> None:
        """Forget the key's failures: a paired device starts clean."""
        self._records.pop(key, None)

    def _prune(self, now: float) -> None:
        stale = [
            key
            for key, rec in self._records.items()
            if rec.locked_until <= now and all(now - t >= self.window_s for t in rec.failures)
        ]
        for key in stale:
            del self._records[key]

