"""Shared foundations: settings, errors, events, ids, clock, text. Imports nothing of ours."""
