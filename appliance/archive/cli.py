"""``phs archive``: keygen, minutes, build, verify, open, export, receipt, import-receipt, retention.

Box-side commands only read the journal (a running server is fine); ``import-receipt``
and ``retention --apply`` write, so they go through the server's local socket or take the
writer lock. ``keygen``, ``open`` and ``receipt`` are what the archive side runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from appliance.core.errors import PhsError
from appliance.core.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    """Options of every ``phs archive`` action (docs/CLI.md, docs/ARCHIVE.md)."""
    parser = argparse.ArgumentParser(prog="phs archive", description="Minutes, sealed archives and receipts.")
    sub = parser.add_subparsers(dest="action", required=True)

    def box(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data", type=Path, help="data directory (PHS_DATA_DIR)")
        p.add_argument("--keys", type=Path, help="keys directory (PHS_KEYS_DIR)")
        return p

    keygen = sub.add_parser("keygen", help="archive side: make the archive key pair")
    keygen.add_argument("--out", type=Path, required=True, help="directory for archive.key and archive.pub")
    minutes = box(sub.add_parser("minutes", help="write a sitting's draft minutes (PDF, DOCX) from the journal"))
    minutes.add_argument("sitting"), minutes.add_argument("--out", type=Path, required=True, help="output directory")
    build = box(sub.add_parser("build", help="seal a sitting's archive (reads the journal, writes nothing in it)"))
    build.add_argument("sitting"), build.add_argument("--out", type=Path, required=True, help="archive file")
    build.add_argument("--recipient", help="archive public key (hex or file); default PHS_ARCHIVE_PUBLIC_KEY")
    queue = box(sub.add_parser("queue", help="seal a sitting's archive into the outbox for phs sync and USB export"))
    queue.add_argument("sitting"), queue.add_argument("--recipient", help="archive public key (hex or file)")
    export = box(sub.add_parser("export", help="seal a sitting's archive onto a USB stick"))
    export.add_argument("sitting"), export.add_argument("--to", type=Path, required=True, help="the stick's directory")
    export.add_argument("--recipient", help="archive public key (hex or file)")
    verify = sub.add_parser("verify", help="check an archive file, an opened directory, or minutes.pdf against its .sig")
    verify.add_argument("file", type=Path)
    verify.add_argument("--sig", type=Path, help="a PDF's detached signature (default: FILE.sig beside it)")
    verify.add_argument("--key", type=Path, help="archive private key: open it and check every part")
    verify.add_argument("--box", help="pin the box's public key (hex)")
    verify.add_argument("--manifest", help="an opened directory: pin the manifest's SHA-256 (from the envelope or receipt)")
    opened = sub.add_parser("open", help="archive side: decrypt, verify and unpack")
    opened.add_argument("file", type=Path)
    opened.add_argument("--key", type=Path, required=True), opened.add_argument("--out", type=Path, required=True)
    receipt = sub.add_parser("receipt", help="archive side: write the receipt for an archive that verifies")
    receipt.add_argument("file", type=Path)
    receipt.add_argument("--key", type=Path, required=True), receipt.add_argument("--out", type=Path, required=True)
    imported = box(sub.add_parser("import-receipt", help="record a receipt the archive side wrote"))
    imported.add_argument("receipt", type=Path)
    retention = box(sub.add_parser("retention", help="show when each sitting's key goes; --apply erases what is due"))
    retention.add_argument("--apply", action="store_true", help="erase due sittings (server stopped)")
    return parser


def _say(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")


def main(argv: list[str]) -> int:
    """Entry point of ``phs archive``; 0 on success, 1 on a refusal or a failed check."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(data_dir=getattr(args, "data", None), keys_dir=getattr(args, "keys", None))
    try:
        return int(_dispatch(args, settings))
    except PhsError as err:
        sys.stderr.write(f"{err.message}\n{err.message_en}\n")
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from appliance.archive import envelope

    if args.action == "keygen":
        private, public = envelope.generate_archive_keys()
        args.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(args.out / "archive.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(private.hex() + "\n")
        (args.out / "archive.pub").write_text(public.hex() + "\n")
        _say({"public_key": public.hex(), "private_key_file": str(args.out / "archive.key")})
        return 0
    if args.action in ("verify", "open", "receipt"):
        return _archive_side(args)
    from appliance.web.tools import open_keyring

    keyring = open_keyring(settings)
    data = settings.data_dir
    if args.action == "minutes":
        from appliance.archive.after_sitting import draft

        pdf, docx, position = draft(data, keyring, args.sitting)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "minutes.pdf").write_bytes(pdf)
        (args.out / "minutes.docx").write_bytes(docx)
        _say({"pdf": str(args.out / "minutes.pdf"), "docx": str(args.out / "minutes.docx"), "position": position})
        return 0
    if args.action == "queue":  # e.g. minutes finalised before the archive key was configured
        from appliance.archive.after_sitting import seal_for_upstream

        _say(seal_for_upstream(data, keyring, args.sitting, envelope.load_public(args.recipient or settings.archive_public_key)))
        return 0
    if args.action in ("build", "export"):
        from appliance.archive.after_sitting import seal_for_upstream

        recipient = envelope.load_public(args.recipient or settings.archive_public_key)
        out = args.out if args.action == "build" else None
        if out is None:
            from appliance.archive.build import collect

            manifest, _ = collect(data, keyring, args.sitting)
            digest = hashlib.sha256(envelope.canonical(manifest)).hexdigest()
            out = args.to / f"phs-{args.sitting}-{digest[:16]}.phsa"
        _say(seal_for_upstream(data, keyring, args.sitting, recipient, out))
        return 0
    if args.action == "import-receipt":
        return _import(settings, keyring, args.receipt)
    return _retention(settings, keyring, args.apply)


def _archive_side(args: argparse.Namespace) -> int:
    from appliance.archive import check, envelope, receipts

    if args.action == "verify":
        box = bytes.fromhex(args.box) if args.box else None
        if args.file.suffix.lower() == ".pdf":
            report = _verify_minutes(args.file, args.sig or args.file.with_name(args.file.name + ".sig"), box)
        elif args.file.is_dir():
            report = check.verify_dir(args.file, box, args.manifest)
        else:
            report = check.verify_file(args.file, envelope.load_private(args.key) if args.key else None, box)
        _say(report)
        return 0 if report["ok"] else 1
    private = envelope.load_private(args.key)
    if args.action == "open":
        report = check.open_archive(args.file, private, args.out)
        _say(report)
        return 0 if report["ok"] else 1
    body = receipts.write_receipt(args.file, private)
    args.out.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    _say(body)
    return 0


def _verify_minutes(pdf: Path, sig: Path, box: bytes | None) -> dict[str, Any]:
    """A finalised minutes PDF against its detached signature, offline (no key but the box's public one)."""
    from appliance.archive.signing import check_signature

    try:
        data, signature = pdf.read_bytes(), sig.read_bytes()
    except OSError as err:
        return {"ok": False, "problems": [f"cannot read {err.filename}"]}
    why = check_signature(data, signature, box)
    body = json.loads(signature) if why is None else {}
    return {"ok": why is None, "pdf_sha256": hashlib.sha256(data).hexdigest(), "signed_by": body.get("public_key"),
            "token": bool(body.get("token")), "problems": [why] if why else []}


def _import(settings: Settings, keyring: Any, path: Path) -> int:
    from appliance.archive import receipts
    from appliance.web.tools import writer_lock

    record = receipts.check_receipt(settings.data_dir, keyring, receipts.load_receipt(path))
    try:
        with writer_lock(settings.data_dir):
            position = receipts.record_offline(settings, keyring, record)
    except PhsError as err:
        if err.code != "conflict":
            raise
        from appliance.sync.report import report_receipt  # a server runs: it records the receipt

        if not report_receipt(settings, record):
            raise
        position = -1
    _say({"recorded": True, "sitting_id": record["sitting_id"], "position": position})
    return 0


def _retention(settings: Settings, keyring: Any, apply: bool) -> int:
    from appliance.archive import retention

    rows = retention.plan(settings, keyring)
    _say({"sittings": rows, "due": retention.due(rows, time.time())})
    if apply:
        _say({"erased": [body["erased"] for body in retention.erase_due(settings, keyring)]})
    return 0
