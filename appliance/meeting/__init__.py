"""The rules of a sitting: pure, no I/O. Commands in, events or a refusal out."""
