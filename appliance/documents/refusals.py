"""Refusals of an upload, each saying in both languages what is wrong and what to do.

They all carry the code ``unreadable_document`` and a ``reason`` in ``detail`` that a
program can match (the UI shows a password field on ``password_required``).
"""

from __future__ import annotations

from typing import Any

from appliance.core.errors import PhsError, refuse

CODE = "unreadable_document"


def _refuse(reason: str, vi: str, en: str, **detail: Any) -> PhsError:
    return refuse(CODE, vi, en, reason=reason, **detail)


def empty_file() -> PhsError:
    """The upload has no bytes (a failed copy, a placeholder file)."""
    return _refuse(
        "empty",
        "Tệp tải lên trống (0 byte). Hãy kiểm tra lại tệp rồi tải lên lại.",
        "The uploaded file is empty (0 bytes). Check the file and upload it again.",
    )


def not_a_document(what: str = "") -> PhsError:
    """The bytes are no format we know (random data, an archive, a text file)."""
    suffix_vi = f" ({what})" if what else ""
    return _refuse(
        "not_a_document",
        "Tệp này không phải là tài liệu PDF, Word (DOCX), Excel (XLSX) hay ảnh JPG/PNG"
        f"{suffix_vi}. Hãy chọn đúng tệp tài liệu.",
        f"This file is not a PDF, Word (DOCX), Excel (XLSX) or JPG/PNG image{suffix_vi}. "
        "Choose the document file.",
        what=what or None,
    )


def unsupported_format(name: str) -> PhsError:
    """A real format we do not read (HEIC photos, ODT, PPTX...)."""
    return _refuse(
        "unsupported_format",
        f"Định dạng {name} chưa được hỗ trợ. Hãy lưu tài liệu dưới dạng PDF (hoặc DOCX, "
        "XLSX, JPG, PNG) rồi tải lên lại.",
        f"The {name} format is not supported. Save the document as PDF (or DOCX, XLSX, "
        "JPG, PNG) and upload it again.",
        format=name,
    )


def damaged(kind: str = "PDF") -> PhsError:
    """The file is of a known kind but too broken for MuPDF's repair."""
    return _refuse(
        "damaged",
        f"Tệp {kind} bị hỏng, không thể sửa để đọc. Hãy xuất lại tệp từ phần mềm gốc "
        "hoặc xin bản khác từ nơi gửi.",
        f"The {kind} file is damaged beyond repair. Export it again from the original "
        "program or ask the sender for another copy.",
        format=kind,
    )


def damaged_pages(pages: list[int], page_count: int) -> PhsError:
    """Some pages cannot be loaded: we refuse rather than show a council an incomplete text."""
    listed = ", ".join(str(p) for p in pages[:10])
    return _refuse(
        "damaged_pages",
        f"Tệp PDF bị hỏng ở trang {listed} (trên tổng số {page_count} trang). Để đại biểu "
        "không đọc thiếu trang, tài liệu không được nhận. Hãy mở tệp bằng trình đọc PDF, "
        "in ra PDF mới (Print to PDF) rồi tải lên lại.",
        f"The PDF is damaged at page {listed} (of {page_count}). So that delegates never "
        "read an incomplete document it was not accepted. Open it in a PDF reader, print "
        "it to a new PDF and upload that.",
        pages=pages,
        page_count=page_count,
    )


def password_required() -> PhsError:
    """Encrypted with a user password and none was given."""
    return _refuse(
        "password_required",
        "Tài liệu được bảo vệ bằng mật khẩu. Hãy nhập mật khẩu mở tệp.",
        "The document is password-protected. Enter the password that opens it.",
    )


def password_wrong() -> PhsError:
    """Encrypted and the given password opens nothing."""
    return _refuse(
        "password_wrong",
        "Mật khẩu không đúng, không mở được tài liệu. Hãy kiểm tra lại (chữ hoa, chữ "
        "thường, bộ gõ tiếng Việt).",
        "The password is wrong and does not open the document. Check it (upper/lower "
        "case, Vietnamese keyboard).",
    )


def too_large(size: int, limit: int) -> PhsError:
    """The upload is over the size limit."""
    return _refuse(
        "too_large",
        f"Tệp quá lớn ({size // (1024 * 1024)} MB, tối đa {limit // (1024 * 1024)} MB). "
        "Hãy nén PDF hoặc chia tài liệu thành nhiều tệp.",
        f"The file is too large ({size // (1024 * 1024)} MB, at most "
        f"{limit // (1024 * 1024)} MB). Compress the PDF or split the document.",
        size=size,
        limit=limit,
    )


def too_many_pages(count: int, limit: int) -> PhsError:
    """More pages than a sitting can reasonably read (and than the box should render)."""
    return _refuse(
        "too_many_pages",
        f"Tài liệu có {count} trang, vượt giới hạn {limit} trang. Hãy chia thành nhiều tệp.",
        f"The document has {count} pages, over the limit of {limit}. Split it into several files.",
        page_count=count,
        limit=limit,
    )


def page_too_large(page: int) -> PhsError:
    """A page bigger than 5 m²: a malformed size or a rendering bomb."""
    return _refuse(
        "page_too_large",
        f"Trang {page} có kích thước bất thường (lớn hơn 5 m²). Hãy xuất lại tệp với khổ "
        "giấy thông thường (A4, A3).",
        f"Page {page} has an abnormal size (over 5 m²). Export the file again on a usual "
        "paper size (A4, A3).",
        page=page,
    )


def image_too_large(pixels: int | None, limit: int) -> PhsError:
    """An image that declares more pixels than we will decode (decompression bomb guard)."""
    size_vi = f"{pixels // 1_000_000} triệu điểm ảnh, " if pixels else ""
    size_en = f"{pixels // 1_000_000} Mpx, " if pixels else ""
    return _refuse(
        "image_too_large",
        f"Ảnh quá lớn ({size_vi}tối đa {limit // 1_000_000} triệu điểm ảnh). Hãy quét lại "
        "ở 300 dpi hoặc giảm kích thước ảnh.",
        f"The image is too large ({size_en}at most {limit // 1_000_000} Mpx). Scan again "
        "at 300 dpi or reduce the image size.",
        pixels=pixels,
        limit=limit,
    )


def archive_bomb() -> PhsError:
    """A DOCX/XLSX whose parts claim to unpack to gigabytes."""
    return _refuse(
        "too_large",
        "Tệp Word/Excel khai báo dữ liệu giải nén quá lớn (nghi là tệp độc hại). Hãy lưu "
        "lại dưới dạng PDF.",
        "The Word/Excel file declares an enormous unpacked size (likely malicious). Save "
        "it as PDF instead.",
    )


def legacy_word() -> PhsError:
    """An old binary .doc/.xls and no LibreOffice on this box to convert it."""
    return _refuse(
        "legacy_format",
        "Tệp Word/Excel đời cũ (.doc, .xls) chưa đọc được trên máy này. Hãy mở tệp bằng "
        "Word/Excel, chọn Lưu thành (Save As) dạng DOCX, XLSX hoặc PDF rồi tải lên lại.",
        "Old Word/Excel files (.doc, .xls) cannot be read on this box. Open the file in "
        "Word/Excel, Save As DOCX, XLSX or PDF, and upload it again.",
    )


def conversion_failed() -> PhsError:
    """LibreOffice could not convert an old office file."""
    return _refuse(
        "conversion_failed",
        "Không chuyển đổi được tệp Word/Excel cũ. Hãy lưu lại dưới dạng DOCX hoặc PDF.",
        "The old Word/Excel file could not be converted. Save it as DOCX or PDF.",
    )


def timed_out() -> PhsError:
    """A job ran past its time limit; the worker was killed."""
    return _refuse(
        "timeout",
        "Xử lý tài liệu quá lâu nên đã dừng. Hãy xuất lại tệp (in ra PDF) hoặc chia nhỏ.",
        "Processing the document took too long and was stopped. Export it again (print "
        "to PDF) or split it.",
    )


def crashed() -> PhsError:
    """The worker process died (a MuPDF crash, the memory cap); the server lives on."""
    return _refuse(
        "crashed",
        "Tài liệu làm bộ xử lý dừng đột ngột (có thể bị hỏng hoặc quá phức tạp). Hãy xuất "
        "lại tệp (in ra PDF) rồi tải lên lại.",
        "The document made the processor stop (it may be damaged or too complex). Export "
        "it again (print to PDF) and upload that.",
    )
