"""Small parsers for the daemons' formats, so tests check meaning rather than strings."""

from __future__ import annotations


def parse_hostapd(text: str) -> dict[str, str]:
    """hostapd.conf: ``key=value`` lines, ``#`` comments; a key given twice is an error."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key and key == key.strip(), f"line {n}: not key=value: {raw!r}"
        assert key not in out, f"line {n}: {key} given twice"
        out[key] = value
    return out


def parse_dnsmasq(text: str) -> dict[str, list[str]]:
    """dnsmasq options: ``option`` or ``option=value``; options may repeat (all values kept)."""
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out
