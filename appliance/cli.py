"""``phs``: the one command of the appliance. Sub-commands dispatch to their packages."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from appliance import __version__


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, help="data directory (PHS_DATA_DIR)")
    p.add_argument("--keys", type=Path, help="keys directory, outside the data directory (PHS_KEYS_DIR)")


def _server_opts(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default 8080)")
    p.add_argument("--demo", action="store_true", help="seed a demo session on first start")
    p.add_argument("--setup-code", help="a one-time secretary pairing code accepted at start")


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands with their options (documented in docs/CLI.md, checked by a test)."""
    parser = argparse.ArgumentParser(prog="phs", description="PHS — Phòng họp số")
    parser.add_argument("--version", action="version", version=f"phs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _server_opts(sub.add_parser("serve", help="run the web server (the single writer)"))
    _server_opts(sub.add_parser("up", help="write the supervisord configuration and run every program"))
    devices = sub.add_parser("devices", help="run the hardware program (udev, conference system, display kiosks)")
    _common(devices)
    devices.add_argument("--seats", type=int, default=0, help="delegate units of the simulated conference system")
    sync = sub.add_parser("sync", help="run the upstream sync program (docs/ARCHIVE.md)")
    _common(sync)
    sync.add_argument("--once", action="store_true", help="one sync round, then exit (1 when it failed)")
    journal = sub.add_parser("journal", help="journal tools").add_subparsers(dest="action", required=True)
    _common(journal.add_parser("verify", help="check seals, chain and signatures"))
    keys = sub.add_parser("keys", help="key tools").add_subparsers(dest="action", required=True)
    _common(keys.add_parser("status", help="show the key provider, whether it unlocks, which data keys exist"))
    _common(keys.add_parser("rotate", help="re-wrap every data key under a new KEK (server stopped)"))
    sitting = sub.add_parser("sitting", help="sitting tools").add_subparsers(dest="action", required=True)
    erase = sitting.add_parser("erase", help="crypto-shred a sitting after its upstream receipt (server stopped)")
    erase.add_argument("sitting_id", metavar="ID", help="the sitting's id")
    erase.add_argument("--force", action="store_true", help="erase even without a recorded upstream receipt")
    _common(erase)
    scenario = sub.add_parser("scenario", help="rehearsal runner (see SCENARIO.md)", add_help=False)
    scenario.add_argument("rest", nargs=argparse.REMAINDER)
    provision = sub.add_parser("provision", help="provisioning bundles: keygen, build, inspect, apply (docs/BUNDLE.md)", add_help=False)
    provision.add_argument("rest", nargs=argparse.REMAINDER)
    archive = sub.add_parser("archive", help="minutes, sealed archives, receipts, retention (docs/ARCHIVE.md)", add_help=False)
    archive.add_argument("rest", nargs=argparse.REMAINDER)
    docs = sub.add_parser("docs", help="render generated documentation").add_subparsers(dest="action", required=True)
    docs.add_parser("permissions", help="print the permission table as Markdown")
    docs.add_parser("settings", help="print the settings table as Markdown")
    docs.add_parser("cli", help="print this command reference as Markdown")
    return parser


def _settings(args: argparse.Namespace) -> object:
    from appliance.core.settings import Settings

    return Settings.from_env(
        data_dir=getattr(args, "data", None),
        keys_dir=getattr(args, "keys", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        demo=True if getattr(args, "demo", False) else None,
        setup_code=getattr(args, "setup_code", None),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phs`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["scenario"]:
        from appliance.scenario.cli import main as scenario_main

        return scenario_main(argv[1:])
    if argv[:1] == ["archive"]:
        from appliance.archive.cli import main as archive_main

        return archive_main(argv[1:])
    if argv[:1] == ["provision"]:
        from provisioning.cli import main as provision_main

        return provision_main(argv[1:])
    args = build_parser().parse_args(argv)
    from appliance.core.logs import setup_logging

    setup_logging(os.environ.get("PHS_LOG_LEVEL", "INFO"))
    settings = _settings(args)
    if args.command == "serve":
        from appliance.web.server import serve

        return serve(settings)  # type: ignore[arg-type]
    if args.command == "up":
        from appliance.web.server import up

        return up(settings)  # type: ignore[arg-type]
    if args.command == "devices":
        from appliance.devices.program import main as devices_main

        return devices_main(_passthrough(args) + ["--seats", str(args.seats)])
    if args.command == "sync":
        from appliance.sync.program import main as sync_main

        return sync_main(_passthrough(args) + (["--once"] if args.once else []))
    if args.command == "journal":
        from appliance.web.tools import journal_verify

        return journal_verify(settings)  # type: ignore[arg-type]
    if args.command == "keys":
        from appliance.web.tools import keys_rotate, keys_status

        tool = keys_rotate if args.action == "rotate" else keys_status
        return tool(settings)  # type: ignore[arg-type]
    if args.command == "sitting":
        from appliance.web.erase import sitting_erase

        return sitting_erase(settings, args.sitting_id, args.force)  # type: ignore[arg-type]
    if args.command == "docs":
        from appliance.core.docs import render_cli_markdown, render_settings_markdown
        from appliance.meeting.roles import render_permissions_markdown

        if args.action == "cli":
            sys.stdout.write(render_cli_markdown(build_parser()))
        elif args.action == "settings":
            sys.stdout.write(render_settings_markdown())
        else:
            sys.stdout.write(render_permissions_markdown())
        return 0
    return 2


def _passthrough(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    if args.data:
        out += ["--data", str(args.data)]
    return out


if __name__ == "__main__":
    sys.exit(main())
