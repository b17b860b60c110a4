"""The minutes (biên bản) of each sitting as the journal leaves them.

Kept apart from ``minutes.py`` (the rules) so ``model.SessionState`` can hold a typed
book without importing the rules, which import the state themselves.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class FinalMinutes(BaseModel):
    """What finalising froze: the files (sealed blobs), their hashes and the box's signature."""

    pdf_sha256: str
    docx_sha256: str
    pdf_blob: str
    docx_blob: str
    signature: str  # Ed25519 by the box's identity over the PDF (appliance/archive/signing.py)
    public_key: str
    cut: int  # the journal position the minutes were generated from
    at: float
    token: list[str] | None = None  # a PKCS#11 token's (mechanism, signature, certificate), if one signed


class Receipt(BaseModel):
    """An upstream archive (or a USB import on the archive side) confirmed it holds the sitting."""

    manifest_sha256: str
    target: str  # s3 | usb
    key: str  # the object key, or the archive file name on a stick
    checksum: str
    at: float


class SittingMinutes(BaseModel):
    """The secretary's part of one sitting's minutes, and what became of them."""

    conclusions: str = ""  # the chair's conclusions, as the secretary edited them
    place: str = ""
    edited_at: float | None = None
    absences: dict[str, str] = Field(default_factory=dict)  # delegate id -> reason the secretary recorded
    final: FinalMinutes | None = None
    receipts: list[Receipt] = Field(default_factory=list)
