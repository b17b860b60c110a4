"""Journal checks for the technician, secretary and chair."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, get

from appliance.web.records import verify_data_dir


@get("/api/journal/verify", opt={"permission": "journal.verify"})
async def verify(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Check seals, chain and checkpoints of the running journal; erased sittings count as shredded."""
    appliance = request.app.state.appliance
    report = await asyncio.to_thread(verify_data_dir, appliance.keyring, appliance.settings.data_dir)
    return {
        "ok": report.ok,
        "records": report.records,
        "first_bad": report.first_bad,
        "problems": report.problems,
        "shredded": report.shredded,
    }
