"""Helpers for tests that run the real ``phs serve`` process on a socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from appliance.scenario.server import LocalAppliance


class DemoAppliance(LocalAppliance):
    """The real server started with ``--demo``."""

    def command(self) -> list[str]:
        return [*super().command(), "--demo"]


class Driver:
    """A real appliance plus tokens for a body of delegates."""

    def __init__(self, root: Path, *, demo: bool = False) -> None:
        (root / "logs").mkdir(parents=True, exist_ok=True)
        kind = DemoAppliance if demo else LocalAppliance
        self.server = kind(root / "data", root / "keys", root / "logs")
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.base_url, timeout=30.0, trust_env=False)

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def setup(self, names: list[str], body: str = "HĐND phường Thử nghiệm", sittings: list[str] | None = None) -> None:
        """Pair a secretary, create the body (delegate 1 chairs) and pair every delegate."""
        await self.server.start()
        async with self.client() as c:
            r = await c.post("/api/pair", json={"code": self.server.setup_code})
            self.tokens["secretary"] = r.json()["token"]
            plan: dict[str, Any] = {"body": body, "session": "Kỳ họp thứ nhất"}
            if sittings:
                plan["sittings"] = sittings
            await c.post("/api/setup", json=plan, headers=self.h("secretary"))
            rows: list[dict[str, Any]] = [
                {"name": n, "role": "chair" if i == 0 else "delegate", "seat": i + 1} for i, n in enumerate(names)
            ]
            made = (await c.post("/api/participants", json={"participants": rows}, headers=self.h("secretary"))).json()
            await c.post("/api/agenda", json={"title": "Mục 1"}, headers=self.h("secretary"))
            for i, p in enumerate(made["participants"], start=1):
                code = (await c.post("/api/pairing-codes", json={"participant_id": p["id"]}, headers=self.h("secretary"))).json()["code"]
                self.tokens[f"d{i}"] = (await c.post("/api/pair", json={"code": code})).json()["token"]
                self.ids[f"d{i}"] = p["id"]
