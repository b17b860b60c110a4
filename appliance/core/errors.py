"""Error types with stable machine codes and bilingual messages.

Every refusal the appliance gives is a ``PhsError``: a code a program can match
(``already_voted``), a Vietnamese message a person can act on, and its English twin.
The web layer maps them to HTTP in one place (``appliance.web.errors``).
"""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, Vietnamese message, English message)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "invalid": (400, "Dữ liệu không hợp lệ.", "The request is not valid."),
    "not_paired": (
        401,
        "Thiết bị chưa được ghép nối. Hãy nhập mã ghép nối do thư ký cấp.",
        "This device is not paired. Enter the pairing code the secretary gave you.",
    ),
    "code_invalid": (
        400,
        "Mã ghép nối sai, đã hết hạn hoặc đã được dùng.",
        "The pairing code is wrong, expired or already used.",
    ),
    "locked_out": (
        429,
        "Nhập sai quá nhiều lần. Vui lòng chờ rồi thử lại.",
        "Too many wrong attempts. Please wait and try again.",
    ),
    "pairing_window_closed": (
        409,
        "Chưa mở ghép nối bằng thẻ chỗ ngồi. Hãy nhờ kỹ thuật viên mở ghép nối trên bàn điều khiển.",
        "Seat-card pairing is not open. Ask the technician to open a pairing window on the console.",
    ),
    "device_revoked": (
        401,
        "Thiết bị này đã bị thu hồi; dữ liệu trên máy đã được xóa. Hãy liên hệ thư ký để ghép nối lại.",
        "This device was revoked and its data wiped. Ask the secretary to pair it again.",
    ),
    "pin_required": (
        403,
        "Hãy nhập mã PIN của đại biểu trước khi biểu quyết.",
        "Enter the delegate's PIN before voting.",
    ),
    "device_proof_invalid": (
        401,
        "Thiết bị không chứng minh được khóa của mình; yêu cầu bị từ chối và đã được ghi lại.",
        "The device could not prove its key; the request was refused and logged.",
    ),
    "forbidden": (
        403,
        "Vai trò của bạn không được phép thực hiện thao tác này.",
        "Your role does not allow this action.",
    ),
    "not_found": (404, "Không tìm thấy.", "Not found."),
    # A document whose key went with an erased sitting (appliance/web/erase.py): gone for good,
    # which 410 says to a client and to a cache, unlike a 404 that may be worth retrying.
    "erased": (410, "Tài liệu này đã bị xóa khỏi máy.", "This document was erased from the box."),
    "not_present": (
        409,
        "Đại biểu chưa điểm danh nên chưa thể biểu quyết.",
        "You are not checked in, so you cannot vote.",
    ),
    "no_quorum": (
        409,
        "Chưa đủ hai phần ba tổng số đại biểu có mặt.",
        "Fewer than two thirds of all delegates are present.",
    ),
    "already_voted": (
        409,
        "Đại biểu đã biểu quyết trong lượt này.",
        "You have already voted in this poll.",
    ),
    "poll_closed": (409, "Lượt biểu quyết không mở.", "The poll is not open."),
    "group_closed": (409, "Nhóm thảo luận đã đóng.", "The discussion group is closed."),
    "conflict": (409, "Thao tác xung đột với trạng thái hiện tại.", "The action conflicts with the current state."),
    "sitting_not_open": (409, "Phiên họp chưa khai mạc.", "The sitting is not open."),
    "unreadable_document": (
        422,
        "Không đọc được tài liệu.",
        "The document cannot be read.",
    ),
    "payload_too_large": (413, "Dữ liệu gửi lên quá lớn.", "The upload is too large."),
    "rate_limited": (429, "Thiết bị gửi quá nhiều yêu cầu. Vui lòng chờ giây lát.", "This device sends too many requests. Please wait a moment."),
    "too_many_connections": (
        429,
        "Thiết bị hoặc địa chỉ này đã mở quá nhiều kết nối.",
        "This device or address has too many open connections.",
    ),
    "range_not_satisfiable": (416, "Khoảng byte yêu cầu nằm ngoài tệp.", "The requested byte range is outside the file."),
    "not_supported": (400, "Chức năng chưa được hỗ trợ.", "Not supported yet."),
    "locked": (
        503,
        "Hộp đang khóa: hãy cắm khóa USB.",
        "The box is locked: insert the key stick.",
    ),
    # Provisioning bundles from a USB stick (docs/BUNDLE.md); messages name what to fix.
    "bundle_invalid": (
        422,
        "Gói cấu hình không hợp lệ. Hãy tạo lại gói bằng `phs provision build`.",
        "The bundle is not valid. Build it again with `phs provision build`.",
    ),
    "bundle_signature": (
        422,
        "Chữ ký của gói cấu hình không đúng: gói đã bị sửa hoặc hỏng. Hãy chép lại gói.",
        "The bundle's signature does not verify: it was altered or damaged. Copy it again.",
    ),
    "bundle_untrusted": (
        403,
        "Gói được ký bằng một khóa lạ, không phải khóa của đơn vị mà hộp đã tin cậy.",
        "The bundle is signed by a key this box does not trust (not the organisation's key it was first given).",
    ),
    "bundle_version": (
        422,
        "Gói cấu hình dùng định dạng mới hơn phần mềm của hộp. Hãy cập nhật phần mềm trước.",
        "The bundle uses a newer format than this box's software. Update the software first.",
    ),
    "bundle_too_large": (
        413,
        "Gói cấu hình quá lớn hoặc có quá nhiều tệp.",
        "The bundle is too large or holds too many files.",
    ),
    "login_failed": (
        401,
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "The user name or password is wrong.",
    ),
    "internal": (500, "Lỗi hệ thống.", "Internal error."),
}


class PhsError(Exception):
    """A refusal with a stable code; ``detail`` carries machine-readable context."""

    code: str = "internal"

    def __init__(
        self,
        code: str | None = None,
        message: str | None = None,
        message_en: str | None = None,
        **detail: Any,
    ) -> None:
        if code is not None:
            self.code = code
        status, vi, en = CATALOGUE.get(self.code, CATALOGUE["internal"])
        self.status = status
        self.message = message or vi
        self.message_en = message_en or en
        self.detail = detail
        super().__init__(f"{self.code}: {self.message_en}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON body a client receives."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.detail:
            body["detail"] = self.detail
        return body


def refuse(code: str, message: str | None = None, message_en: str | None = None, **detail: Any) -> PhsError:
    """Build a refusal; ``raise refuse("already_voted")`` reads well at call sites."""
    if code not in CATALOGUE:
        raise ValueError(f"unknown error code {code!r}")
    return PhsError(code, message, message_en, **detail)
