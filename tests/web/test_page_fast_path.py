"""Page images over the fast path (appliance/web/fast_pages.py): the same answer as Litestar's
route for every role x every access level, refusals as they were, and revocation or an access
change holding on the very next request (nothing about access is cached)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.web.app import MIDDLEWARE
from appliance.web.auth import permission_guard
from appliance.web.controllers.documents import _as_sent, page_image
from appliance.web.fast_pages import FastPages, page_request
from appliance.web.trust import SESSION_COOKIE
from tests.pairing.test_trust_api import Tablet
from tests.web.conftest import ROLES, Hall, build_hall
from tests.web.test_doc_access import EXPECTED as ACCESS
from tests.web.test_doc_access import PDF

#: access level -> the roles that may read it: tests/web/test_doc_access.py's, plus a watermarked document.
EXPECTED = {**ACCESS, "watermarked": {"chair", "vice_chair", "delegate", "secretary"}}  # delegates, per viewer
VARIANTS = ("/pages/1", "/pages/1?size=tablet", "/pages/2?size=thumb", "/pages/1?size=zoom", "/pages/99", "/pages/0",
            "/pages/1?size=huge")
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def upload(hall: Hall, **form: str) -> str:
    files = {"file": (PDF.name, PDF.read_bytes(), "application/pdf")}
    return str(ok(hall.call("POST", "/api/documents", "secretary", files=files, data={"item": "1", **form}))["document"]["id"])


def fast_of(hall: Hall) -> FastPages:
    handler = hall.client.app.asgi_handler
    assert isinstance(handler, FastPages)
    return handler


def both(hall: Hall, url: str, role: str | None, **kw: Any) -> tuple[Any, Any]:
    """The same request over the fast path, then through Litestar's router alone (as before it)."""
    app, fast = hall.client.app, fast_of(hall)
    taken = fast.taken
    quick = hall.call("GET", url, role, **kw)
    assert fast.taken == taken + 1, f"{url} did not take the fast path"
    app.asgi_handler = fast.router
    try:
        slow = hall.call("GET", url, role, **kw)
    finally:
        app.asgi_handler = fast
    return quick, slow


def same(quick: Any, slow: Any) -> None:
    assert (quick.status_code, quick.headers.multi_items(), quick.content) == (
        slow.status_code, slow.headers.multi_items(), slow.content)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hall, dict[str, str]]]:
    """One hall with a document at every access level, and a watermarked one."""
    for hall in build_hall(tmp_path_factory.mktemp("fast")):
        body = {"mode": "manual", "groups": [{"name": "Tổ 1", "members": [hall.ids["delegate"]]},
                                             {"name": "Tổ 2", "members": [hall.ids["vice_chair"]]}]}
        ok(hall.call("POST", "/api/groups", "chair", json=body))
        docs = {
            "public": upload(hall, access="public"),
            "delegates": upload(hall, access="delegates"),
            "group": upload(hall, access="group:g1"),
            "confidential_named": upload(hall, access="confidential", readers=hall.ids["guest"]),
            "confidential": upload(hall, access="confidential"),
            "watermarked": upload(hall, access="delegates", watermark="1"),
        }
        yield hall, docs


@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_role_and_access_level_gets_what_the_route_gives(lib: tuple[Hall, dict[str, str]], role: str | None) -> None:
    hall, docs = lib
    for level, doc in docs.items():
        may = role in EXPECTED[level]
        for variant in VARIANTS:
            quick, slow = both(hall, f"/api/documents/{doc}{variant}", role)
            same(quick, slow)
            bad_page = variant in ("/pages/99", "/pages/0", "/pages/1?size=huge")
            if role is None:
                expected = (401, "not_paired")
            elif role == "technician":  # no document.read: refused before anything is looked up
                expected = (403, "forbidden")
            elif not may or bad_page:  # a forbidden document and a guessed page look alike
                expected = (404, "not_found")
            else:
                assert (quick.status_code, quick.headers["content-type"]) == (200, "image/webp"), (level, variant)
                assert quick.headers["cache-control"] == "private, max-age=31536000, immutable"
                assert {k: quick.headers[k] for k in SECURITY} == SECURITY
                assert quick.headers["content-length"] == str(len(quick.content))
                continue
            assert (quick.status_code, quick.json()["code"]) == expected, (level, variant)


def test_a_watermarked_page_differs_per_viewer_over_the_fast_path(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    url = f"/api/documents/{docs['watermarked']}/pages/1"
    tags = {role: hall.call("GET", url, role).headers["etag"] for role in ("chair", "delegate", "secretary")}
    assert len(set(tags.values())) == 3
    assert hall.call("GET", url, "delegate").headers["etag"] == tags["delegate"]  # cached per viewer


def test_etag_revalidation_and_ranges_match_the_route(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    url = f"/api/documents/{docs['delegates']}/pages/1"
    full = hall.call("GET", url, "delegate")
    etag, total = full.headers["etag"], len(full.content)
    quick, slow = both(hall, url, "delegate", headers={"If-None-Match": etag})
    same(quick, slow)
    assert (quick.status_code, quick.content, quick.headers["etag"]) == (304, b"", etag)
    assert "content-length" not in quick.headers
    quick, slow = both(hall, url, "delegate", headers={"Range": "bytes=0-99"})
    same(quick, slow)
    assert (quick.status_code, quick.headers["content-range"], quick.content) == (206, f"bytes 0-99/{total}", full.content[:100])
    quick, slow = both(hall, url, "delegate", headers={"Range": "bytes=-10", "If-Range": etag})
    same(quick, slow)
    assert (quick.status_code, quick.content) == (206, full.content[-10:])
    quick, slow = both(hall, url, "delegate", headers={"Range": "bytes=0-99", "If-Range": '"another"'})
    same(quick, slow)
    assert (quick.status_code, quick.content) == (200, full.content)
    quick, slow = both(hall, url, "delegate", headers={"Range": f"bytes={total}-"})
    same(quick, slow)
    assert (quick.status_code, quick.json()["code"], quick.headers["content-range"]) == (416, "range_not_satisfiable", f"bytes */{total}")
    # Someone who may not read it learns nothing from its ETag either.
    quick, slow = both(hall, url, "guest", headers={"If-None-Match": etag})
    same(quick, slow)
    assert (quick.status_code, quick.json()["code"]) == (404, "not_found")


def test_every_opening_of_a_confidential_page_is_recorded_once(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    doc = docs["confidential_named"]
    before = len(ok(hall.call("GET", "/api/documents/openings", "chair"))["openings"])
    taken = fast_of(hall).taken
    for _ in range(2):  # the same page again within minutes is one opening, not two
        assert hall.call("GET", f"/api/documents/{doc}/pages/2", "guest").status_code == 200
    assert hall.call("GET", f"/api/documents/{doc}/pages/2?size=thumb", "guest").status_code == 200  # a thumbnail is no opening
    assert fast_of(hall).taken == taken + 3
    rows = ok(hall.call("GET", "/api/documents/openings", "secretary"))["openings"][before:]
    assert [(r["document"], r["participant_id"], r["what"], r["page"]) for r in rows] == [(doc, hall.ids["guest"], "page", 2)]


def test_an_access_change_holds_on_the_very_next_request(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, _ = lib
    doc = upload(hall, access="delegates")
    page = f"/api/documents/{doc}/pages/1"

    def status(role: str) -> int:
        return int(hall.call("GET", page, role).status_code)

    def access(**body: Any) -> None:
        ok(hall.call("POST", f"/api/documents/{doc}/access", "secretary", json=body))

    assert (status("delegate"), status("guest")) == (200, 404)
    access(access="confidential")
    assert (status("delegate"), status("guest"), status("chair")) == (404, 404, 200)
    access(access="confidential", readers=[hall.ids["delegate"]])
    assert (status("delegate"), status("guest")) == (200, 404)
    access(access="group:g2")  # the vice chair's group, not the delegate's
    assert (status("delegate"), status("vice_chair"), status("chair")) == (404, 200, 404)
    access(access="group:g1")
    assert (status("delegate"), status("vice_chair")) == (200, 404)
    access(access="public")
    assert (status("guest"), status("display")) == (200, 200)
    access(access="delegates")
    assert (status("guest"), status("display"), status("delegate")) == (404, 404, 200)


def test_a_revoked_device_is_refused_on_the_very_next_request(tmp_path: Path) -> None:
    for hall in build_hall(tmp_path):
        doc = upload(hall, access="public")
        page = f"/api/documents/{doc}/pages/1"
        first = hall.call("GET", page, "guest")
        assert first.status_code == 200
        devices = ok(hall.call("GET", "/api/pairing/devices", "technician"))["devices"]
        device = next(d["id"] for d in devices if d["participant_id"] == hall.ids["guest"])
        ok(hall.call("POST", f"/api/pairing/devices/{device}/revoke", "secretary"))
        taken = fast_of(hall).taken
        for extra in ({}, {"If-None-Match": first.headers["etag"]}, {"Range": "bytes=0-9"}):
            refused = hall.call("GET", page, "guest", headers=extra)
            assert (refused.status_code, refused.json()["code"]) == (401, "device_revoked"), extra
            assert refused.headers["clear-site-data"] == '"cache", "cookies", "storage"'
        assert fast_of(hall).taken == taken + 3
        assert hall.call("GET", page, "display").status_code == 200  # the others read on


def test_a_keyed_tablet_reads_by_its_session_cookie_and_a_bad_one_is_refused_once(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    appliance = hall.client.app.state.appliance
    tablet = Tablet()
    code = ok(hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": hall.ids["delegate"]}))["code"]
    paired = ok(hall.call("POST", "/api/pair", None, json={"code": code, "device_key": tablet.public}))
    token, device = paired["token"], paired["device_id"]
    path = f"/api/documents/{docs['delegates']}/pages/1"
    taken = fast_of(hall).taken
    signed = {"Authorization": f"Bearer {token}", "X-PHS-Proof": tablet.proof("GET", path, int(time.time() * 1000))}
    hall.client.cookies.clear()
    first = hall.client.get(path, headers=signed)
    assert first.status_code == 200
    session = first.cookies.get(SESSION_COOKIE)
    assert session and session.startswith(f"{device}.")  # a signed page request earns the cookie an <img> uses
    hall.client.cookies.clear()
    replay = hall.client.get(path, headers=signed)
    assert (replay.status_code, replay.json()["code"]) == (401, "device_proof_invalid")
    assert appliance.trust.replays[device] == 1
    img = {"Authorization": f"Bearer {token}", "Cookie": f"{SESSION_COOKIE}={session}"}
    hall.client.cookies.clear()
    again = hall.client.get(path, headers=img)
    assert (again.status_code, again.content) == (200, first.content)
    forged = {"Authorization": f"Bearer {token}", "Cookie": f"{SESSION_COOKIE}={session[:-1]}0"}
    hall.client.cookies.clear()
    refused = hall.client.get(path, headers=forged)
    assert (refused.status_code, refused.json()["code"]) == (401, "device_proof_invalid")
    assert appliance.trust.replays[device] == 2  # counted once per refused request, not twice
    hall.client.cookies.clear()
    bare = hall.client.get(path, headers={"Authorization": f"Bearer {token}"})  # a copied token alone
    assert (bare.status_code, bare.json()["code"]) == (401, "device_proof_invalid")
    assert fast_of(hall).taken == taken + 5


def test_other_forms_of_the_url_go_to_litestar_as_before(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    base = f"/api/documents/{docs['delegates']}/pages/1"
    plain = hall.call("GET", base, "delegate")
    taken = fast_of(hall).taken
    head = hall.client.request("HEAD", base, headers=hall.headers("delegate"))
    assert head.status_code == 405
    extra = hall.call("GET", f"{base}?size=tablet&v=2", "delegate")
    assert (extra.status_code, extra.content) == (200, plain.content)
    slash = hall.call("GET", f"{base}/", "delegate")
    assert (slash.status_code, slash.content) == (200, plain.content)
    stranger = hall.call("GET", f"{base}?size=tablet&v=2", None)
    assert (stranger.status_code, stranger.json()["code"]) == (401, "not_paired")
    assert fast_of(hall).taken == taken  # none of them took the fast path


def test_the_app_middleware_wraps_the_fast_path(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    url = f"/api/documents/{docs['public']}/pages/1"
    quick, slow = both(hall, f"https://testserver{url}", "guest")
    same(quick, slow)
    assert (quick.status_code, quick.headers["strict-transport-security"]) == (200, "max-age=31536000")
    appliance = hall.client.app.state.appliance
    appliance.locked = True  # the key stick pulled: nothing is read
    try:
        quick, slow = both(hall, url, "guest")
    finally:
        appliance.locked = False
    same(quick, slow)
    assert (quick.status_code, quick.json()["code"]) == (503, "locked")


def test_the_route_has_no_step_the_fast_path_would_skip(lib: tuple[Hall, dict[str, str]]) -> None:
    """The fast path runs the app middleware, the guard, page_answer and the exception handlers;
    a hook, guard or middleware added to the route or the app later must be added there too."""
    hall, _ = lib
    app = hall.client.app
    route = next(r for r in app.routes if r.path == "/api/documents/{doc_id:str}/pages/{n:int}")
    handler = route.route_handlers[0]
    assert (handler.resolve_guards(), handler.resolve_middleware()) == ([permission_guard], list(reversed(MIDDLEWARE)))
    assert (handler.opt["permission"], page_image.opt["permission"]) == ("document.read", "document.read")
    assert (handler.after_request, handler.before_request, handler.after_response) == (_as_sent, None, None)
    assert (handler.cache, handler.resolve_response_headers(), handler.resolve_response_cookies()) == (False, frozenset(), frozenset())
    assert handler.resolve_exception_handlers() == app.exception_handlers
    assert (app.before_send, app.after_exception, app.csrf_config, app.compression_config, app.allowed_hosts, app.cors_config) == (
        [], [], None, None, [], None)


@pytest.mark.parametrize(("method", "path", "query", "host", "taken"), [
    ("GET", "/api/documents/doc_1a/pages/3", b"", b"phs.local", ("doc_1a", 3, "tablet")),
    ("GET", "/api/documents/doc_1a/pages/3", b"size=zoom", b"phs.local:8443", ("doc_1a", 3, "zoom")),
    ("GET", "/api/documents/doc_1a/pages/03", b"size=thumb", b"[::1]:8000", ("doc_1a", 3, "thumb")),
    ("GET", "/api/documents/doc_1a/pages/3", b"size=zoom&proof=1.abc", b"phs.local", None),  # a signed URL
    ("GET", "/api/documents/doc_1a/pages/3", b"proof=1.abc", b"phs.local", None),
    ("GET", "/api/documents/doc_1a/pages/3", b"size=", b"phs.local", None),
    ("GET", "/api/documents/doc_1a/pages/3/", b"", b"phs.local", None),
    ("GET", "/api/documents/doc_1a/pages/-3", b"", b"phs.local", None),
    ("GET", "/api/documents/search/pages/3", b"", b"phs.local", None),
    ("GET", "/api/documents/doc 1a/pages/3", b"", b"phs.local", None),
    ("GET", "/api/documents/doc_1a/pages/3", b"", b"phs.local/evil", None),
    ("HEAD", "/api/documents/doc_1a/pages/3", b"", b"phs.local", None),
    ("POST", "/api/documents/doc_1a/pages/3", b"", b"phs.local", None),
])
def test_only_the_tablets_own_page_requests_take_the_fast_path(
    method: str, path: str, query: bytes, host: bytes, taken: tuple[str, int, str] | None
) -> None:
    scope = {"type": "http", "method": method, "path": path, "query_string": query, "root_path": "",
             "headers": [(b"host", host), (b"authorization", b"Bearer t")]}
    assert page_request(scope) == taken
    assert page_request({**scope, "root_path": "/phs"}) is None
