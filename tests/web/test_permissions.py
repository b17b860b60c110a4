"""Every route x every role: generated from the route table, so a new route without a
declared permission, or with the wrong one, fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from appliance.meeting.roles import ROLES as ROLE_PERMISSIONS
from appliance.meeting.roles import render_permissions_markdown
from appliance.web.app import ROUTES
from tests.web.conftest import ROLES, Hall

REPO = Path(__file__).resolve().parents[2]


def route_table() -> list[tuple[str, str, str]]:
    """(method, path, permission) for every declared HTTP route."""
    out = []
    for handler in ROUTES:
        methods = sorted(getattr(handler, "http_methods", None) or {"GET"})
        for path in handler.paths:
            for method in methods:
                out.append((method, path, handler.opt.get("permission")))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+:(str|int)\}", lambda m: "1" if m.group(1) == "int" else "x", path)


def test_every_route_declares_a_known_permission() -> None:
    known = {"public", "local"} | {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    for method, path, permission in route_table():
        assert permission in known, f"{method} {path} declares {permission!r}"


def test_permissions_doc_is_rendered_from_the_table() -> None:
    assert (REPO / "docs" / "PERMISSIONS.md").read_text(encoding="utf-8") == render_permissions_markdown()


@pytest.mark.parametrize("role", [*ROLES, None])
def test_each_role_gets_exactly_its_routes(hall: Hall, role: str | None) -> None:
    for method, path, permission in route_table():
        if method == "GET" and path == "/api/live":
            continue  # the WebSocket, role by role and unpaired: test_live_roles.py
        if path == "/api/documents" and method == "POST":
            kw: dict[str, Any] = {"files": {"file": ("x.pdf", b"%PDF-1.4 broken", "application/pdf")}, "data": {"item": "1"}}
        else:
            kw = {"json": {}} if method == "POST" else {}
        response = hall.call(method, concrete(path), role, **kw)
        code = response.json().get("code") if response.headers.get("content-type", "").startswith("application/json") and response.status_code >= 400 else None
        if permission == "public":
            assert code not in ("not_paired", "forbidden"), (method, path, role, response.text)
        elif permission == "local":  # `phs devices` on the unix socket only: nobody over TCP
            assert (response.status_code, code) == (403, "forbidden"), (method, path, role)
        elif role is None:
            assert (response.status_code, code) == (401, "not_paired"), (method, path)
        elif permission in ROLE_PERMISSIONS[role]:
            assert code not in ("not_paired", "forbidden"), (method, path, role, response.text)
        else:
            assert (response.status_code, code) == (403, "forbidden"), (method, path, role, response.text)
