"""Demo documents of our own making, so the demo never depends on ../shared.

Regenerate with ``python -m appliance.demo.make_documents`` (deterministic content).
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent

#: (filename, 1-based agenda item the document belongs to).
DEMO_DOCUMENTS: list[tuple[str, int]] = [
    ("chuong-trinh-ky-hop.pdf", 1),
    ("bao-cao-kinh-te-xa-hoi-2026.pdf", 2),
    ("to-trinh-du-toan-ngan-sach-2027.pdf", 3),
    ("du-thao-nghi-quyet-dau-tu-cong.pdf", 4),
    ("gop-y-du-thao-nghi-quyet.docx", 4),
]


def demo_document_paths() -> list[tuple[Path, int]]:
    """Paths of the demo documents with their agenda item (1-based)."""
    return [(DEMO_DIR / name, item) for name, item in DEMO_DOCUMENTS]
