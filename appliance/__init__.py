"""PHS — Phòng họp số: a paperless council chamber in one box."""

__version__ = "0.1.0"
