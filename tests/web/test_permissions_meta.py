"""The route × role test must catch what it exists for: a route without a permission.

``test_permissions.py`` is generated from ``ROUTES``; these tests check that it fails
on a route that declares nothing, that the app serves no route outside that table,
and that the guard refuses an undeclared route at run time as well."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

import tests.web.test_permissions as generated
from appliance.core.errors import PhsError
from appliance.web.app import ROUTES, create_app
from appliance.web.auth import permission_guard
from appliance.web.errors import phs_error_response


@get("/api/forgotten")
async def forgotten() -> dict[str, Any]:
    """A route someone added without ``opt={"permission": ...}``."""
    return {"leaked": True}


def test_the_generated_check_fails_on_a_route_without_a_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generated, "ROUTES", [*ROUTES, forgotten])
    with pytest.raises(AssertionError, match="GET /api/forgotten declares None"):
        generated.test_every_route_declares_a_known_permission()


def test_the_app_serves_no_route_outside_the_table(tmp_path: Any) -> None:
    from appliance.core.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "d", keys_dir=tmp_path / "k"))
    table = {(m, p) for m, p, _ in generated.route_table()}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path.startswith(("/ui", "/api/schema")):
                continue  # the static files and the published OpenAPI document
            methods = sorted(getattr(handler, "http_methods", None) or {"GET"})
            for method in methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                assert (method, route.path) in table or handler.opt.get("permission") is not None, (method, route.path)


def test_the_guard_refuses_an_undeclared_route_at_run_time() -> None:
    app = Litestar(route_handlers=[forgotten], guards=[permission_guard], exception_handlers={PhsError: phs_error_response})
    with TestClient(app) as client:
        answer = client.get("/api/forgotten")
    assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")
    assert answer.json()["message_en"] == "route declares no permission"
