"""The real ``phs serve`` on a socket, driven synchronously so a session fixture can share it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from appliance.scenario.server import REPO_ROOT, LocalAppliance


class Served:
    """One real server with a secretary, an agenda item and paired participants of every role."""

    def __init__(self, root: Path) -> None:
        (root / "logs").mkdir(parents=True, exist_ok=True)
        self.spec = LocalAppliance(root / "data", root / "keys", root / "logs")
        self.data_dir = self.spec.data_dir
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        self._err = (root / "logs" / "server.stderr").open("wb")
        self.proc = subprocess.Popen(self.spec.command(), stdout=subprocess.DEVNULL, stderr=self._err, env=env, cwd=str(REPO_ROOT))
        self.http = httpx.Client(base_url=self.spec.base_url, timeout=120.0, trust_env=False)
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while not self.alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start: " + (root / "logs" / "server.stderr").read_text()[-2000:])
            time.sleep(0.1)

    def alive(self) -> bool:
        """Whether the server answers its health check."""
        try:
            return self.http.get("/api/health").status_code == 200
        except httpx.HTTPError:
            return False

    def h(self, who: str) -> dict[str, str]:
        """Authorization of one paired participant."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def setup(self, people: list[dict[str, Any]]) -> None:
        """Pair the secretary, set up the body with ``people`` (each has a ``key``) and pair them."""
        self.tokens["secretary"] = self.http.post("/api/pair", json={"code": self.spec.setup_code}).json()["token"]
        self.http.post("/api/setup", json={"body": "HĐND phường Thử", "session": "Kỳ họp thứ nhất"}, headers=self.h("secretary"))
        rows = [{k: v for k, v in p.items() if k != "key"} for p in people]
        made = self.http.post("/api/participants", json={"participants": rows}, headers=self.h("secretary")).json()["participants"]
        self.http.post("/api/agenda", json={"title": "Mục 1"}, headers=self.h("secretary"))
        self.http.post("/api/agenda", json={"title": "Mục 2"}, headers=self.h("secretary"))
        for person, row in zip(people, made, strict=True):
            code = self.http.post("/api/pairing-codes", json={"participant_id": row["id"]}, headers=self.h("secretary")).json()["code"]
            self.tokens[person["key"]] = self.http.post("/api/pair", json={"code": code}).json()["token"]
            self.ids[person["key"]] = row["id"]
        me = self.http.get("/api/me", headers=self.h("secretary")).json()
        self.ids["secretary"] = me["participant"]["id"]

    def upload(self, files: list[tuple[str, bytes]], **form: str) -> httpx.Response:
        """POST /api/documents as the secretary (several files become one document)."""
        parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
        return self.http.post("/api/documents", files=parts, data={"item": "1", **form}, headers=self.h("secretary"))

    def close(self) -> None:
        """SIGTERM, then SIGKILL if it hangs."""
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._err.close()
