"""The door's USB card reader: raw key events decoded into card codes, found by pyudev
among input devices (never a real keyboard), and a card typed into a FIFO standing in for
/dev/input/eventN checks its delegate in on the real server, over the local socket.
`phs devices` reads every configured reader plugged in and follows udev's input events
(or polls without udev); only the udev context and monitor are faked."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.core.settings import Settings
from appliance.devices import program
from appliance.devices.card_reader import (
    EV_KEY,
    EVENT,
    CardReaders,
    KeyDecoder,
    card_poster,
    find_readers,
    key_events,
    parse_match,
    read_cards,
)
from tests.devices.test_displays import SilentWatcher
from tests.web.realserver import Driver

CARD = "PHSDDp_4f2A-x.0123456789ab"


def test_events_decode_into_the_typed_code_across_any_read_boundary() -> None:
    data = key_events(CARD) + key_events("PHSDD2.abcdef012345")
    decoder = KeyDecoder()
    codes: list[str] = []
    for i in range(0, len(data), 7):  # reads that cut events in the middle
        codes += decoder.feed(data[i : i + 7])
    assert codes == [CARD, "PHSDD2.abcdef012345"]


def test_releases_repeats_and_other_event_types_are_ignored() -> None:
    noise = EVENT.pack(0, 0, 4, 4, 458792) + EVENT.pack(0, 0, EV_KEY, 30, 2) + EVENT.pack(0, 0, 0, 0, 0)
    assert KeyDecoder().feed(noise + key_events("a1")) == ["a1"]


class FakeDevice(dict[str, str]):
    def __init__(self, node: str, **props: str) -> None:
        super().__init__(props)
        self.device_node = node


class FakeContext:
    def __init__(self, devices: list[FakeDevice]) -> None:
        self.devices = devices
        self.asked: dict[str, str] = {}
        self.scans = 0

    def list_devices(self, **kw: str) -> list[FakeDevice]:
        self.asked = kw
        self.scans += 1
        return list(self.devices)


class FakeMonitor:
    """pyudev's input monitor: a pipe the loop can wait on, and the events udev would send."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        self.pending: list[FakeDevice] = []

    def fileno(self) -> int:
        return self.r

    def send(self, action: str, device: FakeDevice) -> None:
        device.action = action  # type: ignore[attr-defined]
        self.pending.append(device)
        os.write(self.w, b"!")

    def poll(self, timeout: float | None = None) -> FakeDevice | None:
        if not self.pending:
            return None
        os.read(self.r, 1)
        return self.pending.pop(0)

    def close(self) -> None:
        os.close(self.r)
        os.close(self.w)


def test_only_the_configured_reader_is_found_never_the_keyboard() -> None:
    context = FakeContext([
        FakeDevice("/dev/input/event3", ID_VENDOR_ID="046d", ID_MODEL_ID="c31c", ID_MODEL="USB_Keyboard"),
        FakeDevice("/dev/input/event7", ID_VENDOR_ID="0c2e", ID_MODEL_ID="0b61", ID_MODEL="Barcode_Scanner"),
        FakeDevice("/dev/input/mouse0", ID_VENDOR_ID="0c2e", ID_MODEL_ID="0b61"),
    ])
    assert find_readers(["0C2E:0B61"], context) == ["/dev/input/event7"]
    assert context.asked == {"subsystem": "input", "ID_INPUT_KEYBOARD": "1"}
    assert find_readers(["barcode"], context) == ["/dev/input/event7"]
    assert find_readers([], context) == []


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="phs-cr-", dir="/tmp"))  # a unix socket path must stay short
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _door(root: Path) -> tuple[list[str], list[str]]:
    d = Driver(root)
    try:
        await d.setup(["Nguyễn Văn Chủ", "Trần Thị Bích", "Lê Hoàng Đức"])
        async with d.client() as c:
            await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
            cards = (await c.get("/api/attendance/cards", headers=d.h("secretary"))).json()["cards"]
            code = next(x["code"] for x in cards if x["participant_id"] == d.ids["d2"])
            fifo = root / "event9"
            os.mkfifo(fifo)

            async def typist() -> None:
                def write() -> None:
                    with open(fifo, "wb") as f:
                        f.write(key_events(code[:-1] + ("0" if code[-1] != "0" else "1")))  # a forged card first
                        f.write(key_events(code))

                await asyncio.to_thread(write)

            await asyncio.gather(read_cards(fifo, card_poster(d.data_dir)), typist())
            state = (await c.get("/api/state", headers=d.h("secretary"))).json()
        return list(state["attendance"]["present_ids"]), [d.ids["d2"]]
    finally:
        await d.server.stop()


def test_a_card_typed_by_the_reader_checks_its_delegate_in(root: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="appliance.devices.card_reader")
    present, expected = asyncio.run(_door(root))
    assert present == expected
    assert [r.getMessage() for r in caplog.records if r.name == "appliance.devices.card_reader"] == [
        "card refused",
        "card checked in",
    ]


def reader(node: Path) -> FakeDevice:
    return FakeDevice(str(node), ID_VENDOR_ID="0c2e", ID_MODEL_ID="0b61", ID_MODEL="Barcode_Scanner")


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def plug(node: Path) -> int:
    """The reader's end of the FIFO: opened off the loop (it waits for the reading side)."""
    return await asyncio.to_thread(os.open, str(node), os.O_WRONLY)


def test_the_setting_lists_ids_and_name_fragments_and_empty_reads_no_reader(tmp_path: Path) -> None:
    assert parse_match(" 0c2e:0b61, barcode ,,") == ["0c2e:0b61", "barcode"]
    readers = program.door_readers(Settings(data_dir=tmp_path, card_readers="0c2e:0b61,barcode"), tmp_path)
    assert readers is not None and readers.match == ["0c2e:0b61", "barcode"]
    assert program.door_readers(Settings(data_dir=tmp_path), tmp_path) is None


async def _follow_udev(root: Path) -> None:
    keyboard = FakeDevice(str(root / "event3"), ID_VENDOR_ID="046d", ID_MODEL_ID="c31c", ID_MODEL="USB_Keyboard")
    first, second = root / "event7", root / "event8"
    for fifo in (keyboard.device_node, first, second):
        os.mkfifo(fifo)
    context, monitor = FakeContext([keyboard, reader(first)]), FakeMonitor()
    codes: list[str] = []

    async def on_card(code: str) -> None:
        codes.append(code)

    readers = CardReaders(["0c2e:0b61"], on_card, context=context, open_monitor=lambda: monitor, grab=False)
    task = asyncio.create_task(readers.run())
    writers: list[int] = []
    try:
        await until(lambda: readers.reading() == [str(first)])
        writers.append(await plug(first))
        os.write(writers[-1], key_events(CARD))
        await until(lambda: codes == [CARD])
        scans = context.scans
        monitor.send("change", keyboard)  # not a reader coming or going: no rescan
        await asyncio.sleep(0.1)
        assert context.scans == scans

        context.devices.append(reader(second))
        monitor.send("add", context.devices[-1])
        await until(lambda: readers.reading() == [str(first), str(second)])
        writers.append(await plug(second))
        os.write(writers[-1], key_events("PHSDD2.abcdef012345"))
        await until(lambda: codes == [CARD, "PHSDD2.abcdef012345"])

        first_task = readers.tasks[str(first)]
        context.devices = [keyboard, context.devices[-1]]
        monitor.send("remove", reader(first))
        await until(lambda: readers.reading() == [str(second)])
        assert first_task.cancelled()
        assert context.scans == scans + 2
    finally:
        second_task = readers.tasks.get(str(second))
        task.cancel()
        started = time.monotonic()
        await asyncio.gather(task, return_exceptions=True)
        assert time.monotonic() - started < 1.0
        assert second_task is not None and second_task.cancelled()
        assert readers.tasks == {} and readers.reading() == []
        for fd in writers:
            os.close(fd)
        monitor.close()


def test_a_reader_task_runs_per_reader_found_and_follows_udev_add_and_remove(root: Path) -> None:
    asyncio.run(_follow_udev(root))


async def _poll_without_udev(root: Path) -> list[str]:
    node = root / "event5"
    os.mkfifo(node)
    context = FakeContext([])
    readers = CardReaders(["barcode"], _ignore, context=context, open_monitor=lambda: None, interval=0.05)
    task = asyncio.create_task(readers.run())
    try:
        await asyncio.sleep(0.2)
        assert readers.reading() == []
        context.devices.append(reader(node))  # plugged in; udev is not there to say so
        await until(lambda: readers.reading() == [str(node)])
        context.devices.clear()
        await until(lambda: readers.reading() == [])
        return readers.reading()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _ignore(code: str) -> None:
    pass


def test_without_udev_readers_are_looked_for_periodically(root: Path) -> None:
    assert asyncio.run(_poll_without_udev(root)) == []


async def _devices_program_at_the_door(root: Path) -> tuple[list[str], list[str], list[str], bool]:
    d = Driver(root / "box")
    stop = asyncio.Event()
    run: asyncio.Task[int] | None = None
    node = root / "event9"
    os.mkfifo(node)
    context = FakeContext([reader(node)])
    made: list[CardReaders] = []

    def readers(settings: Settings, data_dir: Path) -> CardReaders:
        # The program's own wiring, with the udev edge faked: the setting's match, the poster.
        made.append(CardReaders(parse_match(settings.card_readers), card_poster(data_dir), context=context,
                                open_monitor=lambda: None, interval=0.05))
        return made[-1]

    try:
        await d.setup(["Nguyễn Văn Chủ", "Trần Thị Bích", "Lê Hoàng Đức"])
        async with d.client() as c:
            await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
            cards = (await c.get("/api/attendance/cards", headers=d.h("secretary"))).json()["cards"]
            code = next(x["code"] for x in cards if x["participant_id"] == d.ids["d3"])
            settings = Settings(data_dir=d.data_dir, port=d.server.port, conference="none", card_readers="barcode")
            run = asyncio.create_task(program.run(d.data_dir, stop=stop, settings=settings, scan_displays=dict,
                                                  watch=SilentWatcher, card_readers=readers))
            fd = await plug(node)
            try:
                os.write(fd, key_events(code))

                async def present() -> list[str]:
                    return list((await c.get("/api/state", headers=d.h("secretary"))).json()["attendance"]["present_ids"])

                deadline = time.monotonic() + 10
                while not await present():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                reading = made[0].reading()
                stop.set()
                assert await asyncio.wait_for(run, 10) == 0
                return await present(), [d.ids["d3"]], reading, made[0].tasks == {}
            finally:
                os.close(fd)
    finally:
        stop.set()
        if run is not None and not run.done():
            await asyncio.wait_for(run, 10)
        await d.server.stop()


def test_phs_devices_reads_the_configured_reader_and_stops_cleanly(root: Path) -> None:
    present, expected, reading, stopped = asyncio.run(_devices_program_at_the_door(root))
    assert present == expected
    assert reading == [str(root / "event9")]
    assert stopped
