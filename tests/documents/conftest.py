"""Corpus fixtures: every real file is read and ingested once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.documents import IngestedDocument, ingest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
EDGE = CORPUS / "pdf-edge"

#: Passwords of the encrypted corpus files (pdf-edge/SOURCES.md).
PASSWORDS = {
    "enc-r2-rc4-40-userpw.pdf": "asdfzxcv",
    "enc-r6-aes256-userpw.pdf": "asdfzxcv",
    "enc-utf8-password.pdf": "æøå",
}


def corpus_files() -> list[Path]:
    """Every document of the corpus and of pdf-edge (not the SOURCES.md notes)."""
    if not CORPUS.is_dir():
        return []
    files = [*CORPUS.iterdir(), *EDGE.iterdir()] if EDGE.is_dir() else list(CORPUS.iterdir())
    return sorted(p for p in files if p.is_file() and p.suffix != ".md")


@pytest.fixture(scope="session")
def corpus() -> dict[str, bytes]:
    """name -> bytes of every corpus file, read once."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (a checkout without ../shared)")
    return {path.name: path.read_bytes() for path in corpus_files()}


@pytest.fixture(scope="session")
def ingested(corpus: dict[str, bytes]) -> dict[str, IngestedDocument | PhsError]:
    """name -> the ingested document (with its password when it has one) or the refusal."""
    results: dict[str, IngestedDocument | PhsError] = {}
    for name, data in corpus.items():
        try:
            results[name] = ingest(data, name, PASSWORDS.get(name))
        except PhsError as exc:
            results[name] = exc
    return results
