"""Open each accepted format as a PDF document that PyMuPDF can render.

PDF is opened (decrypted, repaired by MuPDF); DOCX/XLSX are laid out on A4 by MuPDF's own
office reader (no LibreOffice needed); images become one page each; an old binary .doc/.xls
is converted by LibreOffice when the box has it.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pymupdf
from PIL import Image, UnidentifiedImageError

from appliance.documents import refusals
from appliance.documents.const import A4_PT, MAX_IMAGE_PIXELS, SOFFICE_TIMEOUT_S

log = logging.getLogger(__name__)

# Errors PyMuPDF raises on bad input: its own (RuntimeError subclasses) and MuPDF's.
MUPDF_ERRORS: tuple[type[Exception], ...] = (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)

# EXIF orientation -> degrees to rotate the image anti-clockwise (PyMuPDF's convention).
_EXIF_ROTATION = {3: 180, 6: 270, 8: 90}


def open_pdf(data: bytes, password: str | None) -> pymupdf.Document:
    """Open a PDF, authenticating with ``password`` when it has a user password."""
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except MUPDF_ERRORS:
        raise refusals.damaged("PDF") from None
    # Read needs_pass exactly once, BEFORE authenticating: reading it again afterwards
    # breaks content decoding of RC4 files in PyMuPDF 2.0 (corpus/pdf-edge/SOURCES.md).
    needs_pass = bool(doc.needs_pass)
    if needs_pass:
        if not password:
            raise refusals.password_required()
        if not doc.authenticate(password):
            raise refusals.password_wrong()
    return doc


def open_office(data: bytes, fmt: str) -> pymupdf.Document:
    """Lay out a DOCX (A4 portrait) or XLSX (A4 landscape) and return it as a PDF document."""
    try:
        source = pymupdf.open(stream=data, filetype=fmt)
        width, height = A4_PT if fmt == "docx" else (A4_PT[1], A4_PT[0])
        source.layout(width=width, height=height, fontsize=11 if fmt == "docx" else 9)
        return pymupdf.open("pdf", source.convert_to_pdf())
    except MUPDF_ERRORS:
        raise refusals.damaged("Word" if fmt == "docx" else "Excel") from None


def image_size(data: bytes) -> tuple[int, int, int]:
    """Declared (width, height, exif orientation) read from the header without decoding pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            orientation = int(image.getexif().get(0x0112, 1) or 1)
            width, height = image.size
    except Image.DecompressionBombError:
        raise refusals.image_too_large(None, MAX_IMAGE_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise refusals.damaged("ảnh/image") from None
    return width, height, orientation


def images_to_pdf(images: Sequence[bytes]) -> bytes:
    """One page per image, A4-wide (portrait) or A4-high (landscape), original bytes embedded.

    Takes a list so several photos of a paper document can become one document later.
    JPEG data is embedded as is (no re-encoding, no quality loss); EXIF rotation is honoured.
    """
    out = pymupdf.open()
    for data in images:
        width, height, orientation = image_size(data)
        if width * height > MAX_IMAGE_PIXELS:
            raise refusals.image_too_large(width * height, MAX_IMAGE_PIXELS)
        if width <= 0 or height <= 0:
            raise refusals.damaged("ảnh/image")
        rotate = _EXIF_ROTATION.get(orientation, 0)
        if rotate in (90, 270):
            width, height = height, width
        page_w = A4_PT[0] if height >= width else A4_PT[1]
        page_h = page_w * height / width
        page = out.new_page(width=page_w, height=page_h)
        try:
            page.insert_image(page.rect, stream=data, rotate=rotate)
        except MUPDF_ERRORS:
            raise refusals.damaged("ảnh/image") from None
    return bytes(out.tobytes(garbage=1, deflate=True))


def legacy_to_pdf(data: bytes) -> bytes:
    """Convert an old .doc/.xls with LibreOffice, or refuse telling the secretary to re-save."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise refusals.legacy_word()
    # The design keeps document plaintext off the disk: use RAM (tmpfs) when the box has it.
    ram = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="phs-doc-", dir=ram) as tmp:
        source = Path(tmp) / "input.doc"
        source.write_bytes(data)
        # A private profile directory: a second LibreOffice run must not wait on a lock.
        profile = Path(tmp) / "profile"
        command = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=True)
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("legacy conversion failed", extra={"error": type(exc).__name__})
            raise refusals.conversion_failed() from None
        result = Path(tmp) / "input.pdf"
        if not result.exists():
            raise refusals.conversion_failed()
        return result.read_bytes()
