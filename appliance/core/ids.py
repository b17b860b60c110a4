"""Identifiers: short, random, URL-safe."""

from __future__ import annotations

import secrets


def new_id(prefix: str = "") -> str:
    """A random id such as ``poll_3kq9x2mw``; 40 bits of entropy is plenty per sitting."""
    return f"{prefix}{secrets.token_hex(5)}"
