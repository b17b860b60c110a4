"""Roles and permissions — phân quyền. One table in code; docs/PERMISSIONS.md is rendered from it.

A route or command names one permission; a role is a set of permissions. Custom roles
are sets of the same named permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# permission -> (Vietnamese, English) description
PERMISSIONS: dict[str, tuple[str, str]] = {
    "view": ("Xem trạng thái phiên họp", "See the sitting's state"),
    "attendance.self": ("Tự điểm danh", "Check oneself in and out"),
    "attendance.manage": ("Điểm danh hộ đại biểu", "Check delegates in and out"),
    "agenda.run": ("Điều hành chương trình", "Move the sitting through the agenda"),
    "agenda.manage": ("Soạn chương trình", "Prepare the agenda"),
    "sitting.manage": ("Khai mạc, bế mạc phiên họp", "Open and close sittings"),
    "session.manage": ("Thiết lập kỳ họp", "Set up the session"),
    "participant.manage": ("Quản lý đại biểu, khách mời", "Manage participants"),
    "floor.request": ("Đăng ký phát biểu", "Ask for the floor"),
    "floor.manage": ("Điều hành phát biểu", "Give and end the floor"),
    "poll.vote": ("Biểu quyết", "Vote"),
    "poll.manage": ("Mở, kết thúc biểu quyết", "Open and close polls"),
    "poll.prepare": ("Chuẩn bị biểu quyết, nhập kết quả phiếu giấy", "Prepare polls, enter paper ballot counts"),
    "document.read": ("Đọc tài liệu", "Read documents"),
    "document.read.confidential": ("Đọc tài liệu mật", "Read confidential documents"),
    "document.manage": ("Quản lý tài liệu", "Upload and manage documents"),
    "document.download": ("Tải tệp gốc của tài liệu", "Download a document's original file"),
    "document.present": ("Trình chiếu trang tài liệu lên mọi màn hình", "Show a page on every screen (follow me)"),
    "document.audit": ("Xem ai đã mở tài liệu mật", "See who opened confidential documents"),
    "note.write": ("Ghi chú riêng trên tài liệu", "Write private notes on documents"),
    "device.pair": ("Cấp mã ghép nối thiết bị", "Issue pairing codes"),
    "device.manage": ("Quản lý thiết bị", "Manage and revoke devices"),
    "journal.verify": ("Kiểm tra nhật ký", "Verify the journal"),
    "group.read": ("Xem nhóm thảo luận", "See discussion groups"),
    "group.take_part": ("Thảo luận trong nhóm", "Take part in a discussion group"),
    "group.manage": ("Phân nhóm thảo luận", "Form and run discussion groups"),
    "minutes.read": ("Xem dự thảo biên bản", "Read the draft minutes"),
    "minutes.manage": ("Soạn, hoàn thành biên bản", "Edit and finalise the minutes"),
    "archive.manage": ("Theo dõi lưu trữ, ghi nhận biên nhận", "Watch archive sync, record receipts"),
}

_DELEGATE = {
    "view",
    "attendance.self",
    "floor.request",
    "poll.vote",
    "document.read",
    "document.download",
    "note.write",
    "group.read",
    "group.take_part",
}
_PRESIDING = _DELEGATE | {
    "group.manage",
    "agenda.run",
    "sitting.manage",
    "floor.manage",
    "poll.manage",
    "poll.prepare",
    "attendance.manage",
    "device.pair",
    "journal.verify",
    "document.read.confidential",
    "document.present",
    "document.audit",
    "minutes.read",
}

ROLES: dict[str, frozenset[str]] = {
    "chair": frozenset(_PRESIDING),
    "vice_chair": frozenset(_PRESIDING),
    "delegate": frozenset(_DELEGATE),
    "secretary": frozenset(
        {
            "view",
            "attendance.manage",
            "agenda.manage",
            "poll.prepare",
            "session.manage",
            "participant.manage",
            "document.read",
            "document.read.confidential",
            "document.manage",
            "document.download",
            "document.present",
            "document.audit",
            "note.write",
            "device.pair",
            "device.manage",
            "journal.verify",
            "group.read",
            "group.manage",
            "minutes.read",
            "minutes.manage",
        }
    ),
    "technician": frozenset({"view", "device.pair", "device.manage", "journal.verify", "archive.manage"}),
    "display": frozenset({"view", "document.read"}),
    "guest": frozenset({"view", "document.read"}),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "chair": ("Chủ tọa", "Chair"),
    "vice_chair": ("Phó Chủ tọa", "Vice chair"),
    "delegate": ("Đại biểu", "Delegate"),
    "secretary": ("Thư ký", "Secretary"),
    "technician": ("Kỹ thuật", "Technician"),
    "display": ("Màn hình hội trường", "Hall display"),
    "guest": ("Khách mời", "Guest"),
}

DELEGATE_ROLES = frozenset({"chair", "vice_chair", "delegate"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a participant (or none, for the setup code) and what their role allows."""

    participant_id: str | None
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_role(cls, participant_id: str | None, role: str) -> Actor:
        """An actor with the permissions of a built-in role."""
        return cls(participant_id, role, ROLES.get(role, frozenset()))

    def can(self, permission: str) -> bool:
        """Whether the role allows ``permission``."""
        return permission in self.permissions


def render_permissions_markdown() -> str:
    """The permission table as Markdown, for docs/PERMISSIONS.md."""
    roles = list(ROLES)
    lines = [
        "# Quyền theo vai trò — Permissions by role",
        "",
        "Generated from `appliance/meeting/roles.py` by `phs docs permissions`; a test keeps it in step.",
        "",
        "| quyền / permission | " + " | ".join(ROLE_LABELS[r][0] for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for name, (vi, en) in PERMISSIONS.items():
        marks = " | ".join("✓" if name in ROLES[r] else "" for r in roles)
        lines.append(f"| `{name}` — {vi} / {en} | {marks} |")
    return "\n".join(lines) + "\n"
