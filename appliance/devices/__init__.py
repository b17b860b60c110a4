"""Devices: udev watcher, conference-system adapters, USB storage; its own process (`phs devices`).

It never opens the store: it reaches the server over the local API (a unix socket).
"""
