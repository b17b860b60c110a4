"""Generated docs match the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

from appliance.cli import build_parser
from appliance.core.docs import render_cli_markdown, render_settings_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_settings_doc_is_current() -> None:
    assert (DOCS / "SETTINGS.md").read_text(encoding="utf-8") == render_settings_markdown()


def test_cli_doc_is_current() -> None:
    text = (DOCS / "CLI.md").read_text(encoding="utf-8")
    assert text == render_cli_markdown(build_parser())
    for command in ("phs serve", "phs up", "phs devices", "phs sync", "phs scenario", "phs journal verify", "phs keys status"):
        assert f"## `{command}`" in text
