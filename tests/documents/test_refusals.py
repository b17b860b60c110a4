"""Uploads that are not documents, or are dangerous, are refused with a precise reason."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest

from appliance.core.errors import PhsError
from appliance.documents import convert as convert_module
from appliance.documents import images_to_pdf, ingest
from appliance.documents import reader as ingest_module


def _reason(data: bytes, filename: str = "upload.pdf") -> str:
    with pytest.raises(PhsError) as caught:
        ingest(data, filename)
    assert caught.value.code == "unreadable_document"
    assert caught.value.message and caught.value.message_en
    return str(caught.value.detail["reason"])


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_empty_file_is_refused_as_empty() -> None:
    assert _reason(b"") == "empty"


def test_random_bytes_are_not_a_document() -> None:
    assert _reason(os.urandom(4096), "random.bin") == "not_a_document"


def test_random_bytes_named_pdf_are_damaged() -> None:
    assert _reason(b"\x00\x01garbage" * 100, "to-trinh.pdf") == "damaged"


def test_zip_that_is_not_office_is_not_a_document() -> None:
    assert _reason(_zip({"notes.txt": b"hello"}), "file.docx") == "not_a_document"


def test_truncated_docx_is_damaged() -> None:
    data = _zip({"word/document.xml": b"<w:document>" * 10})
    assert _reason(data[: len(data) // 2], "to-trinh.docx") == "damaged"


def test_docx_with_no_valid_xml_is_damaged() -> None:
    assert _reason(_zip({"word/document.xml": b"not xml at all"}), "a.docx") == "damaged"


def test_image_declaring_too_many_pixels_is_refused_before_decoding() -> None:
    assert _reason(_png_header(60_000, 60_000), "scan.png") == "image_too_large"


def test_heic_photo_is_an_unsupported_format() -> None:
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64
    assert _reason(heic, "IMG_0001.HEIC") == "unsupported_format"


def test_file_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "MAX_FILE_BYTES", 1000)
    assert _reason(b"%PDF-1.7\n" + b"0" * 2000) == "too_large"


def test_old_word_file_without_libreoffice_asks_to_save_as_docx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(convert_module.shutil, "which", lambda _name: None)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(PhsError) as caught:
        ingest(ole, "to-trinh.doc")
    assert caught.value.detail == {"reason": "legacy_format"}
    assert "DOCX" in caught.value.message and "DOCX" in caught.value.message_en


def test_page_larger_than_five_square_metres_is_refused() -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page(width=14400, height=14400)  # 25.4 m x 25.4 m... in points: ~26 m²
    assert _reason(doc.tobytes()) == "page_too_large"


def test_too_many_pages_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import pymupdf

    monkeypatch.setattr(ingest_module, "MAX_PAGES", 3)
    doc = pymupdf.open()
    for _ in range(4):
        doc.new_page()
    with pytest.raises(PhsError) as caught:
        ingest(doc.tobytes(), "dai.pdf")
    assert caught.value.detail == {"reason": "too_many_pages", "page_count": 4, "limit": 3}


def test_several_images_merge_into_one_document(corpus: dict[str, bytes]) -> None:
    pdf = images_to_pdf(
        [corpus["scan-page-nghi-dinh-28-2021.jpg"], corpus["scan-page-hop-dong-p3.jpg"]]
    )
    document = ingest(pdf, "hai-trang.pdf")
    assert document.page_count == 2
    assert [p.width_pt for p in document.pages] == [595.0, 595.0]
