"""Durable, sealed storage: journal, snapshots, blobs, keys."""
