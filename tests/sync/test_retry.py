"""Bounded retries with backoff: transient failures are retried, refusals are not."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from appliance.core.settings import Settings
from appliance.sync.rounds import endpoint_is_local
from appliance.sync.s3 import SyncError, retry


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "UploadPart")


def flaky(failures: list[Exception]) -> Any:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_transient_failures_are_retried_with_growing_waits() -> None:
    slept: list[float] = []
    fn = flaky([client_error("SlowDown", 503), EndpointConnectionError(endpoint_url="http://x"), client_error("InternalError", 500)])
    assert retry("part 1", fn, sleep=slept.append) == "ok"
    assert len(fn.calls) == 4 and slept == [0.5, 1.0, 2.0]


def test_retries_are_bounded_and_then_say_unreachable() -> None:
    slept: list[float] = []
    fn = flaky([EndpointConnectionError(endpoint_url="http://x")] * 9)
    with pytest.raises(SyncError) as err:
        retry("part 2", fn, sleep=slept.append)
    assert err.value.code == "unreachable" and len(fn.calls) == 5 and slept == [0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("InvalidAccessKeyId", 403, "credentials"), ("SignatureDoesNotMatch", 403, "credentials"),
    ("NoSuchBucket", 404, "bucket_missing"), ("EntityTooLarge", 400, "refused"),
])
def test_refusals_are_not_retried(code: str, status: int, expected: str) -> None:
    slept: list[float] = []
    fn = flaky([client_error(code, status)])
    with pytest.raises(SyncError) as err:
        retry("create upload", fn, sleep=slept.append)
    assert err.value.code == expected and len(fn.calls) == 1 and slept == []


def test_an_archive_server_in_the_hall_needs_no_uplink(tmp_path: Any) -> None:
    local = [endpoint_is_local(Settings(data_dir=tmp_path, s3_endpoint=url)) for url in
             ("http://127.0.0.1:9000", "http://10.42.0.5:9000", "http://192.168.1.20", "http://8.8.8.8")]
    assert local == [True, True, True, False]
