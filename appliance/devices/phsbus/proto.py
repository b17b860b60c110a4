"""PHS bus protocol: frames, CRC-16 and a delegate unit's logic (firmware_scripts/PROTOCOL.md).

Plain Python that runs unchanged under MicroPython (the unit) and CPython (the host, the
bus simulator, the tests): no imports, builtins only, annotations that MicroPython
ignores. appliance/devices/phsbus/proto.py is a byte-identical copy (a test checks).

Frame: SYNC(0x7E) ADDR CMD SEQ LEN PAYLOAD[LEN<=32] CRC16-hi CRC16-lo, the CRC
(CCITT-FALSE, poly 0x1021, init 0xFFFF) over ADDR..PAYLOAD. No byte stuffing: a
receiver that loses step scans for the next SYNC whose length and CRC check out.
"""

SYNC = 0x7E
HOST = 0x00
BROADCAST = 0xFF
MAX_UNITS = 250
MAX_PAYLOAD = 32
BAUD = 1000000

# host -> unit
POLL = 0x01  # payload: [ack] = the event batch the host received last; empty before the first
SET = 0x02  # payload: [relay 0/1, led]
HELLO = 0x03  # no payload; also the heartbeat to an idle or rediscovered unit
ALL_OFF = 0x04  # broadcast, no reply: every relay open, every LED off
# unit -> host (ADDR is the replying unit's own address; replies have CMD bit 7 set)
STATUS = 0x81  # seq: event batch; payload: [flags, n, (type, value) * n]
ACK = 0x82  # seq: the SET's seq
HELLO_REPLY = 0x83  # payload: [major, minor, patch, boot_hi, boot_lo, caps]

FLAG_MORE = 0x01  # more events than fitted in this reply
FLAG_NEEDS_STATE = 0x02  # booted or lost the host: send me my relay and LED again

EV_BUTTON = 1  # value 1: request button
EV_KEY = 2  # value 1..3: vote keys

LED_OFF = 0
LED_WAITING = 1  # green ring: in the queue
LED_SPEAKING = 2  # red ring: microphone live
LED_NO_HOST = 3  # green blinking: the host is silent, relay held open (mic off)

FIRMWARE = (1, 0, 0)
CAPS_KEYS = 0x01  # the unit has three vote keys
HEARTBEAT_MS = 2000  # no frame from the host for this long: microphone off
MAX_EVENTS = 8
MAX_QUEUE = 32

_TABLE: list[int] = []
for _i in range(256):
    _c = _i << 8
    for _ in range(8):
        _c = ((_c << 1) ^ 0x1021) if _c & 0x8000 else (_c << 1)
    _TABLE.append(_c & 0xFFFF)


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (bytes-like)."""
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def encode(addr: int, cmd: int, seq: int, payload: bytes = b"") -> bytes:
    """One frame on the wire."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload too long")
    body = bytes([addr & 0xFF, cmd & 0xFF, seq & 0xFF, len(payload)]) + bytes(payload)
    crc = crc16(body)
    return bytes([SYNC]) + body + bytes([crc >> 8, crc & 0xFF])


def _checked_start(buf: bytearray, at: int) -> int:
    """The first offset >= ``at`` where a complete frame with a good CRC starts, or -1."""
    i = buf.find(bytes([SYNC]), at)
    while i >= 0:
        if len(buf) >= i + 5 and buf[i + 4] <= MAX_PAYLOAD and len(buf) >= i + 7 + buf[i + 4]:
            n = buf[i + 4]
            if crc16(bytes(buf[i + 1 : i + 5 + n])) == (buf[i + 5 + n] << 8 | buf[i + 6 + n]):
                return i
        i = buf.find(bytes([SYNC]), i + 1)
    return -1


class Decoder:
    """Bytes in, whole checked frames out; resynchronises after noise or a torn frame."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.bad = 0  # frames dropped for a CRC or length error

    def feed(self, data: bytes) -> list[tuple[int, int, int, bytes]]:
        """Add received bytes; returns the complete frames as (addr, cmd, seq, payload)."""
        self.buf.extend(data)
        out: list[tuple[int, int, int, bytes]] = []
        buf = self.buf
        while True:
            start = buf.find(bytes([SYNC]))
            if start < 0:
                buf[:] = b""
                break
            if start:
                buf[:] = buf[start:]
            if len(buf) < 5:
                break
            n = buf[4]
            if n > MAX_PAYLOAD:
                self.bad += 1
                buf[:] = buf[1:]
                continue
            size = 7 + n
            if len(buf) < size:
                # Noise can look like the start of a long frame that swallows a real one
                # behind it: if a whole frame that checks out starts later in what we hold,
                # this start was noise, and waiting for more bytes would lose that frame.
                later = _checked_start(buf, 1)
                if later < 0:
                    break
                self.bad += 1
                buf[:] = buf[later:]
                continue
            body = bytes(buf[1 : 5 + n])
            if crc16(body) != (buf[5 + n] << 8 | buf[6 + n]):
                self.bad += 1
                buf[:] = buf[1:]
                continue
            out.append((body[0], body[1], body[2], body[4:]))
            buf[:] = buf[size:]
        return out


class Unit:
    """A delegate unit's logic: button and keys in, relay and LED ring out, bus frames both ways.

    The hardware layer (main.py) calls ``press``/``key`` from its pins, ``handle`` for
    every frame the UART decoder yields, ``tick`` a few times a second, and drives the
    relay and the LED ring from ``relay`` and ``led``.
    """

    def __init__(self, addr: int, boot_id: int = 1) -> None:
        self.addr = addr
        self.boot_id = boot_id & 0xFFFF
        self.relay = 0
        self.led = LED_OFF
        self.queue: list[tuple[int, int]] = []  # pending (type, value) events, oldest first
        self.batch = 0  # seq of the STATUS batch in flight
        self.in_flight = 0
        self.needs_state = True
        self.last_host_ms: int | None = None
        self.last_set_seq: int | None = None

    def press(self, button: int = 1) -> None:
        """The request button went down."""
        self._event(EV_BUTTON, button)

    def key(self, n: int) -> None:
        """Vote key 1..3 went down."""
        self._event(EV_KEY, n)

    def _event(self, kind: int, value: int) -> None:
        if len(self.queue) < MAX_QUEUE:
            self.queue.append((kind, value))

    def tick(self, now_ms: int) -> None:
        """Safety: a unit the host no longer talks to closes its microphone."""
        if self.last_host_ms is not None and now_ms - self.last_host_ms > HEARTBEAT_MS:
            self.relay = 0
            self.led = LED_NO_HOST
            self.needs_state = True
            self.last_host_ms = None

    def handle(self, frame: tuple[int, int, int, bytes], now_ms: int) -> bytes | None:
        """React to one frame; the reply's bytes, or None (not for us, or a broadcast)."""
        addr, cmd, seq, payload = frame
        if addr not in (self.addr, BROADCAST) or cmd & 0x80:
            return None  # another unit's traffic, or a reply (ours echoed, or another's)
        self.last_host_ms = now_ms
        if cmd == ALL_OFF:
            self.relay, self.led = 0, LED_OFF
            return None
        if addr == BROADCAST:
            return None
        if cmd == POLL:
            if payload and payload[0] == self.batch and self.in_flight:
                self.queue = self.queue[self.in_flight :]
                self.in_flight = 0
                self.batch = (self.batch + 1) & 0xFF
            events = self.queue[:MAX_EVENTS]
            self.in_flight = len(events)
            flags = (FLAG_MORE if len(self.queue) > len(events) else 0) | (FLAG_NEEDS_STATE if self.needs_state else 0)
            body = [flags, len(events)]
            for kind, value in events:
                body += [kind, value]
            return encode(self.addr, STATUS, self.batch, bytes(body))
        if cmd == SET and len(payload) >= 2:
            if seq != self.last_set_seq or self.needs_state:
                self.relay = 1 if payload[0] else 0
                self.led = payload[1]
                self.last_set_seq = seq
            self.needs_state = False
            return encode(self.addr, ACK, seq)
        if cmd == HELLO:
            major, minor, patch = FIRMWARE
            hello = bytes([major, minor, patch, self.boot_id >> 8, self.boot_id & 0xFF, CAPS_KEYS])
            return encode(self.addr, HELLO_REPLY, seq, hello)
        return None


def parse_status(payload: bytes) -> tuple[int, list[tuple[int, int]]]:
    """A STATUS payload as (flags, [(type, value), ...])."""
    if len(payload) < 2:
        return 0, []
    n = min(payload[1], (len(payload) - 2) // 2)
    return payload[0], [(payload[2 + 2 * i], payload[3 + 2 * i]) for i in range(n)]


def wire_seconds(nbytes: int, baud: int = BAUD) -> float:
    """Time ``nbytes`` take on the line at 8N1 (10 bits a byte)."""
    return nbytes * 10.0 / baud
