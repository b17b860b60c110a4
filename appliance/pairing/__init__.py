"""Pairing: one-time codes and their QR cards, device credentials, guessing limits."""
