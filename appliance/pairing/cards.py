"""Seat cards: a printed card per participant whose QR carries a one-time card code.

A card code is 16 characters from an alphabet without look-alikes (80 bits): unlike a
six-digit code nobody can guess one, so a card can be printed days ahead. It still pairs
only once, and only while the technician has a pairing window open.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CARD_CHARS = 16


def new_card_code() -> str:
    """A fresh card code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CARD_CHARS))


def is_card_code(text: str) -> bool:
    """Whether ``text`` looks like a card code (letters), not a typed six-digit code."""
    cleaned = normalise_card(text)
    return len(cleaned) == CARD_CHARS and all(ch in ALPHABET for ch in cleaned)


def normalise_card(text: str) -> str:
    """Upper case, separators dropped: a code read aloud and typed still matches."""
    return "".join(ch for ch in text.upper() if ch.isalnum())
