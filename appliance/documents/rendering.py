"""Pages 2..n of an upload, rendered in the background once page 1 is stored.

The document reaches every tablet as soon as its first page is stored; the rest follow
here. Only ``IN_FLIGHT`` chunks are in the pool at a time (one per worker plus one queued,
so no worker idles while the loop stores a chunk), so a page a reader asks for now
(rendered on demand) waits for about one chunk, not for the whole document. A page
rendered on demand is handed back with ``provide`` and not rendered again, so its blob
id (the page's ETag) never changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from appliance.documents.const import POOL_WORKERS, RENDER_CHUNK
from appliance.documents.render import render_pages

log = logging.getLogger(__name__)

#: Runs a pool job (``pipeline.run_in_pool``); passed in to keep the import graph a tree.
Runner = Callable[..., Awaitable[Any]]
IN_FLIGHT = POOL_WORKERS + 1


class PageRendering:
    """The background render of a document's missing pages; ``blobs`` fills in as pages land."""

    def __init__(
        self,
        pdf: bytes,
        blobs: dict[str, list[str]],
        widths: dict[str, int],
        fmt: str,
        put_blob: Callable[[bytes], str],
        run: Runner,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.pdf = pdf
        self.blobs = blobs
        self.total = len(next(iter(blobs.values()), []))
        self._widths, self._fmt, self._put, self._run = widths, fmt, put_blob, run
        self._progress = progress
        self._started = time.monotonic()
        self.task: asyncio.Task[dict[str, list[str]]] = asyncio.ensure_future(self._render())

    def complete(self, index: int) -> bool:
        """Whether page ``index`` (0-based) is stored at every size."""
        return all(ids[index] for ids in self.blobs.values())

    @property
    def done(self) -> int:
        """Pages stored at every size."""
        return sum(1 for index in range(self.total) if self.complete(index))

    def page(self, name: str, index: int) -> str:
        """The blob id of a page at one size, or "" while it is not rendered yet."""
        ids = self.blobs.get(name)
        return ids[index] if ids is not None and 0 <= index < len(ids) else ""

    def provide(self, name: str, index: int, blob_id: str) -> None:
        """A page rendered on demand: keep it, so it is not rendered (nor re-identified) again."""
        ids = self.blobs.get(name)
        if ids is not None and 0 <= index < len(ids) and not ids[index]:
            ids[index] = blob_id

    async def wait(self) -> dict[str, list[str]]:
        """Every page's blob ids once all are stored; a refusal of a chunk is raised."""
        return await self.task

    def cancel(self) -> None:
        """Stop rendering (the upload was refused, or another request's document won)."""
        self.task.cancel()

    def _store(self, results: Sequence[tuple[int, dict[str, bytes]]]) -> None:
        for index, images in results:
            for name, image in images.items():
                if not self.blobs[name][index]:
                    self.blobs[name][index] = self._put(image)

    async def _render(self) -> dict[str, list[str]]:
        missing = [i for i in range(self.total) if not self.complete(i)]
        chunks = deque(missing[i : i + RENDER_CHUNK] for i in range(0, len(missing), RENDER_CHUNK))
        running: set[asyncio.Future[Any]] = set()
        try:
            while chunks or running:
                while chunks and len(running) < IN_FLIGHT:
                    # Pages a reader asked for meanwhile are already there.
                    chunk = [i for i in chunks.popleft() if not self.complete(i)]
                    if chunk:
                        job = self._run(render_pages, self.pdf, chunk, self._widths, self._fmt)
                        running.add(asyncio.ensure_future(job))
                if not running:
                    continue
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                errors = [task.exception() for task in finished]
                for task, error in zip(finished, errors, strict=True):
                    if error is None:
                        self._store(task.result())
                if any(errors):
                    raise next(e for e in errors if e is not None)
                if self._progress is not None:
                    self._progress(self.done, self.total)
        finally:
            for task in running:
                task.cancel()
        log.info(
            "document pages rendered",
            extra={"pages": self.total, "ms": round((time.monotonic() - self._started) * 1000)},
        )
        return {name: list(ids) for name, ids in self.blobs.items()}
