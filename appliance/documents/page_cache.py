"""Decrypted page images kept in memory, so a page 100 tablets fetch is decrypted once.

Plaintext lives in RAM only, never on disk, and is bounded by bytes (``page_cache_mib``).
It is keyed by blob id: a blob id is the keyed hash of its content, so an entry can never
be stale, and who may see it is decided before the cache is asked (auth guard, access
level, per-viewer watermark renditions have their own blob ids).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

MEDIA_BY_MAGIC = ((b"RIFF", "image/webp"), (b"\x89PNG", "image/png"))


def media_of(data: bytes) -> str:
    """The media type of a stored page image, from its first bytes (WebP, PNG, else JPEG)."""
    head = data[:4]
    return next((media for magic, media in MEDIA_BY_MAGIC if head == magic), "image/jpeg")


class PageCache:
    """A least-recently-used map of blob id -> (plaintext, media type), at most ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.size = 0
        self._entries: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, blob_id: str, read: Callable[[str], bytes]) -> tuple[bytes, str]:
        """The page's bytes and media type: from memory, or read (and decrypted) once by ``read``."""
        found = self._entries.get(blob_id)
        if found is not None:
            self._entries.move_to_end(blob_id)
            return found
        data = read(blob_id)
        entry = (data, media_of(data))
        if len(data) <= self.limit // 4:  # one huge zoom page must not flush every tablet page
            self._entries[blob_id] = entry
            self.size += len(data)
            while self.size > self.limit:
                _, (old, _) = self._entries.popitem(last=False)
                self.size -= len(old)
        return entry

    def clear(self) -> None:
        """Forget every page (the box is locking, or a sitting's data is erased)."""
        self._entries.clear()
        self.size = 0
