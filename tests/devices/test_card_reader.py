"""The door's USB card reader: raw key events decoded into card codes, found by pyudev
among input devices (never a real keyboard), and a card typed into a FIFO standing in for
/dev/input/eventN checks its delegate in on the real server, over the local socket."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.devices.card_reader import (
    EV_KEY,
    EVENT,
    KeyDecoder,
    card_poster,
    find_readers,
    key_events,
    read_cards,
)
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

    def list_devices(self, **kw: str) -> list[FakeDevice]:
        self.asked = kw
        return self.devices


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
