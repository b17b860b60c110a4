"""`phs sync`: waits for a sealed archive and a way out, then ships it.

Shipping (resumable S3 multipart uploads, USB export) is a later issue; for now the
program waits, watches for an uplink every 30 s, and logs when that changes, so the
process topology and its clean stop are real from the start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.core.logs import setup_logging
from appliance.core.settings import Settings
from appliance.network.interfaces import has_uplink

log = logging.getLogger("appliance.sync")

UPLINK_CHECK_S = 30.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `phs sync`."""
    parser = argparse.ArgumentParser(prog="phs sync", description="Ship sealed archives upstream.")
    parser.add_argument("--data", type=Path, default=None, help="data directory (PHS_DATA_DIR)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (PHS_LOG_LEVEL)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 on a clean stop."""
    args = parse_args(argv)
    settings = Settings.from_env(data_dir=args.data, log_level=args.log_level)
    setup_logging(settings.log_level)
    return asyncio.run(run(settings.data_dir))


def stop_on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """Set ``stop`` on SIGTERM/SIGINT; returns the signals handled (none off the main thread)."""
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (ValueError, RuntimeError, NotImplementedError):
            continue
        handled.append(sig)
    return handled


async def run(
    data_dir: Path,
    *,
    stop: asyncio.Event | None = None,
    interval: float = UPLINK_CHECK_S,
    uplink: Callable[[], bool] = has_uplink,
) -> int:
    """The program's body; tests pass their own ``stop``, ``interval`` and ``uplink``."""
    stop = stop or asyncio.Event()
    handled = stop_on_signals(stop)
    loop = asyncio.get_running_loop()
    log.info("sync waiting for archives", extra={"data_dir": str(data_dir)})
    last: bool | None = None
    try:
        while not stop.is_set():
            try:
                now = await asyncio.to_thread(uplink)
            except Exception:  # a flaky netlink read must not end the program
                log.exception("uplink check failed")
                now = False
            if now != last:
                log.info("uplink up" if now else "uplink down", extra={"uplink": now})
                last = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("sync stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
