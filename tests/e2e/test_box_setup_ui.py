"""A fresh box in Chromium: the hall display shows the fingerprints and the stick's progress,
an administrator from the bundle signs in and lands on the technician page."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from appliance.core.errors import PhsError
from tests.provisioning.conftest import FIXTURES, SITTING
from tests.provisioning.crafting import bad_bundles
from tests.provisioning.test_roundtrip import Box, build

HD = {"width": 1920, "height": 1080}
TABLET = {"width": 1280, "height": 800}
ADMIN = {"username": "kythuat", "name": "Nguyễn Văn Kỹ", "role": "technician", "password": "ky-thuat-mat-khau-2026"}


@pytest.fixture
def org_key(tmp_path: Path) -> Path:
    from provisioning.crypto import generate_org_key

    path = tmp_path / "org.key"
    generate_org_key(path)
    return path


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    import shutil

    from tests.provisioning.conftest import DEMO_DOCS

    folder = tmp_path / "tai-lieu"
    folder.mkdir()
    for name in ("chuong-trinh-ky-hop.pdf", "bao-cao-kinh-te-xa-hoi-2026.pdf", "gop-y-du-thao-nghi-quyet.docx"):
        shutil.copy(DEMO_DOCS / name, folder / name)
    return folder


def test_hall_display_shows_fingerprints_and_progress_then_admin_signs_in(
    tmp_path: Path, browser: Any, shots: Any, org_key: Path, documents: Path
) -> None:
    # Playwright's sync API owns this thread's loop: the box lives on a loop in its own thread.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(300)

    box = Box(tmp_path / "box")
    run(box.start())
    try:
        enrolment = run(box.get("/api/provisioning/enrolment"))
        (tmp_path / "enrol.json").write_text(json.dumps(enrolment))
        org_fp = json.loads(Path(f"{org_key}.pub").read_text())["fingerprint"]

        hall = browser.new_context(viewport=HD, locale="vi-VN").new_page()
        hall.goto(f"{box.server.base_url}/ui/display.html")  # the kiosk's URL; unpaired, it lands on the pairing page
        hall.wait_for_url("**/ui/index.html")
        hall.get_by_test_id("box-fp").wait_for()
        assert hall.get_by_test_id("box-fp").inner_text() == enrolment["fingerprint"]
        assert hall.get_by_test_id("box-stage").inner_text() == "Chờ cắm USB có gói cấu hình"
        assert hall.get_by_test_id("box-trusted").inner_text() == "Chưa có — gói đầu tiên sẽ được tin cậy"
        shots(hall, "box-fresh-hall-1080p")

        bundle = build(tmp_path, org_key, dict(SITTING, admins=[ADMIN]), FIXTURES / "dai-bieu.csv", documents, tmp_path / "enrol.json")
        run(box.apply(bundle.read_bytes()))
        hall.get_by_text("Đã nạp xong gói ky-hop.phsb").wait_for(timeout=10_000)
        assert hall.get_by_test_id("box-trusted").inner_text() == org_fp
        assert hall.locator(".box-bar").get_attribute("aria-valuenow") == "3"
        shots(hall, "box-applied-hall-1080p")

        tech = browser.new_context(viewport=TABLET, locale="vi-VN").new_page()
        tech.goto(f"{box.server.base_url}/ui/")
        tech.locator("#login-user").fill("kythuat")
        tech.locator("#login-password").fill("sai-mat-khau-nhe")
        tech.locator("#login-form button[type=submit]").click()
        tech.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng.").wait_for()
        tech.locator("#login-password").fill(ADMIN["password"])
        tech.locator("#login-form button[type=submit]").click()
        tech.wait_for_url("**/ui/secretary.html?tech")
        tech.get_by_test_id("box-trusted").wait_for()
        assert tech.get_by_test_id("box-trusted").inner_text() == org_fp
        assert tech.locator("#me-name").inner_text() == "Nguyễn Văn Kỹ"

        # A stick with a bundle signed by someone else: refused, said so, nothing changed.
        stranger, code = bad_bundles(bundle.read_bytes(), org_key)["unknown_key"]
        with pytest.raises(PhsError):
            run(box.apply(stranger, "la.phsb"))
        tech.get_by_test_id("box-refusal").wait_for(timeout=10_000)
        assert tech.get_by_test_id("box-refusal").inner_text().startswith(f"{code}: ")
        assert tech.get_by_test_id("box-stage").inner_text() == "Gói la.phsb bị từ chối — cấu hình không thay đổi"
        shots(tech, "box-refused-technician-tablet")
    finally:
        run(box.server.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
