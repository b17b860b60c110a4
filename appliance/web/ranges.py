"""HTTP byte ranges (RFC 9110 §14) for sealed blobs: one range per request, as viewers ask.

A tablet on weak Wi-Fi resumes a large page image where it stopped instead of starting
over; ``BlobStore.get_range`` then decrypts only the 64 KiB chunks the range touches.
Several ranges in one request are answered with the whole body (allowed by the RFC).
"""

from __future__ import annotations

import re

from appliance.core.errors import refuse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, if_range: str | None, etag: str, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) to send, or None for the whole body; ``range_not_satisfiable`` when out of bounds."""
    if not header:
        return None
    if if_range is not None and if_range.strip() != etag:
        return None  # the client's partial copy is of another version: send it whole
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None  # several ranges or another unit: ignoring Range is always allowed
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> Exception:
    return refuse(
        "range_not_satisfiable",
        "Khoảng byte yêu cầu nằm ngoài tệp.",
        "The requested byte range is outside the file.",
        size=size,
    )
