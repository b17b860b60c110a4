"""Pairing codes, tokens and the guessing limit."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from appliance.core.errors import PhsError
from appliance.pairing.codes import (
    RateLimiter,
    code_digest,
    digests_match,
    new_code,
    new_token,
    token_digest,
)

KEY = b"k" * 32


def test_new_code_is_six_digits_with_leading_zeros_kept() -> None:
    codes = {new_code() for _ in range(2000)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 1900  # random, not a counter


def test_code_digest_is_hmac_sha256_hex_and_ignores_spaces() -> None:
    expected = hmac.new(KEY, b"012345", hashlib.sha256).hexdigest()
    assert code_digest("012345", KEY) == expected
    assert code_digest(" 012 345 ", KEY) == expected
    assert code_digest("012345", b"x" * 32) != expected


def test_token_is_urlsafe_and_stored_only_as_a_keyed_hash() -> None:
    token = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert token_digest(token, KEY) == hmac.new(KEY, token.encode(), hashlib.sha256).hexdigest()
    assert token not in token_digest(token, KEY)
    assert digests_match(token_digest(token, KEY), token_digest(token, KEY))
    assert not digests_match(token_digest(token, KEY), token_digest(new_token(), KEY))


def test_the_eleventh_wrong_guess_inside_a_minute_is_locked_out() -> None:
    limiter = RateLimiter()
    for i in range(10):
        limiter.check("10.42.0.7", now=100.0 + i)
        limiter.record_failure("10.42.0.7", now=100.0 + i)
    with pytest.raises(PhsError) as refused:
        limiter.check("10.42.0.7", now=110.0)
    assert refused.value.code == "locked_out"
    assert refused.value.status == 429
    assert refused.value.detail == {"retry_after": 299}
    # Another tablet is not punished for its neighbour.
    limiter.check("10.42.0.8", now=110.0)


def test_after_the_lock_passes_guesses_are_accepted_again() -> None:
    limiter = RateLimiter()
    for i in range(10):
        limiter.record_failure("tablet", now=float(i))
    assert limiter.is_locked("tablet", now=308.9)
    assert limiter.locked_for("tablet", now=300.0) == pytest.approx(9.0)
    assert not limiter.is_locked("tablet", now=309.0)
    limiter.check("tablet", now=309.0)
    # The lock-out also wiped the count: one more miss does not lock again.
    assert limiter.record_failure("tablet", now=309.5) is False


def test_failures_outside_the_window_do_not_add_up() -> None:
    limiter = RateLimiter(max_failures=10, window_s=60.0, lockout_s=300.0)
    for i in range(20):
        assert limiter.record_failure("slow", now=i * 7.0) is False  # 7 s apart: at most 9 a minute
    assert not limiter.is_locked("slow", now=140.0)


def test_success_forgets_earlier_failures() -> None:
    limiter = RateLimiter(max_failures=3)
    limiter.record_failure("t", now=0.0)
    limiter.record_failure("t", now=1.0)
    limiter.record_success("t")
    assert limiter.record_failure("t", now=2.0) is False
    assert limiter.record_failure("t", now=3.0) is False
    assert limiter.record_failure("t", now=4.0) is True


def test_stale_keys_are_pruned_so_a_flood_cannot_grow_memory() -> None:
    limiter = RateLimiter()
    limiter.MAX_KEYS = 100
    for i in range(100):
        limiter.record_failure(f"ip{i}", now=0.0)
    limiter.record_failure("late", now=1000.0)
    assert len(limiter._records) == 1


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(max_failures=0)
