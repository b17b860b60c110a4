"""phs-bus: our own delegate units on an RS-485 line (firmware_scripts/PROTOCOL.md).

``proto`` is the protocol shared byte for byte with the units' MicroPython firmware;
``line`` opens the USB-RS-485 adapter; ``host`` polls the units and implements the
``ConferenceSystem`` protocol; ``simulator`` runs the real firmware logic behind a
pseudo-terminal for tests and benchmarks.
"""
