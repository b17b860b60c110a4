"""Device trust as the journal leaves it: the pairing window, seat cards, device keys.

Kept apart from ``device_trust.py`` (the rules) so ``model.SessionState`` can hold a
typed board without importing the rules, which import the state themselves.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SeatCard(BaseModel):
    """A printed seat card's one-time QR code, stored only as a keyed digest."""

    digest: str
    participant_id: str
    issued_at: float
    expires_at: float
    used: bool = False


class TrustBoard(BaseModel):
    """What the box knows about trusted devices beyond their credential digests."""

    # Seat cards pair only before this wall-clock time (0: the window is closed).
    window_until: float = 0.0
    cards: dict[str, SeatCard] = Field(default_factory=dict)  # digest -> card
    # device id -> its public key (P-256, uncompressed point, base64url); a device with a
    # key must sign every request, so a copied credential alone is refused.
    keys: dict[str, str] = Field(default_factory=dict)
    revoked_at: dict[str, float] = Field(default_factory=dict)  # device id -> wall time
    # The body asks each delegate's PIN (the check-in PIN, meeting/attendance_pin.py) on the
    # tablet before each ballot, so a tablet left on a desk cannot vote for its delegate.
    vote_pin_required: bool = False
