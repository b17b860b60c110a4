"""Every route of the OpenAPI schema, fuzzed by schemathesis as every role and a stranger.

What must hold for anything a device on the Wi-Fi can send: never a 5xx, every JSON
refusal carries a machine code from the catalogue, and a refused request (any 4xx, JSON
or not) changes nothing (the journal position stays where it was). Every route is played
as every role and as a stranger, each its own test, so no role is left to chance.
Bounded for CI by ``PHS_FUZZ_EXAMPLES`` (default 12 cases per route and generation mode,
as before, now each sent as all eight); bench/fuzz_long.sh raises it.

Hypothesis draws each route's cases once (its generation, not the requests, is what
costs: a route with nothing to negate takes seconds to prove it), and every role then
sends every one of them, so a refusal that holds for the chair but not for a guest shows
up as the guest's test failing with the case that broke it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from appliance.core.errors import CATALOGUE
from tests.web.conftest import ROLES, Hall, build_hall

EXAMPLES = int(os.environ.get("PHS_FUZZ_EXAMPLES", "12"))
WHO: list[str | None] = [*ROLES, None]  # None: a device that was never paired


def _raw_schema() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gen = build_hall(Path(tmp))
        hall = next(gen)
        try:
            raw: dict[str, Any] = hall.client.get("/api/schema/openapi.json").json()
        finally:
            gen.close()
    return raw


SCHEMA = schemathesis.openapi.from_dict(_raw_schema())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def fuzz_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """One hall for the whole module: fuzzed state piles up as it would on a real box."""
    yield from build_hall(tmp_path_factory.mktemp("fuzz"))


def position(hall: Hall) -> int:
    """The journal position the appliance has applied (read in-process: no request of its own)."""
    return int(hall.client.app.state.appliance.state.position)


_CASES: dict[tuple[str, str], list[Any] | str] = {}


def cases_of(operation: Any, mode: GenerationMode) -> list[Any] | str:
    """The operation's generated cases in this mode, drawn once for all roles (or why there are none)."""
    key = (operation.label, mode.value)
    if key in _CASES:
        return _CASES[key]
    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception as exc:  # an operation that has nothing to negate
        _CASES[key] = f"no {mode.value} cases: {exc}"
        return _CASES[key]
    drawn: list[Any] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def draw(case: Any) -> None:
        drawn.append(case)

    try:
        draw()
    except Unsatisfiable:  # no parameters and no body: nothing can be made invalid
        assert mode is GenerationMode.NEGATIVE, operation.label
    _CASES[key] = drawn or f"no {mode.value} cases could be drawn"
    return _CASES[key]


def send(hall: Hall, case: Any, who: str | None) -> Any:
    """The generated request, sent as ``who`` through the app's own test client."""
    kw = case.as_transport_kwargs(base_url="")
    headers = {k: v for k, v in kw.get("headers", {}).items() if k.lower() != "authorization"}
    extra: dict[str, Any] = {}
    if "json" in kw:
        extra["json"] = kw["json"]
    for key in ("data", "content"):
        if kw.get(key) is not None:
            extra[key] = kw[key]
    if kw.get("files"):
        # A form field is text on the wire: httpx only takes str or bytes, so a generated
        # number or null is sent as its JSON text, as a browser's form would send it.
        extra["files"] = [(name, (fn, _form_value(value))) for name, (fn, value, *_) in kw["files"]]
    return hall.call(kw["method"], kw["url"], who, headers=headers, params=kw.get("params") or None, **extra)


def _form_value(value: Any) -> bytes | str:
    if isinstance(value, bytes | str):
        return value
    import json

    return json.dumps(value)


def test_the_schema_lists_every_route() -> None:
    assert len(OPERATIONS) >= 70


def test_every_role_is_played() -> None:
    assert WHO == ["chair", "vice_chair", "delegate", "secretary", "technician", "display", "guest", None]


@pytest.mark.parametrize("who", WHO, ids=[w or "stranger" for w in WHO])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{o.method.upper()} {o.path}" for o in OPERATIONS])
def test_no_500_and_refusals_change_nothing(fuzz_hall: Hall, operation: Any, mode: GenerationMode, who: str | None) -> None:
    cases = cases_of(operation, mode)
    if isinstance(cases, str):
        pytest.skip(cases)
    assert 1 <= len(cases) <= EXAMPLES
    for case in cases:
        before = position(fuzz_hall)
        r = send(fuzz_hall, case, who)
        assert r.status_code < 500, (who, case.method, case.formatted_path, r.status_code, r.text[:300])
        if r.status_code < 400:
            continue
        code = None
        if r.headers.get("content-type", "").startswith("application/json"):
            code = r.json().get("code")
            assert code in CATALOGUE, (who, case.formatted_path, r.status_code, r.text[:300])
        assert position(fuzz_hall) == before, (who, case.method, case.formatted_path, r.status_code, code)
