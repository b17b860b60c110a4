"""Benchmark: what a device-key proof costs per request.

A real ``phs serve`` process with a body of D delegates, each tablet paired. Half the
tablets registered a device key (as the browser does with WebCrypto), half did not.
N sequential GET /api/me requests per kind; the keyed requests carry a fresh proof
(signing happens in the client, outside the timed window: a tablet signs in ~1 ms). The
baseline is the token-only request in the same run. Also: the server-side verify alone.

Usage: .venv/bin/python bench/bench_device_proof.py [--delegates 100] [--requests 1000]
Ends with one JSON line: {"bench": "device_proof", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from appliance.pairing.device_keys import check_proof  # noqa: E402
from appliance.scenario.server import LocalAppliance  # noqa: E402
from tests.pairing.test_trust_api import Tablet  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (values in ms)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def main(delegates: int, requests: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="phs-bench-proof-") as tmp:
        root = Path(tmp)
        (root / "logs").mkdir()
        server = LocalAppliance(root / "data", root / "keys", root / "logs")
        await server.start()
        try:
            async with httpx.AsyncClient(
                base_url=server.base_url, timeout=30, trust_env=False
            ) as c:
                sec = (await c.post("/api/pair", json={"code": server.setup_code})).json()["token"]
                h = {"Authorization": f"Bearer {sec}"}
                await c.post(
                    "/api/setup", json={"body": "HĐND bench", "session": "Kỳ họp"}, headers=h
                )
                rows = [
                    {"name": f"Đại biểu {i}", "role": "delegate", "seat": i}
                    for i in range(1, delegates + 1)
                ]
                made = (
                    await c.post("/api/participants", json={"participants": rows}, headers=h)
                ).json()["participants"]
                plain: list[str] = []
                keyed: list[tuple[str, Tablet]] = []
                for i, p in enumerate(made):
                    code = (
                        await c.post(
                            "/api/pairing-codes", json={"participant_id": p["id"]}, headers=h
                        )
                    ).json()["code"]
                    if i % 2:
                        tablet = Tablet()
                        body = {"code": code, "device_key": tablet.public}
                        keyed.append(
                            ((await c.post("/api/pair", json=body)).json()["token"], tablet)
                        )
                    else:
                        plain.append(
                            (await c.post("/api/pair", json={"code": code})).json()["token"]
                        )
                base: list[float] = []
                proof: list[float] = []
                for n in range(requests):
                    token = plain[n % len(plain)]
                    t0 = time.perf_counter()
                    r = await c.get("/api/me", headers={"Authorization": f"Bearer {token}"})
                    base.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200
                    token, tablet = keyed[n % len(keyed)]
                    signed = {
                        "Authorization": f"Bearer {token}",
                        "X-PHS-Proof": tablet.proof("GET", "/api/me", int(time.time() * 1000)),
                    }
                    t0 = time.perf_counter()
                    r = await c.get("/api/me", headers=signed)
                    proof.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
        finally:
            await server.stop()
    tablet = Tablet()
    now = int(time.time() * 1000)
    proofs = [tablet.proof("GET", "/api/me", now) for _ in range(500)]
    t0 = time.perf_counter()
    for p in proofs:
        assert check_proof(tablet.public, p, "GET", "/api/me", now) is None
    verify_us = (time.perf_counter() - t0) / len(proofs) * 1e6
    return {
        "token_p50_ms": round(pct(base, 0.5), 2),
        "token_p99_ms": round(pct(base, 0.99), 2),
        "proof_p50_ms": round(pct(proof, 0.5), 2),
        "proof_p99_ms": round(pct(proof, 0.99), 2),
        "p50_ratio": round(pct(proof, 0.5) / pct(base, 0.5), 2),
        "verify_us": round(verify_us, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--delegates", type=int, default=100)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    figures = asyncio.run(main(args.delegates, args.requests))
    print(f"GET /api/me, {args.delegates} paired tablets, {args.requests} requests per kind")
    print(f"  token only      p50 {figures['token_p50_ms']} ms  p99 {figures['token_p99_ms']} ms")
    print(
        f"  token + proof   p50 {figures['proof_p50_ms']} ms  p99 {figures['proof_p99_ms']} ms  (p50 ratio {figures['p50_ratio']})"
    )
    print(f"  server-side verify alone: {figures['verify_us']} µs per proof")
    print(json.dumps({"bench": "device_proof", "figures": figures}))
