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


# -- live `vote` and `post` messages (appliance.web.live_ballots, live_posts) -----------

WORDS = ["for", "against", "abstain", "high", "trust", "low", "no_trust", "", "FOR", "Tán thành"]
live_fields = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                        st.text(max_size=120), st.sampled_from(WORDS), yaml_values)


@pytest.fixture(scope="module")
def open_hall(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A sitting with the three delegates in, a public poll open and a group of two."""
    from tests.web.conftest import build_hall

    gen = build_hall(tmp_path_factory.mktemp("open"))
    hall = next(gen)
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        assert hall.call("POST", "/api/attendance/check-in", role, json={}).status_code == 200
    poll = hall.call("POST", "/api/polls", "chair", json={"question": "Tán thành?", "rule": "more_than_half_of_total"})
    made = hall.call("POST", "/api/groups", "secretary", json={"mode": "manual", "groups": [
        {"name": "Tổ 1", "members": [hall.ids["chair"], hall.ids["delegate"]]}]})
    assert (poll.status_code, made.status_code) == (200, 200), (poll.text, made.text)
    hall.poll_id, hall.group_id = poll.json()["poll"]["id"], made.json()["groups"][0]["id"]
    yield hall
    gen.close()


def _judged(hall: Any, role: str, command: Any) -> list[Any]:
    """What ``decide`` makes of a parsed command, without applying it: events, or a refusal."""
    from appliance.core.errors import CATALOGUE
    from appliance.meeting.decide import decide
    from appliance.meeting.roles import Actor

    appliance = hall.client.app.state.appliance
    before = appliance.state.position
    try:
        events = decide(appliance.state, Actor.for_role(hall.ids[role], role), command, appliance.clock.now())
    except PhsError as exc:
        assert exc.code in CATALOGUE, exc.code
        events = []
    assert appliance.state.position == before  # judging changes nothing
    return events


@FUZZ
@given(data=st.data(), role=st.sampled_from(["chair", "delegate", "guest", "display"]))
def test_any_live_vote_is_a_ballot_or_a_refusal_with_a_code(open_hall: Any, data: st.DataObject, role: str) -> None:
    from appliance.web.live_ballots import MAX_ID, ballot_command

    message = data.draw(st.dictionaries(
        st.sampled_from(["type", "id", "poll_id", "answer", "answers", "extra"]),
        st.one_of(live_fields, st.just(open_hall.poll_id), st.dictionaries(st.text(max_size=8), live_fields, max_size=3)),
        max_size=6))
    try:
        client_id, command = ballot_command(message)
    except PhsError as exc:
        assert (exc.code, exc.detail.get("field") in ("id", "poll_id")) == ("invalid", True), (exc.code, exc.detail)
        return
    assert client_id == message["id"] and 1 <= len(client_id) <= MAX_ID
    assert (command.type, command.args) == ("vote", {"poll_id": message["poll_id"], "answer": message.get("answer"),
                                                    "answers": message.get("answers")})
    events = _judged(open_hall, role, command)
    if role == "guest" or role == "display":
        assert events == []
    elif message["poll_id"] == open_hall.poll_id and message.get("answer") in ("for", "against", "abstain") \
            and message.get("answers") is None:
        assert [e.type for e in events] == ["ballot_cast"]


def test_a_well_formed_live_vote_is_judged_a_ballot(open_hall: Any) -> None:
    from appliance.web.live_ballots import ballot_command

    _, command = ballot_command({"type": "vote", "id": "tap-1", "poll_id": open_hall.poll_id, "answer": "for"})
    assert [e.type for e in _judged(open_hall, "delegate", command)] == ["ballot_cast"]


@FUZZ
@given(data=st.data(), role=st.sampled_from(["chair", "vice_chair", "delegate", "guest"]))
def test_any_live_post_is_a_message_or_a_refusal_with_a_code(open_hall: Any, data: st.DataObject, role: str) -> None:
    from appliance.meeting.roles import Actor
    from appliance.web.live_posts import post_command

    ref = st.fixed_dictionaries({}, optional={"doc": live_fields, "page": live_fields,
                                              "note": st.one_of(live_fields, st.from_regex(r"\A[A-Za-z0-9_-]{8,20}\Z"))})
    message = data.draw(st.dictionaries(
        st.sampled_from(["type", "id", "group_id", "text", "ref"]),
        st.one_of(live_fields, st.just(open_hall.group_id), ref), max_size=5))
    appliance = open_hall.client.app.state.appliance
    command_of = post_command(appliance, Actor.for_role(open_hall.ids[role], role))
    try:
        client_id, command = command_of(message)
    except PhsError as exc:
        assert exc.code in ("invalid", "forbidden", "not_found"), exc.code
        return
    assert client_id == message["id"]
    assert (command.type, command.args) == ("post_group_message", {
        "group_id": message["group_id"], "text": message.get("text"), "ref": message.get("ref")})
    events = _judged(open_hall, role, command)
    if role in ("vice_chair", "guest"):  # not members of the group
        assert events == []


def test_a_well_formed_live_post_is_judged_a_message(open_hall: Any) -> None:
    from appliance.meeting.roles import Actor
    from appliance.web.live_posts import post_command

    appliance = open_hall.client.app.state.appliance
    command_of = post_command(appliance, Actor.for_role(open_hall.ids["delegate"], "delegate"))
    _, command = command_of({"type": "post", "id": "m-1", "group_id": open_hall.group_id, "text": "Tổ 1 đồng ý."})
    assert [e.type for e in _judged(open_hall, "delegate", command)] == ["group_message_posted"]


# -- USB archive envelopes and receipts (appliance.archive.envelope, receipts) -----------


@pytest.fixture(scope="module")
def envelope(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real sealed archive (a manifest and one part), its keys, and a receipt the archive side wrote."""
    import hashlib
    import io
    import tarfile

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from appliance.archive.after_sitting import remember_receipt_key
    from appliance.archive.envelope import SealingWriter, _raw, canonical
    from appliance.archive.receipts import write_receipt
    from appliance.store.keys import Keyring

    tmp = tmp_path_factory.mktemp("envelope")
    part = "Biên bản kỳ họp thứ nhất, HĐND xã Thử.\n".encode() * 40
    manifest = {"parts": [{"path": "minutes/minutes.txt", "sha256": hashlib.sha256(part).hexdigest(), "size": len(part)}]}
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        for name, body in (("manifest.json", canonical(manifest)), ("minutes/minutes.txt", part)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    private, box = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path = tmp / "s1.phsarc"
    header = {"sitting": "s1", "manifest": manifest, "manifest_sha256": hashlib.sha256(canonical(manifest)).hexdigest()}
    with path.open("wb") as out:
        writer = SealingWriter(out, header, _raw(private.public_key()), box)
        writer.write(inner.getvalue())
        writer.close()
    data_dir = tmp / "data"
    data_dir.mkdir()
    keyring = Keyring.open(tmp / "keys", data_dir, create=True)
    remember_receipt_key(data_dir, keyring, header["manifest_sha256"], writer.receipt_key)
    return {"bytes": path.read_bytes(), "private": private, "box": _raw(box.public_key()),
            "receipt": write_receipt(path, private), "data_dir": data_dir, "keyring": keyring}


def test_the_real_envelope_and_receipt_verify(envelope: dict[str, Any]) -> None:
    from appliance.archive.check import verify_file
    from appliance.archive.receipts import check_receipt

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s1.phsarc"
        path.write_bytes(envelope["bytes"])
        assert verify_file(path, envelope["private"], envelope["box"])["problems"] == []
    recorded = check_receipt(envelope["data_dir"], envelope["keyring"], envelope["receipt"])
    assert (recorded["sitting_id"], recorded["target"], recorded["key"]) == ("s1", "usb", "s1.phsarc")


@FUZZ
@given(data=st.data())
def test_a_damaged_envelope_is_refused_or_reported(envelope: dict[str, Any], data: st.DataObject) -> None:
    from appliance.archive.check import verify_file
    from appliance.archive.envelope import read_header

    good = envelope["bytes"]
    bad = data.draw(damaged(good))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s1.phsarc"
        path.write_bytes(bad)
        try:
            header = read_header(path)
        except PhsError as exc:
            assert exc.code == "invalid" and exc.message_en.startswith("Not a valid archive")
        else:
            assert isinstance(header, dict)
        without_key = verify_file(path, box_key=envelope["box"])
        with_key = verify_file(path, envelope["private"], envelope["box"])
    if bad != good:  # every byte is signed: any damage is a problem, with or without the key
        assert (without_key["ok"], with_key["ok"]) == (False, False), (without_key, with_key)
        assert without_key["problems"] and with_key["problems"]


@FUZZ
@given(data=st.data())
def test_a_damaged_receipt_is_refused_with_a_code(envelope: dict[str, Any], data: st.DataObject) -> None:
    from appliance.archive.receipts import check_receipt, load_receipt

    good = json.dumps(envelope["receipt"], ensure_ascii=False).encode()
    bad = data.draw(st.one_of(damaged(good), yaml_values.map(lambda v: json.dumps(v).encode())))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receipt.json"
        path.write_bytes(bad)
        try:
            receipt = load_receipt(path)
            recorded = check_receipt(envelope["data_dir"], envelope["keyring"], receipt)
        except PhsError as exc:
            assert exc.code in ("invalid", "forbidden"), exc.code
            return
    # Only a receipt that still says what the archive side signed is accepted.
    assert {k: receipt.get(k) for k in envelope["receipt"]} == envelope["receipt"]
    assert recorded["sitting_id"] == "s1"


# -- participant lists (appliance.meeting.roster, shared with provisioning) -------------

CORPUS = REPO.parent / "shared" / "corpus"
ROSTER_CSV = "\n".join([
    "Danh sách đại biểu HĐND xã Thử",
    "STT,Họ và tên,Chức vụ,Tổ đại biểu,Số ghế,Vai trò",
    "1,Nguyễn Văn An,Chủ tịch HĐND,Tổ 1,1,Chủ tọa",
    "2,Trần Thị Bình,Phó Chủ tịch,Tổ 1,2,Phó chủ tịch",
    '3,"Lê Văn Cường","Trưởng ban, Ban Pháp chế",Tổ 2,3,',
    "4,Phạm Thị Dung,,Tổ 2,4,Đại biểu",
]).encode()


def _roster_xlsx() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in ROSTER_CSV.decode().splitlines():
        sheet.append(next(iter(__import__("csv").reader([line]))))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROSTERS = {"dai-bieu.csv": ROSTER_CSV, "dai-bieu.xlsx": _roster_xlsx()}


def test_the_real_lists_read_without_problems() -> None:
    from appliance.meeting.roster import read_roster_bytes

    for name, data in ROSTERS.items():
        roster = read_roster_bytes(data, name)
        assert (roster.problems, [p["name"] for p in roster.participants]) == (
            [], ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]), name
        assert [p["role"] for p in roster.participants] == ["chair", "vice_chair", "delegate", "delegate"]
    if CORPUS.is_dir():
        qh = read_roster_bytes((CORPUS / "delegates-qh-xvi-derived.csv").read_bytes(), "qh.csv")
        assert (len(qh.participants), qh.problems) == (500, [])


@FUZZ
@given(data=st.data())
def test_a_damaged_participant_list_is_problems_with_lines_not_a_crash(data: st.DataObject) -> None:
    from appliance.meeting.roster import MAX_PARTICIPANTS, read_roster_bytes

    name = data.draw(st.sampled_from(sorted(ROSTERS)))
    bad = data.draw(damaged(ROSTERS[name]))
    roster = read_roster_bytes(bad, name)  # problems are collected, never raised
    assert roster.participants or roster.problems
    assert len(roster.participants) == len(roster.lines) <= MAX_PARTICIPANTS
    for problem in roster.problems:
        assert problem.line >= 0 and problem.vi and problem.en
    for p in roster.participants:
        assert p["name"] and p["role"] in ("delegate", "chair", "vice_chair", "secretary", "guest", "technician")
        assert p["seat"] is None or 1 <= p["seat"] <= 5000


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=30), max_size=7), max_size=12))
def test_any_csv_shape_reads_as_participants_or_problems(rows: list[list[str]]) -> None:
    import csv
    import io

    from appliance.meeting.roster import read_roster_bytes

    out = io.StringIO()
    csv.writer(out).writerows([["Họ và tên", "Số ghế", "Vai trò"], *rows])
    roster = read_roster_bytes(out.getvalue().encode(), "list.csv")
    assert len(roster.participants) == len(roster.lines)
    seats = [p["seat"] for p in roster.participants if p["seat"] is not None]
    assert len(seats) == len(set(seats))  # a seat is never given twice
