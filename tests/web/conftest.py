"""An app with one paired device per role, through Litestar's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance.core.settings import Settings
from appliance.web.app import create_app

SETUP_CODE = "424242"
ROLES = ("chair", "vice_chair", "delegate", "secretary", "technician", "display", "guest")


class Hall:
    """A test client plus a token per role."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def headers(self, role: str | None) -> dict[str, str]:
        """Authorization for a role; None is a stranger."""
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def call(self, method: str, path: str, role: str | None, **kw: Any) -> Any:
        """One request as a role, with no cookie jar carried over."""
        self.client.cookies.clear()
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)


def build_hall(tmp: Path) -> Iterator[Hall]:
    """A body of 3 delegates (chair, vice chair, delegate) plus the other roles, each paired."""
    settings = Settings(data_dir=tmp / "data", keys_dir=tmp / "keys", setup_code=SETUP_CODE)
    with TestClient(create_app(settings)) as client:
        hall = Hall(client)
        hall.tokens["secretary"] = client.post("/api/pair", json={"code": SETUP_CODE}).json()["token"]
        hall.call("POST", "/api/setup", "secretary", json={"body": "HĐND xã Thử", "session": "Kỳ họp thứ nhất"})
        rows = [{"name": f"Người {r}", "role": r, **({"seat": i + 1} if i < 3 else {})} for i, r in enumerate(ROLES) if r != "secretary"]
        made = hall.call("POST", "/api/participants", "secretary", json={"participants": rows}).json()["participants"]
        hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục 1"})
        for p in made:
            code = hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": p["id"]}).json()["code"]
            hall.tokens[p["role"]] = hall.call("POST", "/api/pair", None, json={"code": code}).json()["token"]
            hall.ids[p["role"]] = p["id"]
        yield hall


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    """A fresh hall per test."""
    yield from build_hall(tmp_path)
