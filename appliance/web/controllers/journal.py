"""Journal checks for the technician, secretary and chair."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from litestar import Request, get

from appliance.store.verify import verify_journal


@get("/api/journal/verify", opt={"permission": "journal.verify"})
async def verify(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Check seals, chain and checkpoints of the running journal."""
    appliance = request.app.state.appliance
    key = appliance.keyring.data_key("session")
    report = await asyncio.to_thread(
        verify_journal, appliance.settings.data_dir / "journal", key, public_key=appliance.keyring.identity_public()
    )
    body = dataclasses.asdict(report)
    return {"ok": body.get("ok"), "records": body.get("records"), "first_bad": body.get("first_bad"), "problems": body.get("problems", [])}
