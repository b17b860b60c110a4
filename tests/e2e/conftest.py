"""End-to-end fixtures: the real server in a subprocess and a real headless Chromium.

The server is started exactly as an operator would (`python -m appliance.cli serve`),
a secretary is paired with the one-time setup code, and the sitting is prepared over
the public API. Each browser context then pairs itself through the pairing page, so
every e2e test also exercises pairing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
SHOTS_COPY = Path("/tmp/phs-shots")
SETUP_CODE = "246810"
CHROMIUM = os.environ.get("PHS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TABLET = {"width": 1280, "height": 800}
TABLET_PORTRAIT = {"width": 800, "height": 1280}
HALL = {"width": 1920, "height": 1080}

# A ward council of four delegates (the chair is one of them): quorum is 3, and a
# resolution needs 3 votes "for" (more than half of all 4), so 2 for / 1 against fails.
DELEGATES = [
    {"name": "Nguyễn Văn Thắng", "role": "chair", "seat": 1, "title": "Chủ tịch HĐND phường"},
    {"name": "Trần Thị Hồng Nhung", "role": "delegate", "seat": 2, "title": "Đại biểu"},
    {"name": "Lê Đức Phương", "role": "delegate", "seat": 3, "title": "Đại biểu"},
    {"name": "Phạm Thị Ánh Tuyết", "role": "delegate", "seat": 4, "title": "Đại biểu"},
]
STAFF = [
    {"name": "Màn hình hội trường chính", "role": "display"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running appliance and what the fixtures created in it."""

    base: str
    secretary: httpx.Client
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> P
    secretary_id: str = ""
    log_path: Path | None = None

    def by_name(self, name: str) -> dict[str, Any]:
        return self.participants[name]


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).json().get("ok"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy in time:\n{log_path.read_text(errors='replace')[-4000:]}")


def launch_server(tmp: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `phs serve` on `tmp` (data and keys) and wait until it answers."""
    log_path = tmp / f"server-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", "serve", "--data", str(tmp / "data"), "--keys", str(tmp / "keys"),
             "--host", "127.0.0.1", "--port", str(port), "--setup-code", SETUP_CODE],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc, log_path)
    except BaseException:
        stop_server(proc)
        raise
    return proc, log_path


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server the way supervisord does (SIGTERM), killing it if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pair_secretary(base: str) -> tuple[httpx.Client, str]:
    """Pair an API client with the one-time setup code: (client, secretary id)."""
    paired = httpx.post(f"{base}/api/pair", json={"code": SETUP_CODE}, timeout=10)
    assert paired.status_code == 200, paired.text
    token = paired.json()["token"]
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return client, str(paired.json()["participant"]["id"])


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server on a free loopback port, with a prepared ward-council sitting."""
    tmp = tmp_path_factory.mktemp("phs-e2e")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, log_path = launch_server(tmp, port)
    try:
        client, secretary_id = pair_secretary(base)
        srv = Server(base=base, secretary=client, secretary_id=secretary_id, log_path=log_path)
        _prepare_sitting(srv)
        yield srv
        client.close()
    finally:
        stop_server(proc)


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return dict(r.json())


@contextlib.contextmanager
def own_server(tmp: Path, body: str, session: str) -> Iterator[Server]:
    """A server of one test module's own (for tests that open sittings or move attendance,
    which would change every other test's state): one sitting, the DELEGATES body."""
    proc, log_path = launch_server(tmp, port := free_port())
    try:
        base = f"http://127.0.0.1:{port}"
        client, secretary_id = pair_secretary(base)
        srv = Server(base=base, secretary=client, secretary_id=secretary_id, log_path=log_path)
        _ok(client.post("/api/setup", json={"body": body, "session": session, "sittings": ["Phiên họp thứ nhất"]}))
        rows = _ok(client.post("/api/participants", json={"participants": DELEGATES}))["participants"]
        srv.participants = {p["name"]: p for p in rows}
        yield srv
        client.close()
    finally:
        stop_server(proc)


def _prepare_sitting(srv: Server) -> None:
    c = srv.secretary
    _ok(c.post("/api/setup", json={
        "body": "HĐND phường Ba Đình",
        "session": "Kỳ họp thứ nhất, HĐND phường khóa I",
        "sittings": ["Phiên họp thứ nhất", "Phiên họp thứ hai"],
        "rehearsal": False,
    }))
    rows = _ok(c.post("/api/participants", json={"participants": DELEGATES + STAFF}))["participants"]
    srv.participants = {p["name"]: p for p in rows}
    _ok(c.post("/api/agenda", json={"title": "Thông qua Nghị quyết về dự toán ngân sách phường năm 2026"}))
    _ok(c.post("/api/agenda", json={"title": "Thông qua Nghị quyết về kế hoạch đầu tư công trung hạn"}))
    pdf = CORPUS / "nghi-quyet-hdnd-hanoi-11-2025.pdf"
    if pdf.exists():
        with pdf.open("rb") as fh:
            _ok(c.post("/api/documents", files={"file": (pdf.name, fh, "application/pdf")}, data={"item": "1"}))


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (the system binary; never `playwright install`)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Any:
    """Save a screenshot under the test's tmp_path and copy it to /tmp/phs-shots/."""
    SHOTS_COPY.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = False) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        shutil.copy(path, SHOTS_COPY / path.name)
        return path

    return take


def pair_page(browser: Any, server: Server, participant_id: str, viewport: dict[str, int],
              expect_page: str, lang: str = "vi", via_qr: bool = False) -> Any:
    """A fresh browser context that pairs itself on the pairing page: by typing the code,
    or (via_qr) by opening the pair_url a QR card carries."""
    context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    if lang != "vi":
        context.add_init_script(f"localStorage.setItem('phs.lang', '{lang}')")
    page = context.new_page()
    page.on("pageerror", lambda exc: print(f"[pageerror] {participant_id}: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and print(f"[console] {participant_id}: {msg.text}"))
    r = server.secretary.post("/api/pairing-codes", json={"participant_id": participant_id})
    assert r.status_code == 200, r.text
    if via_qr:
        page.goto(r.json()["pair_url"])
    else:
        page.goto(f"{server.base}/")  # the box's root redirects to the pairing page
        page.locator("#code").fill(str(r.json()["code"]))
        page.locator("#pair-submit").click()
    page.wait_for_url(f"**/{expect_page}*")
    page.wait_for_load_state("networkidle")
    return page
