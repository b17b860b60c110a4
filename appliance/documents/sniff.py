"""Tell what an upload is from its bytes; the filename is only a hint.

Secretaries rename files, browsers drop extensions, phones send HEIC: the content decides.
"""

from __future__ import annotations

import io
import zipfile

from appliance.documents import refusals
from appliance.documents.const import MAX_UNZIPPED_BYTES

# (magic, offset, name) of formats we recognise only to refuse them clearly.
_KNOWN_OTHERS: tuple[tuple[bytes, int, str], ...] = (
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIC"),
    (b"GIF8", 0, "GIF"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"BM", 0, "BMP"),
    (b"{\\rtf", 0, "RTF"),
    (b"Rar!", 0, "RAR"),
    (b"7z\xbc\xaf", 0, "7z"),
    (b"\x1f\x8b", 0, "gzip"),
)


def sniff(data: bytes, filename: str = "") -> str:
    """Return "pdf", "docx", "xlsx", "ole" (old .doc/.xls), "jpeg" or "png", or refuse."""
    if not data:
        raise refusals.empty_file()
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    if data[:4] == b"PK\x03\x04":
        return _sniff_zip(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise refusals.unsupported_format("WebP")
    for magic, offset, name in _KNOWN_OTHERS:
        if data[offset : offset + len(magic)] == magic:
            raise refusals.unsupported_format(name)
    if filename.lower().endswith(".pdf"):
        # Named .pdf without a header anywhere near the start: let MuPDF's repair try.
        return "pdf"
    raise refusals.not_a_document()


def _sniff_zip(data: bytes) -> str:
    """OOXML is a zip; tell DOCX from XLSX and refuse other zips and zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise refusals.damaged("Word/Excel") from None
    names = {info.filename for info in infos}
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise refusals.archive_bomb()
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        raise refusals.unsupported_format("PowerPoint (PPTX)")
    if "content.xml" in names and "mimetype" in names:
        raise refusals.unsupported_format("OpenDocument (ODT/ODS)")
    raise refusals.not_a_document("ZIP")
