"""Pairing and device trust through the real app (Litestar's test client, a fixed clock):
code expiry and reuse, seat cards and the pairing window, device keys and replay,
revocation, and what plain HTTP serves when HTTPS is on."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from litestar.testing import TestClient

from appliance.core.clock import FixedClock
from appliance.core.settings import Settings
from appliance.pairing.device_keys import proof_message
from appliance.web.app import create_app
from appliance.web.service import Appliance

SETUP = "424242"


class Box:
    """A test client on a fixed clock, a secretary, a technician and three delegates."""

    def __init__(self, client: TestClient[Any], clock: FixedClock, appliance: Appliance) -> None:
        self.client = client
        self.clock = clock
        self.appliance = appliance
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def call(self, method: str, path: str, who: str | None = None, **kw: Any) -> Any:
        self.client.cookies.clear()
        headers = {
            **({"Authorization": f"Bearer {self.tokens[who]}"} if who else {}),
            **kw.pop("headers", {}),
        }
        return self.client.request(method, path, headers=headers, **kw)

    def code_for(self, who: str) -> str:
        r = self.call(
            "POST", "/api/pairing-codes", "secretary", json={"participant_id": self.ids[who]}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["code"])


def _box(tmp: Path, base_url: str = "http://testserver.local", **settings: Any) -> Iterator[Box]:
    clock = FixedClock()
    cfg = Settings(data_dir=tmp / "data", keys_dir=tmp / "keys", setup_code=SETUP, **settings)
    appliance = Appliance(cfg, clock=clock)
    with TestClient(create_app(cfg, appliance), base_url=base_url) as client:
        box = Box(client, clock, appliance)
        box.tokens["secretary"] = client.post("/api/pair", json={"code": SETUP}).json()["token"]
        box.call(
            "POST",
            "/api/setup",
            "secretary",
            json={"body": "HĐND xã Thử", "session": "Kỳ họp thứ nhất"},
        )
        rows = [
            {"name": "Nguyễn Văn An", "role": "chair", "seat": 1},
            {"name": "Trần Thị Bình", "role": "delegate", "seat": 2},
            {"name": "Lê Văn Cường", "role": "delegate", "seat": 3},
            {"name": "Kỹ thuật viên", "role": "technician"},
        ]
        made = box.call(
            "POST", "/api/participants", "secretary", json={"participants": rows}
        ).json()["participants"]
        for key, p in zip(("d1", "d2", "d3", "technician"), made, strict=True):
            box.ids[key] = p["id"]
        box.tokens["technician"] = box.call(
            "POST", "/api/pair", json={"code": box.code_for("technician")}
        ).json()["token"]
        yield box


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    yield from _box(tmp_path)


def test_typed_code_expires_after_ten_minutes(box: Box) -> None:
    late = box.code_for("d1")
    on_time = box.code_for("d2")
    box.clock.advance(599)
    assert box.call("POST", "/api/pair", json={"code": on_time}).status_code == 200
    box.clock.advance(2)  # 601 s after issue
    r = box.call("POST", "/api/pair", json={"code": late})
    assert (r.status_code, r.json()["code"]) == (400, "code_invalid")


def test_code_pairs_once(box: Box) -> None:
    code = box.code_for("d1")
    first = box.call("POST", "/api/pair", json={"code": code})
    assert first.status_code == 200
    assert first.json()["participant"]["name"] == "Nguyễn Văn An"
    again = box.call("POST", "/api/pair", json={"code": code})
    assert (again.status_code, again.json()["code"]) == (400, "code_invalid")


def test_pair_cookie_is_httponly_and_samesite_strict(box: Box) -> None:
    r = box.call("POST", "/api/pair", json={"code": box.code_for("d1")})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("phs_token=")
    token = r.json()["token"]
    # Plain HTTP only on loopback or with HTTPS off: Secure is set over HTTPS (test_tls_server.py).
    assert cookie == f"phs_token={token}; HttpOnly; Max-Age=2592000; Path=/; SameSite=strict"


def cards(box: Box, *who: str) -> dict[str, str]:
    r = box.call(
        "POST",
        "/api/pairing/cards",
        "secretary",
        json={"participant_ids": [box.ids[w] for w in who]},
    )
    assert r.status_code == 200, r.text
    out = {c["participant_id"]: c for c in r.json()["cards"]}
    for c in out.values():
        assert c["qr_svg"].startswith("<svg") and c["pair_url"].endswith(f"/ui/?card={c['code']}")
    return {w: out[box.ids[w]]["code"] for w in who}


def test_seat_card_pairs_only_inside_a_window_and_only_once(box: Box) -> None:
    code = cards(box, "d2")["d2"]
    closed = box.call("POST", "/api/pair", json={"code": code})
    assert (closed.status_code, closed.json()["code"]) == (409, "pairing_window_closed")
    opened = box.call("POST", "/api/pairing/window", "technician", json={"minutes": 10})
    assert opened.json()["open"] is True and opened.json()["seconds_left"] == 600
    paired = box.call(
        "POST", "/api/pair", json={"code": code.lower()}
    )  # typed from the card in lower case
    assert (paired.status_code, paired.json()["participant"]["seat"]) == (200, 2)
    again = box.call("POST", "/api/pair", json={"code": code})
    assert (again.status_code, again.json()["code"]) == (400, "code_invalid")


def test_pairing_window_closes_by_itself_and_by_hand(box: Box) -> None:
    codes = cards(box, "d1", "d3")
    box.call("POST", "/api/pairing/window", "technician", json={"minutes": 5})
    box.clock.advance(301)
    late = box.call("POST", "/api/pair", json={"code": codes["d1"]})
    assert (late.status_code, late.json()["code"]) == (409, "pairing_window_closed")
    box.call("POST", "/api/pairing/window", "technician", json={"minutes": 5})
    box.call("POST", "/api/pairing/window/close", "technician")
    shut = box.call("POST", "/api/pair", json={"code": codes["d3"]})
    assert (shut.status_code, shut.json()["code"]) == (409, "pairing_window_closed")
    assert box.call("GET", "/api/pairing/window", "technician").json()["open"] is False


def test_reprinted_card_replaces_the_lost_one(box: Box) -> None:
    lost = cards(box, "d2")["d2"]
    new = cards(box, "d2")["d2"]
    box.call("POST", "/api/pairing/window", "technician", json={"minutes": 10})
    r = box.call("POST", "/api/pair", json={"code": lost})
    assert (r.status_code, r.json()["code"]) == (400, "code_invalid")
    assert box.call("POST", "/api/pair", json={"code": new}).status_code == 200


def test_cards_printed_on_the_box_itself_point_tablets_at_its_name(tmp_path: Path) -> None:
    # The secretary prints from the box's own browser (loopback); tablets cannot reach 127.0.0.1.
    for box in _box(tmp_path, base_url="http://127.0.0.1:8080", host="0.0.0.0", tls="off"):
        r = box.call(
            "POST", "/api/pairing/cards", "secretary", json={"participant_ids": [box.ids["d1"]]}
        )
        card = r.json()["cards"][0]
        assert card["pair_url"] == f"http://phs.local:8080/ui/?card={card['code']}"


def test_technician_cannot_print_a_delegates_card(box: Box) -> None:
    r = box.call(
        "POST", "/api/pairing/cards", "technician", json={"participant_ids": [box.ids["d1"]]}
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    staff = box.call(
        "POST",
        "/api/pairing/cards",
        "technician",
        json={"participant_ids": [box.ids["technician"]]},
    )
    assert staff.status_code == 200


# -- device keys --------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tablet:
    """What a browser does with WebCrypto: a P-256 key, raw public point, P1363 signatures."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def proof(self, method: str, path: str, ms: int) -> str:
        r, s = decode_dss_signature(
            self.key.sign(proof_message(ms, method, path), ec.ECDSA(hashes.SHA256()))
        )
        return f"{ms}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_copied_credential_without_the_device_key_is_refused_and_logged(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    tablet = Tablet()
    r = box.call(
        "POST", "/api/pair", json={"code": box.code_for("d2"), "device_key": tablet.public}
    )
    token, device = r.json()["token"], r.json()["device_id"]
    ms = int(box.clock.wall * 1000)
    auth = {"Authorization": f"Bearer {token}"}
    ok = box.call(
        "GET", "/api/me", headers={**auth, "X-PHS-Proof": tablet.proof("GET", "/api/me", ms)}
    )
    assert (ok.status_code, ok.json()["participant"]["name"]) == (200, "Trần Thị Bình")
    caplog.set_level(logging.WARNING, logger="phs.trust")
    stolen = box.call("GET", "/api/me", headers=auth)  # the cookie alone, on another machine
    assert (stolen.status_code, stolen.json()["code"]) == (401, "device_proof_invalid")
    other = Tablet()  # another device's key signing for this credential
    forged = box.call(
        "GET", "/api/me", headers={**auth, "X-PHS-Proof": other.proof("GET", "/api/me", ms)}
    )
    assert (forged.status_code, forged.json()["code"]) == (401, "device_proof_invalid")
    wrong_path = box.call(
        "GET", "/api/state", headers={**auth, "X-PHS-Proof": tablet.proof("GET", "/api/me", ms)}
    )
    assert wrong_path.status_code == 401
    stale = box.call(
        "GET",
        "/api/me",
        headers={**auth, "X-PHS-Proof": tablet.proof("GET", "/api/me", ms - 121_000)},
    )
    assert (stale.status_code, stale.json()["detail"]["now_ms"]) == (401, ms)
    fresh = tablet.proof("GET", "/api/me", ms)
    assert box.call("GET", "/api/me", headers={**auth, "X-PHS-Proof": fresh}).status_code == 200
    replayed = box.call("GET", "/api/me", headers={**auth, "X-PHS-Proof": fresh})
    assert replayed.status_code == 401
    warnings = [
        r for r in caplog.records if r.getMessage() == "device credential used without its key"
    ]
    assert [getattr(r, "why", "") for r in warnings] == [
        "missing",
        "bad signature",
        "bad signature",
        "stale",
        "replayed proof",
    ]
    assert all(getattr(r, "device", "") == device for r in warnings)
    assert token not in caplog.text
    listed = {
        d["id"]: d for d in box.call("GET", "/api/pairing/devices", "technician").json()["devices"]
    }
    assert (listed[device]["has_key"], listed[device]["refused_without_key"]) == (True, 5)


def test_keyed_device_proves_its_live_channel(box: Box) -> None:
    tablet = Tablet()
    token = box.call(
        "POST", "/api/pair", json={"code": box.code_for("d3"), "device_key": tablet.public}
    ).json()["token"]
    proof = tablet.proof("WS", "/api/live", int(box.clock.wall * 1000))
    with box.client.websocket_connect(
        f"/api/live?proof={proof}", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        assert ws.receive_json()["type"] == "snapshot"
    refused = box.call("GET", "/api/state", headers={"Authorization": f"Bearer {token}"})
    assert refused.json()["code"] == "device_proof_invalid"


def test_bad_device_key_is_refused_at_pairing(box: Box) -> None:
    code = box.code_for("d1")
    r = box.call(
        "POST", "/api/pair", json={"code": code, "device_key": b64url(b"\x04" + b"\x01" * 64)}
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert (
        box.call("POST", "/api/pair", json={"code": code}).status_code == 200
    )  # the code was not used up


# -- revocation and the device list --------------------------------------------------


def test_technician_sees_devices_and_revokes_one(box: Box) -> None:
    d1 = box.call("POST", "/api/pair", json={"code": box.code_for("d1")}).json()
    box.clock.advance(30)
    assert (
        box.call("GET", "/api/me", headers={"Authorization": f"Bearer {d1['token']}"}).status_code
        == 200
    )
    listed = {
        d["id"]: d for d in box.call("GET", "/api/pairing/devices", "technician").json()["devices"]
    }
    mine = listed[d1["device_id"]]
    assert (mine["name"], mine["seat"], mine["last_seen"], mine["revoked"]) == (
        "Nguyễn Văn An",
        1,
        box.clock.wall,
        False,
    )
    r = box.call("POST", f"/api/pairing/devices/{d1['device_id']}/revoke", "technician")
    assert r.status_code == 200
    refused = box.call("GET", "/api/me", headers={"Authorization": f"Bearer {d1['token']}"})
    assert (refused.status_code, refused.json()["code"]) == (401, "device_revoked")
    assert refused.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    again = box.call("POST", f"/api/pairing/devices/{d1['device_id']}/revoke", "technician")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    listed = {
        d["id"]: d for d in box.call("GET", "/api/pairing/devices", "technician").json()["devices"]
    }
    assert (listed[d1["device_id"]]["revoked"], listed[d1["device_id"]]["revoked_at"]) == (
        True,
        box.clock.wall,
    )
    delegate = box.call("POST", f"/api/pairing/devices/{d1['device_id']}/revoke", None)
    assert delegate.json()["code"] == "not_paired"


# -- plain HTTP with HTTPS on ----------------------------------------------------------


@pytest.fixture
def tls_client(tmp_path: Path) -> Iterator[TestClient[Any]]:
    from appliance.web.tls import ensure

    ensure(tmp_path / "data")
    cfg = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", tls="on", tls_port=8443)
    with TestClient(create_app(cfg)) as client:
        yield client


def test_plain_http_serves_only_the_start_page_and_the_ca(tls_client: TestClient[Any]) -> None:
    # Litestar's test client is not loopback (client "testclient"): a tablet on the Wi-Fi.
    c = tls_client
    r = c.get("/api/state", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (
        302,
        "https://testserver.local:8443/api/state",
    )
    r = c.post("/api/pair", json={"code": "123456"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (308, "https://testserver.local:8443/api/pair")
    r = c.get("/ui/?code=123456", follow_redirects=False)
    assert r.headers["location"] == "https://testserver.local:8443/ui/?code=123456"
    r = c.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, "/ui/pair.html")
    page = c.get("/ui/pair.html")
    assert page.status_code == 200 and "pair.js" in page.text
    ca = c.get("/api/tls/ca.pem")
    assert ca.status_code == 200 and ca.content.startswith(b"-----BEGIN CERTIFICATE-----")
    info = c.get("/api/tls/info").json()
    assert info["https_base"] == "https://testserver.local:8443" and len(info["fingerprint"]) == 95
    from litestar.exceptions import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), c.websocket_connect("/api/live") as ws:
        ws.receive_text()


def test_last_contact_moves_with_each_request(box: Box) -> None:
    d = box.call("POST", "/api/pair", json={"code": box.code_for("d2")}).json()
    box.clock.advance(120)
    box.call("GET", "/api/state", headers={"Authorization": f"Bearer {d['token']}"})
    listed = {
        x["id"]: x for x in box.call("GET", "/api/pairing/devices", "technician").json()["devices"]
    }
    assert listed[d["device_id"]]["last_seen"] == box.clock.wall


# -- the PIN before voting --------------------------------------------------------------


def test_vote_needs_the_delegates_pin_when_the_body_asks_it(box: Box) -> None:
    for who in ("d1", "d2", "d3"):
        box.tokens[who] = box.call("POST", "/api/pair", json={"code": box.code_for(who)}).json()[
            "token"
        ]
    assert (
        box.call(
            "POST", f"/api/attendance/{box.ids['d2']}/pin", "secretary", json={"pin": "2468"}
        ).status_code
        == 200
    )
    box.call("POST", "/api/sitting/open", "d1", json={})
    for who in ("d1", "d2", "d3"):
        assert box.call("POST", "/api/attendance/check-in", who, json={}).status_code == 200
    poll = box.call("POST", "/api/polls", "d1", json={"question": "Tán thành?"}).json()["poll"][
        "id"
    ]
    rule = box.call("POST", "/api/pairing/vote-pin-rule", "secretary", json={"required": True})
    assert rule.json() == {"required": True}
    assert (
        box.call("POST", "/api/pairing/vote-pin-rule", "d1", json={"required": False}).json()[
            "code"
        ]
        == "forbidden"
    )

    refused = box.call("POST", f"/api/polls/{poll}/ballots", "d2", json={"answer": "for"})
    assert (refused.status_code, refused.json()["code"]) == (403, "pin_required")
    with box.client.websocket_connect(
        "/api/live", headers={"Authorization": f"Bearer {box.tokens['d2']}"}
    ) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "vote", "id": "b-1", "poll_id": poll, "answer": "for"})
        ack = ws.receive_json()
        while ack.get("type") != "ack":
            ack = ws.receive_json()
        assert (ack["ok"], ack["code"]) == (
            False,
            "pin_required",
        )  # the live channel asks the PIN too
    status = box.call("GET", "/api/pairing/vote-pin", "d2").json()
    assert status == {"required": True, "open": [poll], "unlocked": []}
    wrong = box.call("POST", "/api/pairing/vote-pin", "d2", json={"poll_id": poll, "pin": "1357"})
    assert (wrong.status_code, wrong.json()["detail"]["reason"]) == (403, "pin_wrong")
    no_pin = box.call("POST", "/api/pairing/vote-pin", "d3", json={"poll_id": poll, "pin": "2468"})
    assert (
        no_pin.json()["detail"]["reason"] == "pin_missing"
    )  # d3 has no PIN: the secretary sets one
    ok = box.call("POST", "/api/pairing/vote-pin", "d2", json={"poll_id": poll, "pin": "2468"})
    assert ok.json() == {"required": True, "open": [poll], "unlocked": [poll]}
    assert (
        box.call("POST", f"/api/polls/{poll}/ballots", "d2", json={"answer": "for"}).status_code
        == 200
    )
    # Off again: the chair votes without a PIN.
    box.call("POST", "/api/pairing/vote-pin-rule", "secretary", json={"required": False})
    assert (
        box.call("POST", f"/api/polls/{poll}/ballots", "d1", json={"answer": "for"}).status_code
        == 200
    )


def test_five_wrong_vote_pins_lock_the_tablet(box: Box, caplog: pytest.LogCaptureFixture) -> None:
    box.tokens["d2"] = box.call("POST", "/api/pair", json={"code": box.code_for("d2")}).json()[
        "token"
    ]
    box.call("POST", f"/api/attendance/{box.ids['d2']}/pin", "secretary", json={"pin": "2468"})
    box.tokens["d1"] = box.call("POST", "/api/pair", json={"code": box.code_for("d1")}).json()[
        "token"
    ]
    box.call("POST", "/api/sitting/open", "d1", json={})
    for who in ("d1", "d2"):  # two of three: quorum
        box.call("POST", "/api/attendance/check-in", who, json={})
    poll = box.call("POST", "/api/polls", "d1", json={"question": "Tán thành?"}).json()["poll"][
        "id"
    ]
    box.call("POST", "/api/pairing/vote-pin-rule", "secretary", json={"required": True})
    caplog.set_level(logging.WARNING, logger="phs.trust")
    codes = [
        box.call(
            "POST", "/api/pairing/vote-pin", "d2", json={"poll_id": poll, "pin": f"{1000 + i}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [403, 403, 403, 403, 403, 429]
    right = box.call("POST", "/api/pairing/vote-pin", "d2", json={"poll_id": poll, "pin": "2468"})
    assert right.json()["code"] == "locked_out"  # even the right PIN waits out the lock
    assert [r.getMessage() for r in caplog.records] == ["vote PIN locked for a device"]
    assert "2468" not in caplog.text


def test_signed_request_earns_a_short_session_for_page_images(box: Box) -> None:
    tablet = Tablet()
    r = box.call(
        "POST", "/api/pair", json={"code": box.code_for("d2"), "device_key": tablet.public}
    )
    token, device = r.json()["token"], r.json()["device_id"]
    auth = {"Authorization": f"Bearer {token}"}
    ms = int(box.clock.wall * 1000)
    signed = box.call(
        "GET",
        "/api/pairing/session",
        headers={**auth, "X-PHS-Proof": tablet.proof("GET", "/api/pairing/session", ms)},
    )
    cookie = signed.headers["set-cookie"]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert cookie == f"phs_device_session={value}; HttpOnly; Max-Age=1800; Path=/; SameSite=Strict"
    assert value.startswith(f"{device}.{ms + 1_800_000}.")
    # An <img> sends the cookies but cannot sign: the session stands in for the proof.
    img = box.call("GET", "/api/me", headers={**auth, "Cookie": f"phs_device_session={value}"})
    assert img.status_code == 200
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert (
        box.call(
            "GET", "/api/me", headers={**auth, "Cookie": f"phs_device_session={forged}"}
        ).status_code
        == 401
    )
    box.clock.advance(1801)  # a copied pair of cookies dies with the session
    late = box.call("GET", "/api/me", headers={**auth, "Cookie": f"phs_device_session={value}"})
    assert (late.status_code, late.json()["code"]) == (401, "device_proof_invalid")
