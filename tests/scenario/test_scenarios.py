"""Every scenario file under tests/scenarios/ played against the real server process.

Each runs exactly as a user would run it (``python -m appliance.scenario.cli run FILE
--json``). ``*.fails.yaml`` files fail on purpose and must exit 1; the others exit 0
with ``passed: true``. A file that uses a feature this release does not have is
refused with exit 2 before anything starts; it is skipped here with that message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    if status == 2 and "not yet supported" in stderr:
        pytest.skip(stderr.strip())
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
