"""`phs devices`: the process that owns the hardware edge.

It watches the machine (USB sticks, serial adapters, display connectors), runs the
configured conference system (``PHS_CONFERENCE``: simulated, phs-bus, cocon) with the
bridge that carries its events to the server and the server's floor plan back to the
microphones, keeps one kiosk browser per connected display output, reads the door's
card readers (``PHS_CARD_READERS``) into check-ins, and reports units
and outputs to the server every two seconds for the technician screen. It stops
promptly on SIGTERM (supervisord) and SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import httpx

from appliance.core.logs import setup_logging
from appliance.core.settings import Settings
from appliance.devices.bridge import Bridge
from appliance.devices.bus_adapter import BusAttachment
from appliance.devices.card_reader import CardReaders, card_poster, parse_match
from appliance.devices.cocon import CoConSystem
from appliance.devices.conference import ConferenceEvent, KeypadVote, SimulatedConferenceSystem
from appliance.devices.displays import (
    Kiosks,
    KioskSupervisor,
    ProcessKiosks,
    SupervisorKiosks,
    scan_outputs,
)
from appliance.devices.local_api import BASE_URL, local_socket_path
from appliance.devices.usb_storage import HttpHandover, StickHandler
from appliance.devices.watcher import Change, OnChange, PollingWatcher, UdevWatcher, start_watcher
from appliance.supervise import kiosk_programs_dir

log = logging.getLogger("appliance.devices")

REPORT_S = 2.0


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
    return asyncio.run(run(settings.data_dir, seats=args.seats, settings=settings))


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
    seats: int = 0,
    stop: asyncio.Event | None = None,
    settings: Settings | None = None,
    scan_displays: Callable[[], dict[str, bool]] = scan_outputs,
    watch: Callable[[OnChange], PollingWatcher | UdevWatcher] = start_watcher,
    card_readers: Callable[[Settings, Path], CardReaders | None] | None = None,
) -> int:
    """The program's body; tests pass their own ``stop`` event, settings and edges."""
    settings = settings or Settings.from_env(data_dir=data_dir)
    stop = stop or asyncio.Event()
    handled = stop_on_signals(stop)
    loop = asyncio.get_running_loop()
    changes: asyncio.Queue[Change] = asyncio.Queue()
    hall = await _conference(settings, data_dir, seats)
    kiosks = choose_kiosks(settings, data_dir)
    if isinstance(kiosks, SupervisorKiosks):
        await asyncio.to_thread(kiosks.stop_all)  # a previous run's, for outputs maybe unplugged since
    displays = KioskSupervisor(kiosks, f"http://127.0.0.1:{settings.port}", scan=scan_displays)

    def forward(change: Change) -> None:
        # Called on the watcher's thread; the queue belongs to the loop.
        loop.call_soon_threadsafe(changes.put_nowait, change)

    watcher = watch(forward)
    displays.rescan()
    readers = (card_readers or door_readers)(settings, data_dir)
    tasks = [
        asyncio.create_task(_log_changes(changes, _stick_handler(data_dir), hall, displays)),
        asyncio.create_task(_report(data_dir, hall, displays, rescan=not watcher.udev)),
        *hall.tasks,
        *([asyncio.create_task(readers.run())] if readers is not None else []),
    ]
    present = watcher.present()
    log.info(
        "devices ready",
        extra={
            "data_dir": str(data_dir),
            "udev": watcher.udev,
            "conference": settings.conference,
            "units": len(hall.status()),
            "storage": sum(1 for d in present if d.kind == "storage"),
            "serial": sum(1 for d in present if d.kind == "serial"),
            "displays": sum(1 for o in displays.outputs.values() if o.connected),
            "card_readers": len(readers.match) if readers is not None else 0,  # configured, not found
            # Who runs the browsers: supervisord's programs, our own children, or nobody.
            "kiosk": {SupervisorKiosks: "supervisord", ProcessKiosks: "process"}.get(type(kiosks)),
        },
    )
    try:
        await stop.wait()
    finally:
        # Stop the thread off the loop so a slow join cannot delay the other shutdowns.
        await asyncio.to_thread(watcher.stop, 1.0)
        await asyncio.to_thread(displays.stop)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await hall.close()
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("devices stopped")
    return 0


def choose_kiosks(settings: Settings, data_dir: Path, environ: Mapping[str, str] = os.environ) -> Kiosks | None:
    """supervisord's programs when we run under it (`phs up`, the box), our own children when alone."""
    if not settings.kiosk_command:
        return None  # outputs are only reported
    profiles = data_dir / "run" / "kiosk"
    serverurl = environ.get("SUPERVISOR_SERVER_URL")
    if environ.get("SUPERVISOR_ENABLED") and serverurl:
        return SupervisorKiosks(settings.kiosk_command, profiles, kiosk_programs_dir(data_dir), serverurl)
    return ProcessKiosks(settings.kiosk_command, profiles)


def door_readers(settings: Settings, data_dir: Path) -> CardReaders | None:
    """The configured door card readers, posting each card to the server; None when none is."""
    match = parse_match(settings.card_readers)
    return CardReaders(match, card_poster(data_dir)) if match else None


class Hall:
    """The conference system in use, whatever its make, and the tasks that serve it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.system: SimulatedConferenceSystem | CoConSystem | None = None
        self.bus: BusAttachment | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def status(self) -> list[dict[str, object]]:
        """Units for the technician screen."""
        if self.bus is not None:
            return self.bus.status()
        if isinstance(self.system, CoConSystem):
            return [{"seat": seat, "online": True} for seat in sorted(self.system.commanded)]
        return self.system.status() if self.system is not None else []

    async def on_change(self, change: Change) -> None:
        """Serial adapters come and go under phs-bus."""
        if self.bus is not None:
            await self.bus.on_change(change)

    async def close(self) -> None:
        """Release the hardware."""
        if self.bus is not None:
            await self.bus.detach()
        if self.system is not None:
            await self.system.close()


async def _conference(settings: Settings, data_dir: Path, seats: int) -> Hall:
    """Start the configured conference system and bridge it to the server."""
    hall = Hall(settings.conference)
    if settings.conference == "phs-bus":
        hall.bus = BusAttachment(data_dir, fixed=settings.bus_device)
        await hall.bus.start()
        return hall
    if settings.conference == "cocon":
        if not settings.cocon_host:
            log.error("conference is cocon but PHS_COCON_HOST is empty; no conference system")
            return hall
        cocon = CoConSystem(settings.cocon_host)
        await cocon.start()
        hall.system = cocon
    elif settings.conference == "simulated":
        hall.system = SimulatedConferenceSystem(str(n) for n in range(1, seats + 1))
    else:
        if settings.conference != "none":
            log.error("unknown conference system, none used", extra={"conference": settings.conference})
        return hall
    hall.tasks.append(asyncio.create_task(_log_conference(hall.system.events())))
    if hall.status() or settings.conference == "cocon":
        hall.tasks.append(asyncio.create_task(Bridge(hall.system, data_dir).run()))
    return hall


async def _report(data_dir: Path, hall: Hall, displays: KioskSupervisor, *, rescan: bool) -> None:
    """Every 2 s: units and display outputs to the server; the technician's view assignments back."""
    transport = httpx.AsyncHTTPTransport(uds=str(local_socket_path(data_dir)))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=5.0) as client:
        while True:
            if rescan:  # without udev nobody tells us a cable went in
                await asyncio.to_thread(displays.rescan)
            body = {"source": hall.kind, "units": hall.status(), "displays": displays.status()}
            with contextlib.suppress(httpx.TransportError, ValueError):
                r = await client.post("/api/local/status", json=body)
                if r.status_code == 200:
                    assignments = r.json().get("assignments") or {}
                    if isinstance(assignments, dict):
                        await asyncio.to_thread(displays.assign, {str(k): str(v) for k, v in assignments.items()})
            await asyncio.sleep(REPORT_S)


def _stick_handler(data_dir: Path) -> StickHandler:
    """USB sticks with bundles go to the server over the local socket (provisioning, updates)."""
    return StickHandler(HttpHandover(socket=local_socket_path(data_dir)), data_dir / "run" / "media")


async def _log_changes(
    changes: asyncio.Queue[Change],
    sticks: StickHandler | None = None,
    hall: Hall | None = None,
    displays: KioskSupervisor | None = None,
) -> None:
    while True:
        change = await changes.get()
        log.info(
            "hardware change",
            extra={"action": change.action, "kind": change.device.kind, "device": change.device.name},
        )
        try:
            if sticks is not None and change.action == "add" and change.device.kind == "storage":
                await asyncio.to_thread(sticks.on_change, change)  # mount(8) and the handover block
            elif hall is not None and change.device.kind == "serial":
                await hall.on_change(change)
            elif displays is not None and change.device.kind == "display":
                await asyncio.to_thread(displays.rescan)  # the event names the card: read every connector
        except Exception:  # one bad change must not end the program's watching
            log.exception("hardware change not handled", extra={"kind": change.device.kind})


async def _log_conference(events: AsyncIterator[ConferenceEvent]) -> None:
    async for event in events:
        if isinstance(event, KeypadVote):
            # Which seat pressed a key, and when, must not be on disk during a secret poll.
            log.debug("conference event", extra={"event": "KeypadVote"})
            continue
        log.info("conference event", extra={"event": type(event).__name__, "seat": event.seat})


if __name__ == "__main__":
    sys.exit(main())
