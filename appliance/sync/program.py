"""`phs sync`: waits for a sealed archive and a way out, then ships it.

Every round (30 s) it watches the uplink and logs when that changes; when an upstream
store is configured and reachable (a default route, or an endpoint on the hall's own
network) it runs ``rounds.sync_round``: resumable S3 multipart uploads, then receipts
reported to the server. ``--once`` runs one round and exits (1 when a round failed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.core.logs import setup_logging
from appliance.core.settings import Settings
from appliance.network.interfaces import has_uplink
from appliance.sync import state as sync_state

log = logging.getLogger("appliance.sync")

UPLINK_CHECK_S = 30.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `phs sync`."""
    parser = argparse.ArgumentParser(prog="phs sync", description="Ship sealed archives upstream.")
    parser.add_argument("--data", type=Path, default=None, help="data directory (PHS_DATA_DIR)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (PHS_LOG_LEVEL)")
    parser.add_argument("--once", action="store_true", help="one round, then exit (1 when it failed)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 on a clean stop."""
    args = parse_args(argv)
    settings = Settings.from_env(data_dir=args.data, log_level=args.log_level)
    setup_logging(settings.log_level)
    if args.once:
        from appliance.sync.rounds import sync_round

        return 1 if sync_round(settings)["errors"] else 0
    return asyncio.run(run(settings.data_dir, settings=settings))


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
    settings: Settings | None = None,
    on_hall_network: Callable[[Settings], bool] | None = None,
) -> int:
    """The program's body; tests pass their own ``stop``, ``interval``, ``uplink`` and ``on_hall_network``."""
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
            if settings is not None:
                await asyncio.to_thread(sync_state.note, settings.data_dir, uplink={"up": now, "at": time.time()})
                await _ship(settings, now, on_hall_network)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("sync stopped")
    return 0


async def _ship(settings: Settings, uplink: bool, on_hall_network: Callable[[Settings], bool] | None = None) -> None:
    """One shipping round in a worker thread; a failure is logged, the program keeps waiting.

    Without a default route the round is not even tried (no timeouts piling up, no
    errors on the technician page): the program waits for the uplink. An archive server
    on the hall's own network is reachable without one.
    """
    from appliance.sync.rounds import configured, endpoint_is_local, sync_round

    local = on_hall_network or endpoint_is_local
    if not configured(settings) or not (uplink or await asyncio.to_thread(local, settings)):
        return
    try:
        summary = await asyncio.to_thread(sync_round, settings)
    except Exception:  # noqa: BLE001 - the next round tries again; the state file says where we are
        log.exception("sync round failed")
        summary = {"errors": ["internal"]}
    await asyncio.to_thread(sync_state.note, settings.data_dir, last_round={"at": time.time(), **summary})


if __name__ == "__main__":
    sys.exit(main())
