"""`phs devices`: the process that owns the hardware edge.

For now it starts the hardware watcher and the simulated conference system, logs what
it found, and logs changes; forwarding them to the server over the local API comes with
the server's local endpoints. It stops promptly on SIGTERM (supervisord) and SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from appliance.core.logs import setup_logging
from appliance.core.settings import Settings
from appliance.devices.conference import ConferenceEvent, KeypadVote, SimulatedConferenceSystem
from appliance.devices.local_api import local_socket_path
from appliance.devices.usb_storage import HttpHandover, StickHandler
from appliance.devices.watcher import Change, start_watcher

log = logging.getLogger("appliance.devices")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `phs devices`."""
    parser = argparse.ArgumentParser(prog="phs devices", description="Watch the hall's hardware.")
    parser.add_argument("--data", type=Path, default=None, help="data directory (PHS_DATA_DIR)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (PHS_LOG_LEVEL)")
    parser.add_argument(
        "--seats", type=int, default=0, help="delegate units of the simulated conference system"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 on a clean stop."""
    args = parse_args(argv)
    settings = Settings.from_env(data_dir=args.data, log_level=args.log_level)
    setup_logging(settings.log_level)
    return asyncio.run(run(settings.data_dir, seats=args.seats))


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


async def run(data_dir: Path, *, seats: int = 0, stop: asyncio.Event | None = None) -> int:
    """The program's body; tests pass their own ``stop`` event."""
    stop = stop or asyncio.Event()
    handled = stop_on_signals(stop)
    loop = asyncio.get_running_loop()
    changes: asyncio.Queue[Change] = asyncio.Queue()
    conference = SimulatedConferenceSystem(str(n) for n in range(1, seats + 1))

    def forward(change: Change) -> None:
        # Called on the watcher's thread; the queue belongs to the loop.
        loop.call_soon_threadsafe(changes.put_nowait, change)

    watcher = start_watcher(forward)
    tasks = [
        asyncio.create_task(_log_changes(changes, _stick_handler(data_dir))),
        asyncio.create_task(_log_conference(conference.events())),
    ]
    present = watcher.present()
    log.info(
        "devices ready",
        extra={
            "data_dir": str(data_dir),
            "udev": watcher.udev,
            "conference": "simulated",
            "units": len(conference.units),
            "storage": sum(1 for d in present if d.kind == "storage"),
            "serial": sum(1 for d in present if d.kind == "serial"),
        },
    )
    try:
        await stop.wait()
    finally:
        # Stop the thread off the loop so a slow join cannot delay the other shutdowns.
        await asyncio.to_thread(watcher.stop, 1.0)
        await conference.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("devices stopped")
    return 0


def _stick_handler(data_dir: Path) -> StickHandler:
    """USB sticks with bundles go to the server over the local socket (provisioning, updates)."""
    return StickHandler(HttpHandover(socket=local_socket_path(data_dir)), data_dir / "run" / "media")


async def _log_changes(changes: asyncio.Queue[Change], sticks: StickHandler | None = None) -> None:
    while True:
        change = await changes.get()
        log.info(
            "hardware change",
            extra={"action": change.action, "kind": change.device.kind, "device": change.device.name},
        )
        if sticks is not None and change.action == "add" and change.device.kind == "storage":
            await asyncio.to_thread(sticks.on_change, change)  # mount(8) and the handover block


async def _log_conference(events: AsyncIterator[ConferenceEvent]) -> None:
    async for event in events:
        if isinstance(event, KeypadVote):
            # Which seat pressed a key, and when, must not be on disk during a secret poll.
            log.debug("conference event", extra={"event": "KeypadVote"})
            continue
        log.info("conference event", extra={"event": type(event).__name__, "seat": event.seat})


if __name__ == "__main__":
    sys.exit(main())
