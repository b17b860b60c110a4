"""Delegate unit firmware for a Raspberry Pi Pico (MicroPython): the thin hardware layer.

Everything the bus means lives in phsbus_proto.py (shared with the host and tested under
CPython); this file only wires it to the pins:

  GP0/GP1  UART0 TX/RX to the RS-485 transceiver (MAX3485 or similar), 1 Mbaud 8N1
  GP2      transceiver DE/RE: high while we transmit
  GP10     request button (to GND, internal pull-up)
  GP11-13  vote keys 1..3 (to GND, internal pull-ups)
  GP14     microphone relay (high: microphone live)
  GP15/16  LED ring, red / green (through a driver transistor)
  GP26-28 + GP6-9  address DIP switches (8 bits, to GND): the seat number 1..250

The address is read once at boot. A fresh boot id (from the chip's random source) lets the
host notice a reboot and resend this unit's relay and LED state.
"""

import time

import machine
import phsbus_proto as proto

ADDR_PINS = (26, 27, 28, 6, 7, 8, 9, 22)
KEY_PINS = (11, 12, 13)
DEBOUNCE_MS = 30


def read_address():
    """The seat number set on the DIP switches (a switch closed to GND is a 1)."""
    value = 0
    for bit, gp in enumerate(ADDR_PINS):
        if not machine.Pin(gp, machine.Pin.IN, machine.Pin.PULL_UP).value():
            value |= 1 << bit
    return value


class Button:
    """A debounced push button that reports each press once."""

    def __init__(self, gp):
        self.pin = machine.Pin(gp, machine.Pin.IN, machine.Pin.PULL_UP)
        self.down = False
        self.since = 0

    def pressed(self, now):
        level = not self.pin.value()
        if level != self.down and time.ticks_diff(now, self.since) > DEBOUNCE_MS:
            self.down, self.since = level, now
            return level
        return False


def main():
    unit = proto.Unit(read_address(), boot_id=int.from_bytes(machine.unique_id()[-2:], "big") ^ time.ticks_cpu())
    uart = machine.UART(0, baudrate=proto.BAUD, bits=8, parity=None, stop=1, tx=machine.Pin(0), rx=machine.Pin(1))
    de = machine.Pin(2, machine.Pin.OUT, value=0)
    relay = machine.Pin(14, machine.Pin.OUT, value=0)
    red = machine.Pin(15, machine.Pin.OUT, value=0)
    green = machine.Pin(16, machine.Pin.OUT, value=0)
    request = Button(10)
    keys = [Button(gp) for gp in KEY_PINS]
    decoder = proto.Decoder()
    while True:
        now = time.ticks_ms()
        if request.pressed(now):
            unit.press()
        for n, key in enumerate(keys, 1):
            if key.pressed(now):
                unit.key(n)
        waiting = uart.any()
        if waiting:
            for frame in decoder.feed(uart.read(waiting)):
                reply = unit.handle(frame, now)
                if reply is not None:
                    de.value(1)
                    uart.write(reply)
                    uart.flush()  # wait for the last stop bit before releasing the line
                    de.value(0)
        unit.tick(now)
        relay.value(unit.relay)
        blink = (now // 250) % 2
        red.value(unit.led == proto.LED_SPEAKING)
        green.value(unit.led == proto.LED_WAITING or (unit.led == proto.LED_NO_HOST and blink))


main()
