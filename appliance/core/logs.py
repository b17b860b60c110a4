"""Structured logs: one JSON object a line, never a document's text, a note, a choice or a key."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with its ``extra`` fields."""

    _SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object."""
        body: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._SKIP and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr (supervisord collects them)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs would carry URLs with document ids and tokens in query strings.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request at INFO: the devices program polls the local API every few
    # seconds, which would bury the lines a person looks for (the printed pairing codes).
    logging.getLogger("httpx").setLevel(logging.WARNING)
