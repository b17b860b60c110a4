"""The demo session: a ward People's Council with two sittings, 30 delegates and real documents.

Everything here is of our own making (names, documents): the demo never reads ../shared.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.core.ids import new_id
from appliance.meeting.decide import Command

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.demo")

BODY = "Hội đồng nhân dân phường An Bình"
SESSION = "Kỳ họp thứ Năm, HĐND phường An Bình khóa I, nhiệm kỳ 2026–2031"
SITTINGS = ["Phiên họp thứ nhất (buổi sáng)", "Phiên họp thứ hai (buổi chiều)"]

DELEGATES = [
    ("Nguyễn Văn Hùng", "Chủ tịch HĐND phường"),
    ("Trần Thị Thu Hà", "Phó Chủ tịch HĐND phường"),
    ("Lê Minh Tuấn", "Trưởng Ban Kinh tế - Ngân sách"),
    ("Phạm Thị Lan", "Trưởng Ban Văn hóa - Xã hội"),
    ("Hoàng Đức Thắng", ""),
    ("Vũ Thị Ngọc Ánh", ""),
    ("Đặng Quốc Bảo", ""),
    ("Bùi Thị Hồng Nhung", ""),
    ("Đỗ Văn Khải", ""),
    ("Ngô Thị Mỹ Linh", ""),
    ("Dương Văn Phúc", ""),
    ("Lý Thị Thanh Tâm", ""),
    ("Hồ Quang Vinh", ""),
    ("Mai Thị Kim Oanh", ""),
    ("Trịnh Văn Đạt", ""),
    ("Đinh Thị Hương Giang", ""),
    ("Phan Thanh Sơn", ""),
    ("Lương Thị Diệu Linh", ""),
    ("Tạ Văn Cường", ""),
    ("Châu Thị Bích Ngọc", ""),
    ("Kiều Minh Khôi", ""),
    ("Quách Thị Yến", ""),
    ("Tô Văn Lộc", ""),
    ("Lâm Thị Tuyết Mai", ""),
    ("Huỳnh Công Danh", ""),
    ("Võ Thị Thùy Dương", ""),
    ("Cao Văn Nghĩa", ""),
    ("Âu Thị Phương Thảo", ""),
    ("Đoàn Nhật Minh", ""),
    ("Nguyễn Thị Ánh Tuyết", ""),
]

AGENDA = [
    "Khai mạc kỳ họp; thông qua chương trình kỳ họp",
    "Báo cáo tình hình kinh tế - xã hội năm 2026, phương hướng năm 2027",
    "Tờ trình dự toán ngân sách phường năm 2027",
    "Dự thảo Nghị quyết về kế hoạch đầu tư công năm 2027",
    "Chất vấn và trả lời chất vấn",
]


def _demo_files() -> list[tuple[Path, int]]:
    try:
        from appliance.demo import demo_document_paths
    except ImportError:
        return []
    return [(Path(p), int(i)) for p, i in demo_document_paths()]


async def seed_demo(app: Appliance) -> dict[str, str]:
    """Create the demo session on an empty box; returns fresh pairing codes by role."""
    from appliance.web.service import SYSTEM

    await app.execute(SYSTEM, Command("setup", {"body": BODY, "session": SESSION, "sittings": SITTINGS}))
    rows: list[dict[str, Any]] = []
    for i, (name, title) in enumerate(DELEGATES, start=1):
        role = "chair" if i == 1 else "vice_chair" if i == 2 else "delegate"
        rows.append({"name": name, "role": role, "seat": i, "title": title, "team": f"Tổ đại biểu số {(i - 1) // 10 + 1}"})
    rows += [
        {"name": "Trần Văn Thư", "role": "secretary", "title": "Thư ký kỳ họp"},
        {"name": "Nguyễn Thị Khách", "role": "guest", "title": "Đại diện Ủy ban MTTQ phường"},
        {"name": "Phạm Văn Mời", "role": "guest", "title": "Đại diện cử tri"},
        {"name": "Kỹ thuật viên", "role": "technician"},
        {"name": "Màn hình hội trường", "role": "display"},
    ]
    ids = [new_id("p_") for _ in rows]
    await app.execute(SYSTEM, Command("add_participants", {"participants": rows, "ids": ids}))
    for title in AGENDA:
        await app.execute(SYSTEM, Command("add_agenda_item", {"title": title, "id": new_id("i_")}))
    for path, item in _demo_files():
        try:
            await app.add_document(SYSTEM, path.read_bytes(), path.name, item, "delegates", None, None)
        except Exception:  # a broken demo file must not stop the demo
            log.exception("demo document skipped", extra={"file": path.name})
    log.info("demo session seeded", extra={"delegates": len(DELEGATES), "items": len(AGENDA)})
    return await demo_codes(app)


async def demo_codes(app: Appliance) -> dict[str, str]:
    """Fresh 12-hour pairing codes for the chair, delegate 3, the secretary and the display."""
    from appliance.web.service import SYSTEM

    wanted: dict[str, str] = {}
    by_role = {p.role: p for p in reversed(list(app.state.participants.values()))}
    delegates = [p for p in app.state.delegates() if p.role == "delegate"]
    picks = {
        "chair": by_role.get("chair"),
        "delegate": delegates[0] if delegates else None,
        "secretary": by_role.get("secretary"),
        "display": by_role.get("display"),
        "technician": by_role.get("technician"),
    }
    for label, participant in picks.items():
        if participant is not None:
            issued = await app.issue_code(SYSTEM, participant.id, ttl=12 * 3600)
            wanted[label] = issued["code"]
    return wanted


def announce(app: Appliance, base_urls: list[str]) -> None:
    """Print the URLs to open, Vietnamese first."""
    if not app.demo_codes:
        return
    labels = {
        "chair": "Chủ tọa / Chair console",
        "delegate": "Đại biểu / Delegate tablet",
        "secretary": "Thư ký / Secretary",
        "display": "Màn hình hội trường / Hall display",
        "technician": "Kỹ thuật / Technician",
    }
    out = ["", "PHS — Phòng họp số: phiên họp mẫu đã sẵn sàng / the demo sitting is ready", ""]
    start_pages = [b for b in base_urls if _needs_ca(app, b)]
    base_urls = [_secure(app, b) for b in base_urls]  # with HTTPS on, a code never travels in clear
    for base in base_urls:
        for role, code in app.demo_codes.items():
            out.append(f"  {labels[role]:<40} {base}/ui/?code={code}")
        out.append("")
    out.append("Mỗi mã dùng một lần cho một thiết bị (12 giờ). Each code pairs one device (12 hours).")
    out.append(f"Ghép nối thiết bị khác / pair another device: {base_urls[0]}/ui/  (mã do thư ký cấp / code from the secretary)")
    for page in start_pages:
        out.append(f"Máy tính bảng mới: cài chứng chỉ của hộp trước / new tablet: install the box's certificate first: {page}/")
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def _needs_ca(app: Appliance, base: str) -> bool:
    """A network address while HTTPS is on: tablets there first install the box's CA."""
    from urllib.parse import urlsplit

    from appliance.web.tls import is_loopback_host, tls_wanted

    host = urlsplit(base).hostname or ""
    return tls_wanted(app.settings) and not is_loopback_host(host)


def _secure(app: Appliance, base: str) -> str:
    """The HTTPS twin of a plain network URL (loopback stays plain: it is exempt)."""
    from urllib.parse import urlsplit

    if not _needs_ca(app, base):
        return base
    host = urlsplit(base).hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = app.settings.tls_port
    return f"https://{host}" + ("" if port == 443 else f":{port}")
