"""Hypothesis fuzzing of every parser we own: damaged or hostile bytes are refused with a
reason, never a crash, a hang or a silently different answer.

Each parser gets real input first (a journal written by the journal, a bundle built by
``phs provision build``, a shipped scenario file, phs-bus frames from the encoder) and the
fuzzer then damages it. ``PHS_FUZZ_EXAMPLES`` bounds the examples (CI default: 60 per
parser); bench/fuzz_long.sh raises it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.core.errors import PhsError
from appliance.devices.phsbus.proto import MAX_PAYLOAD, Decoder, encode
from appliance.scenario.model import load_scenario
from appliance.scenario.yamlsrc import ScenarioFileError
from appliance.store.journal import Journal
from appliance.store.verify import verify_journal

EXAMPLES = int(os.environ.get("PHS_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
REPO = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few flips, cuts, insertions or a truncation."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "overwrite"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del data[at:]
        else:
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
    return bytes(data)


# -- journal ---------------------------------------------------------------------------


def _journal_segments() -> dict[str, bytes]:
    async def build(directory: Path) -> None:
        journal = await Journal.open(directory, KEY)
        for i in range(1, 13):
            await journal.append({"type": "note", "i": i, "who": "Nguyễn Văn An"})
        await journal.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(build(Path(tmp)))
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}


JOURNAL = _journal_segments()


@FUZZ
@given(data=st.data())
def test_a_damaged_journal_is_reported_not_a_crash(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(n for n, b in JOURNAL.items() if b)))
    bad = data.draw(damaged(JOURNAL[name]))
    with tempfile.TemporaryDirectory() as tmp:
        for other, content in JOURNAL.items():
            (Path(tmp) / other).write_bytes(bad if other == name else content)
        try:
            report = verify_journal(Path(tmp), KEY)
        except PhsError as exc:  # a refusal with a code is an answer too
            assert exc.code
            return
    if bad != JOURNAL[name] and report.ok:
        # Every byte is sealed or chained, so the only damage the journal alone cannot see
        # is a cut at a frame boundary: it reads as a shorter journal (a snapshot's
        # position catches that on start-up).
        assert JOURNAL[name].startswith(bad) and report.records < 12
    elif bad != JOURNAL[name]:
        assert report.first_bad is not None and report.problems


# -- provisioning bundle ----------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A real signed bundle built by the IT laptop's tool, and the key it trusts."""
    import yaml

    from provisioning.cli import main as provision_main
    from provisioning.crypto import load_org_key, raw_public
    from tests.provisioning.conftest import FIXTURES, SITTING

    tmp = tmp_path_factory.mktemp("bundle")
    key = tmp / "org.key"
    assert provision_main(["keygen", "-o", str(key)]) == 0
    docs = tmp / "docs"
    docs.mkdir()
    shutil.copy(REPO / "appliance/demo/chuong-trinh-ky-hop.pdf", docs / "chuong-trinh-ky-hop.pdf")
    sitting = tmp / "plain.yaml"
    plain = {k: v for k, v in SITTING.items() if k not in ("network", "upstream")}
    plain["agenda"] = [{"title": "Khai mạc", "documents": ["chuong-trinh-ky-hop.pdf"]}]
    sitting.write_text(yaml.safe_dump(plain, allow_unicode=True), encoding="utf-8")
    out = tmp / "b.phsb"
    code = provision_main(["build", "--key", str(key), "--config", str(sitting), "--participants",
                           str(FIXTURES / "dai-bieu.csv"), "--documents", str(docs), "-o", str(out)])
    assert code == 0
    return out.read_bytes(), raw_public(load_org_key(key).public_key())


@FUZZ
@given(data=st.data())
def test_a_damaged_bundle_is_refused_with_a_code(bundle: tuple[bytes, bytes], data: st.DataObject) -> None:
    from provisioning.reader import read_bundle

    valid, trusted = bundle
    bad = data.draw(damaged(valid))
    try:
        read = read_bundle(bad, trusted=trusted)
    except PhsError as exc:
        assert exc.code.startswith("bundle_") or exc.code in ("invalid", "payload_too_large"), exc.code
        assert exc.message and exc.message_en
        return
    # Damage that still verifies can only be in tar padding the signature does not cover.
    assert read.files == read_bundle(valid, trusted=trusted).files


# -- phs-bus serial frames ---------------------------------------------------------------

frames = st.builds(
    encode,
    st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
    st.binary(max_size=MAX_PAYLOAD),
)


@FUZZ
@given(good=st.lists(frames, min_size=1, max_size=8), noise=st.binary(max_size=200),
       chunks=st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_bus_decoder_finds_every_frame_after_noise(good: list[bytes], noise: bytes, chunks: list[int]) -> None:
    """Noise before whole frames, fed in arbitrary pieces: every frame still comes out, once."""
    stream = noise + b"".join(good)
    decoder, out, i = Decoder(), [], 0
    for size in chunks * (len(stream) // max(1, sum(chunks)) + 1):
        if i >= len(stream):
            break
        out += decoder.feed(stream[i : i + size])
        i += size
    out += decoder.feed(b"")
    wanted = [(f[1], f[2], f[3], f[5:-2]) for f in good]
    # Noise may itself hold a valid frame (it passed a CRC): the good frames end the stream.
    assert out[len(out) - len(wanted) :] == wanted
    assert len(decoder.buf) < 7 + MAX_PAYLOAD


@FUZZ
@given(junk=st.binary(max_size=4096))
def test_bus_decoder_buffer_stays_bounded_on_junk(junk: bytes) -> None:
    decoder = Decoder()
    for at in range(0, len(junk), 97):
        for addr, _cmd, _seq, payload in decoder.feed(junk[at : at + 97]):
            assert len(payload) <= MAX_PAYLOAD and 0 <= addr <= 255
        assert len(decoder.buf) < 7 + MAX_PAYLOAD


# -- scenario files ----------------------------------------------------------------------

SCENARIOS = sorted((REPO / "tests/scenarios").rglob("*.yaml"))[:40]


@FUZZ
@given(data=st.data())
def test_a_damaged_scenario_file_is_a_file_error_with_a_line(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(SCENARIOS))
    text = original.read_text(encoding="utf-8")
    bad = data.draw(damaged(text.encode())).decode("utf-8", errors="replace")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(bad, encoding="utf-8")
        for doc in original.parent.iterdir():  # documents a scenario names, by relative path
            if doc.is_file() and doc.suffix != ".yaml":
                shutil.copy(doc, Path(tmp) / doc.name)
        try:
            load_scenario(path)
        except ScenarioFileError as exc:
            assert str(exc)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(setup=yaml_values, steps=yaml_values, name=yaml_values)
def test_any_yaml_shape_is_a_file_error_or_a_scenario(setup: Any, steps: Any, name: Any) -> None:
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(yaml.safe_dump({"name": name, "setup": setup, "steps": steps}, allow_unicode=True), encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioFileError as exc:
            assert "line" in str(exc) or str(exc)


# -- WebSocket messages on the live channel ---------------------------------------------

ws_messages = st.one_of(
    st.text(max_size=300),
    yaml_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.fixed_dictionaries({"type": st.sampled_from(["resume", "ping", "hello", ""]),
                           "position": st.one_of(st.integers(-2**70, 2**70), st.floats(), st.text(max_size=5), st.none())})
    .map(json.dumps),
)


@pytest.fixture(scope="module")
def live_hall(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.web.conftest import build_hall

    yield from build_hall(tmp_path_factory.mktemp("live"))


@settings(max_examples=max(5, EXAMPLES // 6), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(messages=st.lists(ws_messages, min_size=1, max_size=12))
def test_any_live_message_leaves_the_channel_answering(live_hall: Any, messages: list[str]) -> None:
    """Whatever a device sends, the channel stays up and still answers a ping with a pong."""
    live_hall.client.cookies.clear()
    with live_hall.client.websocket_connect("/api/live", headers=live_hall.headers("delegate")) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        for message in messages:
            ws.send_text(message)
        ws.send_text('{"type": "ping"}')
        seen = []
        for _ in range(len(messages) + 2):
            reply = ws.receive_json()
            seen.append(reply["type"])
            if reply["type"] == "pong":
                break
        assert seen[-1] == "pong", seen
        assert set(seen) <= {"error", "snapshot", "pong", "update"}
