"""Device trust against the real ``phs serve`` process on real sockets: revocation closes
the live channel within a second, a hundred wrong codes lock pairing (and say so in the
log), and the HTTPS listener's certificate chains to the box's CA and names the
interface addresses (a real TLS handshake)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from pathlib import Path

import httpx
import pytest
import websockets
from cryptography import x509

from appliance.scenario.server import free_port
from appliance.web.tls import BOX_NAME, fingerprint, interface_addresses
from tests.web.realserver import Driver


async def test_revoked_device_is_cut_off_within_a_second(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    await driver.setup(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"])
    try:
        ws_url = driver.server.base_url.replace("http://", "ws://") + "/api/live"
        async with (
            driver.client() as c,
            websockets.connect(ws_url, additional_headers=driver.h("d2")) as revoked_ws,
            websockets.connect(ws_url, additional_headers=driver.h("d3")) as other_ws,
        ):
            assert json.loads(await revoked_ws.recv())["type"] == "snapshot"
            assert json.loads(await other_ws.recv())["type"] == "snapshot"
            me = (await c.get("/api/me", headers=driver.h("d2"))).json()
            started = time.monotonic()
            r = await c.post(
                f"/api/pairing/devices/{me['device_id']}/revoke", headers=driver.h("secretary")
            )
            assert r.status_code == 200, r.text
            messages = []
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    messages.append(json.loads(await asyncio.wait_for(revoked_ws.recv(), 1.0)))
            elapsed = time.monotonic() - started
            assert elapsed < 1.0
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
            assert messages[-1] == {"type": "revoked", "wipe": True, "code": "device_revoked"}
            refused = await c.get("/api/state", headers=driver.h("d2"))
            assert (refused.status_code, refused.json()["code"]) == (401, "device_revoked")
            assert refused.headers["clear-site-data"] == '"cache", "cookies", "storage"'
            with pytest.raises(websockets.InvalidStatus):  # no new live channel either
                async with websockets.connect(ws_url, additional_headers=driver.h("d2")):
                    pass
            # Everyone else carries on: the other tablet's channel is still live.
            await other_ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(other_ws.recv(), 2.0))["type"] in (
                "pong",
                "update",
            )
            assert (await c.get("/api/me", headers=driver.h("d3"))).status_code == 200
            listed = (await c.get("/api/pairing/devices", headers=driver.h("secretary"))).json()[
                "devices"
            ]
            row = next(d for d in listed if d["id"] == me["device_id"])
            assert (row["name"], row["revoked"], row["connected"]) == ("Trần Thị Bình", True, False)
        # A power cut does not bring the tablet back: the revocation is in the journal.
        await driver.server.restart(hard=True)
        async with driver.client() as c:
            after = await c.get("/api/me", headers=driver.h("d2"))
            assert (after.status_code, after.json()["code"]) == (401, "device_revoked")
            assert (await c.get("/api/me", headers=driver.h("d3"))).status_code == 200
    finally:
        await driver.server.stop()


async def test_hundred_wrong_codes_lock_pairing_and_are_logged(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    await driver.setup(["Nguyễn Văn An", "Trần Thị Bình"])
    try:
        async with driver.client() as c:
            good = (
                await c.post(
                    "/api/pairing-codes",
                    json={"participant_id": driver.ids["d2"]},
                    headers=driver.h("secretary"),
                )
            ).json()["code"]
        wrong = f"{(int(good) + 1) % 1_000_000:06d}"
        codes: list[tuple[int, str]] = []
        # A guesser hopping addresses: 100 loopback source addresses, one wrong code each,
        # so the per-address limit never trips and only the box-wide one can stop it.
        for i in range(100):
            transport = httpx.AsyncHTTPTransport(
                local_address=f"127.0.{1 + i // 200}.{1 + i % 200}"
            )
            async with httpx.AsyncClient(
                base_url=driver.server.base_url, transport=transport, trust_env=False
            ) as g:
                r = await g.post("/api/pair", json={"code": wrong})
                codes.append((r.status_code, r.json()["code"]))
        assert codes[:99] == [(400, "code_invalid")] * 99
        assert codes[99] == (400, "code_invalid")  # the hundredth is judged, then the lock engages
        async with driver.client() as c:
            locked = await c.post("/api/pair", json={"code": good})
            assert (locked.status_code, locked.json()["code"]) == (429, "locked_out")
            assert 895 <= locked.json()["detail"]["retry_after"] <= 900
            window = (await c.get("/api/pairing/window", headers=driver.h("secretary"))).json()
            assert 895 <= window["pairing_locked_s"] <= 900
            log = driver.server.stderr_path.read_text(encoding="utf-8")
            assert "pairing locked: too many wrong codes" in log
            assert good not in log and wrong not in log
            # The technician at the console lifts the lock by opening a pairing window.
            await c.post("/api/pairing/window", json={"minutes": 5}, headers=driver.h("secretary"))
            paired = await c.post("/api/pair", json={"code": good})
            assert (paired.status_code, paired.json()["participant"]["name"]) == (
                200,
                "Trần Thị Bình",
            )
    finally:
        await driver.server.stop()


async def test_one_address_is_locked_after_ten_wrong_codes(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    await driver.setup(["Nguyễn Văn An", "Trần Thị Bình"])
    try:
        async with driver.client() as c:
            good = (
                await c.post(
                    "/api/pairing-codes",
                    json={"participant_id": driver.ids["d2"]},
                    headers=driver.h("secretary"),
                )
            ).json()["code"]
            wrong = f"{(int(good) + 7) % 1_000_000:06d}"
            statuses = [
                (await c.post("/api/pair", json={"code": wrong})).status_code for _ in range(11)
            ]
            assert statuses == [400] * 10 + [429]
            assert (await c.post("/api/pair", json={"code": good})).status_code == 429
        transport = httpx.AsyncHTTPTransport(
            local_address="127.0.9.9"
        )  # another tablet is not punished
        async with httpx.AsyncClient(
            base_url=driver.server.base_url, transport=transport, trust_env=False
        ) as other:
            assert (await other.post("/api/pair", json={"code": good})).status_code == 200
    finally:
        await driver.server.stop()


async def test_tls_certificate_chains_to_the_box_ca_and_names_the_interfaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("PHS_TLS", "on")
    monkeypatch.setenv("PHS_TLS_PORT", str(port))
    driver = Driver(tmp_path)
    await driver.setup(["Nguyễn Văn An", "Trần Thị Bình"])
    try:
        ca_path = driver.data_dir / "tls" / "ca.pem"
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        ctx = ssl.create_default_context(cafile=str(ca_path))  # only the box's CA is trusted
        for name in (BOX_NAME, "127.0.0.1"):
            der = await asyncio.to_thread(_handshake, port, name, ctx)
            cert = x509.load_der_x509_certificate(der)
            cert.verify_directly_issued_by(ca)
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            ips = sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
            assert ips == sorted(set(interface_addresses()))
            assert san.get_values_for_type(x509.DNSName) == [BOX_NAME, "localhost"]
        # A stranger's certificate store does not trust it: the chain really is the box's own.
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.to_thread(_handshake, port, BOX_NAME, ssl.create_default_context())
        async with httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{port}", verify=ctx, trust_env=False
        ) as s:
            health = await s.get("/api/health")
            assert health.status_code == 200
            info = (await s.get("/api/tls/info")).json()
            assert info["fingerprint"] == fingerprint(ca)
            # Over HTTPS the credential cookie is Secure.
            code = (
                await s.post(
                    "/api/pairing-codes",
                    json={"participant_id": driver.ids["d2"]},
                    headers=driver.h("secretary"),
                )
            ).json()["code"]
            cookie = (await s.post("/api/pair", json={"code": code})).headers["set-cookie"]
            assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        # Plain HTTP on loopback stays whole (the hall display's kiosk, these tests).
        async with driver.client() as c:
            assert (await c.get("/api/state", headers=driver.h("d1"))).status_code == 200
            assert (await c.get("/api/tls/ca.pem")).content == ca_path.read_bytes()
    finally:
        await driver.server.stop()


def _handshake(port: int, name: str, ctx: ssl.SSLContext) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der


async def test_device_key_still_required_after_a_restart(tmp_path: Path) -> None:
    from tests.pairing.test_trust_api import Tablet

    driver = Driver(tmp_path)
    await driver.setup(["Nguyễn Văn An", "Trần Thị Bình"])
    try:
        tablet = Tablet()
        async with driver.client() as c:
            code = (
                await c.post(
                    "/api/pairing-codes",
                    json={"participant_id": driver.ids["d2"]},
                    headers=driver.h("secretary"),
                )
            ).json()["code"]
            token = (
                await c.post("/api/pair", json={"code": code, "device_key": tablet.public})
            ).json()["token"]
        await driver.server.restart(hard=True)
        auth = {"Authorization": f"Bearer {token}"}
        async with driver.client() as c:
            signed = {
                **auth,
                "X-PHS-Proof": tablet.proof("GET", "/api/me", int(time.time() * 1000)),
            }
            ok = await c.get("/api/me", headers=signed)
            assert (ok.status_code, ok.json()["participant"]["name"]) == (200, "Trần Thị Bình")
            assert "phs_device_session" in c.cookies  # what page images ride on (30 minutes)
            c.cookies.clear()  # another machine with only the credential
            copied = await c.get("/api/me", headers=auth)
            assert (copied.status_code, copied.json()["code"]) == (401, "device_proof_invalid")
        log = driver.server.stderr_path.read_text(encoding="utf-8")
        assert "device credential used without its key" in log and token not in log
    finally:
        await driver.server.stop()
