"""``phs scenario run FILE.yaml``: the command line of the rehearsal runner.

Exit status is part of the public contract: 0 every step held, 1 a step or an
expectation failed (or the appliance stopped answering), 2 the file is invalid or
the command line cannot be honoured. The file is validated whole before anything
starts, so a bad file never touches an appliance.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from pathlib import Path

from .model import Scenario, load_scenario
from .runner import Options, run
from .yamlsrc import ScenarioFileError

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The ``phs scenario`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="phs scenario", description="Rehearse a sitting with simulated participants."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="play a scenario file")
    run_cmd.add_argument("file", type=Path, help="the scenario (YAML)")
    run_cmd.add_argument("--url", help="play against a running appliance at this address")
    run_cmd.add_argument("--code", help="a one-time secretary pairing code (with --url)")
    run_cmd.add_argument("--data", type=Path, help="data directory of the runner's appliance, kept")
    run_cmd.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    run_cmd.add_argument("--seed", type=int, help="fix random choices (names, interleaving)")
    run_cmd.add_argument(
        "--keep", action="store_true", help="keep the rehearsal session (--url) or the run's files"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a bad command line; keep that status
        return int(exc.code or 0)
    try:
        scn = load_scenario(args.file)
        _refuse_for_url(scn, args.url)
    except ScenarioFileError as exc:
        # The file's own words (keys, actions) are English, as SCENARIO.md writes them; the
        # first line says in Vietnamese what happened and where.
        print(f"Tệp kịch bản không hợp lệ: {exc.path}, dòng {exc.line}.", file=sys.stderr)
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    problem = _check_args(args)
    if problem:
        print(f"phs scenario: {problem}", file=sys.stderr)
        return EXIT_INVALID
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    opts = Options(url=args.url, code=args.code, data=args.data, seed=seed, keep=args.keep)

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    say(f"seed {seed} (replay with --seed {seed})")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = asyncio.run(run(scn, opts, say))
    except KeyboardInterrupt:
        # asyncio.run has already cancelled the run, so our appliance is stopped and
        # its temporary files are gone; nothing was checked to the end.
        print("phs scenario: interrupted / đã dừng", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        report.write_json(sys.stdout)
    else:
        report.write_human(sys.stdout)
    return EXIT_OK if report.passed else EXIT_FAILED


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C, so the runner's own appliance is stopped too."""
    raise KeyboardInterrupt


def _refuse_for_url(scn: Scenario, url: str | None) -> None:
    """``restart`` would kill someone else's appliance: refuse before anything starts."""
    if url is None:
        return
    for step in scn.steps:
        if step.action == "restart":
            raise ScenarioFileError(
                scn.path,
                step.line,
                f"step {step.n}: 'restart' cannot be played against --url {url} "
                "(it only restarts the runner's own appliance) / không thể khởi động lại "
                "thiết bị đang chạy",
            )


def _check_args(args: argparse.Namespace) -> str | None:
    if args.url and not args.code:
        return "--url needs --code (a one-time secretary pairing code)"
    if args.url and args.data:
        return "--data is for the runner's own appliance; it cannot be used with --url"
    if args.code and not args.url:
        return "--code is only used with --url"
    if args.data is not None and args.data.exists() and any(args.data.iterdir()):
        return f"--data {args.data} is not empty; give a new or empty directory"
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
