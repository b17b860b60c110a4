"""Every scenario file under tests/scenarios/ played against the real server process.

Each runs exactly as a user would run it (``python -m appliance.scenario.cli run FILE
--json``). ``*.fails.yaml`` files fail on purpose and must exit 1; the others exit 0
with ``passed: true``. A file that uses a feature this release does not have is
refused with exit 2 before anything starts; here that is a failure, not a skip, so a
scenario never stops being played without anyone noticing. Only a missing
``../shared/corpus`` skips a file that reads it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from appliance.scenario.model import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tests" / "scenarios"
CORPUS = REPO.parent / "shared" / "corpus"
FILES = sorted(SCENARIOS.rglob("*.yaml"))


def play(path: Path, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance.scenario.cli",
            "run",
            str(path),
            "--json",
            "--seed",
            "7",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, report, proc.stderr


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_scenario(path: Path) -> None:
    if "shared/corpus" in path.read_text(encoding="utf-8") and not CORPUS.is_dir():
        pytest.skip("the scenario reads ../shared/corpus, which is absent")
    status, report, stderr = play(path)
    assert status != 2, f"the runner refused the file: {stderr.strip()}"
    assert report is not None, stderr
    if path.name.endswith(".fails.yaml"):
        assert (status, report["passed"]) == (1, False), report
        assert report["failures"], report
    else:
        assert report["failures"] == [], json.dumps(report["failures"], ensure_ascii=False)
        assert (status, report["passed"]) == (0, True)
        assert all(step["ok"] for step in report["steps"])


def test_a_failed_expectation_reports_what_was_found() -> None:
    status, report, _ = play(SCENARIOS / "quorum" / "wrong-present.fails.yaml")
    assert status == 1 and report is not None
    assert [s["ok"] for s in report["steps"]] == [True, True, False, True]
    (failure,) = report["failures"]
    assert failure["n"] == 3
    assert failure["step"] == {"expect": {"present": 21, "quorum": True}}
    assert failure["expected"] == {"present": 21}
    assert failure["found"] == {"present": 20}


def test_a_kept_data_directory_holds_no_plaintext_names(tmp_path: Path) -> None:
    """--data leaves the files in place; the sitting's names never touch the disk in clear."""
    data = tmp_path / "data"
    status, report, stderr = play(
        SCENARIOS / "quorum" / "nineteen-of-thirty.yaml", "--data", str(data)
    )
    assert status == 0, (report, stderr)
    assert any(data.rglob("*")), "the data directory was not kept"
    assert (tmp_path / "data-keys").is_dir(), "keys live beside the data, never inside"
    blob = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    assert "Phiên họp thứ nhất".encode() not in blob
    assert "HĐND phường Diễn tập".encode() not in blob


def _documents_by_ref(scn: Scenario) -> dict[str, tuple[Path, str | None]]:
    """Every "ITEM.K" a scenario names: its setup documents, then its uploads in order."""
    files: dict[str, tuple[Path, str | None]] = {}
    for n, item in enumerate(scn.setup.agenda, start=1):
        for k, path in enumerate(item.documents, start=1):
            files[f"{n}.{k}"] = (path, None)
    for step in scn.steps:
        if step.action == "upload_document" and step.expect_error is None:
            item = step.args["item"]
            for _ in range(len(step.actors) * (step.repeat or 1)):
                k = 1 + sum(1 for ref in files if ref.split(".")[0] == str(item))
                files[f"{item}.{k}"] = (step.args["file"], step.args.get("password"))
    return files


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_expected_page_counts_are_pymupdfs(path: Path) -> None:
    """A scenario's `pages` for a PDF is the count PyMuPDF reads from the same file."""
    scn = load_scenario(path)
    files = _documents_by_ref(scn)
    for step in scn.steps:
        if path.name.endswith(".fails.yaml") or not step.expect or "pages" not in step.expect:
            continue
        source, password = files[step.expect["document"]]
        if source.suffix.lower() != ".pdf":
            continue
        with pymupdf.open(source) as pdf:
            if password is not None:
                assert pdf.authenticate(password), f"step {step.n}: wrong password for {source.name}"
            assert step.expect["pages"] == pdf.page_count, f"step {step.n}: {source.name}"
