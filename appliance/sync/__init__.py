"""Sync: ships sealed archives upstream (S3-compatible) or to a USB stick; its own process (`phs sync`)."""
