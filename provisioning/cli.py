"""`phs provision`: the IT person's tools (keygen, build, inspect) and the box's `apply`.

Runs on a laptop with only this package installed: nothing here needs a running box
except `apply` and `rollback`, which talk to the server (its local socket on the box,
or ``--url`` with a secretary's credential).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appliance.core.errors import PhsError


def build_parser() -> argparse.ArgumentParser:
    """The options of every `phs provision` action."""
    parser = argparse.ArgumentParser(prog="phs provision", description="Provisioning bundles (docs/BUNDLE.md)")
    sub = parser.add_subparsers(dest="action", required=True)
    keygen = sub.add_parser("keygen", help="create the organisation's signing key")
    keygen.add_argument("-o", "--output", type=Path, default=Path("org.key"))
    build = sub.add_parser("build", help="check the inputs and write a signed bundle")
    build.add_argument("--key", type=Path, required=True, help="organisation key (phs provision keygen)")
    build.add_argument("--config", type=Path, required=True, help="the sitting file (YAML): body, session, sittings, agenda, network, ...")
    build.add_argument("--participants", type=Path, required=True, help="participant list (.xlsx or .csv)")
    build.add_argument("--documents", type=Path, help="folder of agenda documents")
    build.add_argument("--box", type=Path, help="the box's enrol.json (needed to encrypt secrets)")
    build.add_argument("-o", "--output", type=Path, required=True)
    update = sub.add_parser("build-update", help="write a signed software update bundle")
    update.add_argument("--key", type=Path, required=True)
    update.add_argument("--wheel", type=Path, action="append", required=True, help="a wheel (repeat for dependencies)")
    update.add_argument("--web-ui", type=Path, help="the web_ui folder")
    update.add_argument("--version", required=True)
    update.add_argument("-o", "--output", type=Path, required=True)
    inspect = sub.add_parser("inspect", help="verify a bundle and show what it holds")
    inspect.add_argument("bundle", type=Path)
    inspect.add_argument("--json", action="store_true")
    for name, text in (("apply", "hand a bundle to the running server"), ("rollback", "put the previous configuration back")):
        p = sub.add_parser(name, help=text)
        if name == "apply":
            p.add_argument("bundle", type=Path)
        p.add_argument("--data", type=Path, help="data directory of the box (its local socket)")
        p.add_argument("--url", help="server URL instead of the local socket")
        p.add_argument("--token", default=os.environ.get("PHS_TOKEN"), help="a secretary's credential for --url (PHS_TOKEN)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `phs provision ACTION ...`; exit 1 on problems, 2 on usage."""
    args = build_parser().parse_args(argv)
    try:
        return int(_ACTIONS[args.action](args))
    except PhsError as err:
        sys.stderr.write(f"{err.code}: {err.message}\n       {err.message_en}\n")
        if err.detail:
            sys.stderr.write(f"       {json.dumps(err.detail, ensure_ascii=False)}\n")
        return 1
    except OSError as err:  # the server is not running, or went away mid-bundle (httpx's errors are not OSErrors)
        return _unreachable(err)
    except Exception as err:
        if type(err).__module__.startswith("httpx"):
            return _unreachable(err)
        raise


def _unreachable(err: BaseException) -> int:
    sys.stderr.write(
        "unavailable: Không liên lạc được với máy chủ PHS, hoặc máy chủ dừng giữa chừng. Gói được áp dụng trọn vẹn "
        "hoặc không áp dụng gì; hãy kiểm tra `phs provision apply` lại khi máy chủ chạy.\n"
        "       The PHS server could not be reached, or stopped midway. A bundle is applied whole or not at all; "
        f"run `phs provision apply` again once the server runs. ({type(err).__name__})\n"
    )
    return 1


def _keygen(args: argparse.Namespace) -> int:
    from .crypto import generate_org_key

    if args.output.exists():
        sys.stderr.write(f"LỖI / ERROR: {args.output} đã có, không ghi đè khóa ký / exists; not overwriting a signing key\n")
        return 1
    fp = generate_org_key(args.output)
    print(f"organisation key: {args.output} (keep it secret; public half in {args.output}.pub)")
    print(f"fingerprint / dấu vân tay: {fp}")
    return 0


def _progress(stage: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r  {stage:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    elif done >= total:
        sys.stderr.write(f"  {stage}: {done}/{total}\n")
    sys.stderr.flush()


def _build(args: argparse.Namespace) -> int:
    import yaml

    from .crypto import load_org_key
    from .writer import plan_bundle, problems_text, write_bundle

    key = load_org_key(args.key)
    config = yaml.safe_load(args.config.read_text(encoding="utf-8")) or {}
    enrolment = json.loads(args.box.read_text(encoding="utf-8")) if args.box else None
    sys.stderr.write("Kiểm tra dữ liệu / checking the inputs\n")
    plan = plan_bundle(config, args.participants, args.documents, enrolment, progress=_progress)
    if plan.problems:
        sys.stderr.write(f"{len(plan.problems)} vấn đề, chưa ghi gì / {len(plan.problems)} problem(s), nothing written:\n")
        sys.stderr.write(problems_text(plan.problems) + "\n")
        return 1
    write_bundle(plan.manifest, plan.files, key, args.output)
    counts = plan.manifest["counts"]
    print(f"{args.output}: {counts['participants']} participants, {counts['seats']} seats, "
          f"{counts['agenda']} agenda items, {counts['documents']} documents")
    return 0


def _build_update(args: argparse.Namespace) -> int:
    from .crypto import load_org_key
    from .updates import build_update

    build_update(load_org_key(args.key), args.wheel, args.web_ui, args.version, args.output)
    print(f"{args.output}: update to {args.version}")
    return 0


def summary(bundle: Any) -> dict[str, Any]:
    """What `inspect` shows: the manifest without the file table, plus sizes and the signer."""
    m = dict(bundle.manifest)
    files = m.pop("files")
    return {**m, "signer": bundle.fingerprint, "files": len(files), "bytes": sum(e["size"] for e in files.values())}


def _inspect(args: argparse.Namespace) -> int:
    from .reader import read_bundle_file

    bundle = read_bundle_file(args.bundle)
    info = summary(bundle)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.bundle.name}: chữ ký hợp lệ / signature valid")
    for key, value in info.items():
        print(f"  {key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}")
    if bundle.kind == "provisioning":
        for admin in bundle.json("admins.json", []):
            print(f"  quản trị / administrator: {admin['username']} ({admin.get('role', 'technician')})")
        network = bundle.json("network.json")
        if network:
            print(f"  Wi-Fi: {network.get('ssid')} — {network.get('address')}, DHCP {network.get('dhcp_start')}–{network.get('dhcp_end')} "
                  "(mật khẩu đã mã hóa cho hộp / passphrase sealed to the box)")
        for n, item in enumerate(bundle.json("agenda.json"), start=1):
            docs = ", ".join(f"{d['filename']} ({d['pages']} tr.)" for d in item["documents"])
            print(f"  {n}. {item['title']}" + (f" — {docs}" if docs else ""))
    return 0


def _handover(args: argparse.Namespace) -> Any:
    from appliance.core.settings import Settings
    from appliance.devices.local_api import local_socket_path
    from appliance.devices.usb_storage import HttpHandover

    if args.url:
        return HttpHandover(base_url=args.url, token=args.token)
    return HttpHandover(socket=local_socket_path(Settings.from_env(data_dir=args.data).data_dir))


def _apply(args: argparse.Namespace) -> int:
    from appliance.devices.usb_storage import bundle_kind

    receipt = _handover(args).submit(bundle_kind(args.bundle), args.bundle.name, args.bundle.read_bytes())
    print(json.dumps(receipt, ensure_ascii=False, indent=1))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    handover = _handover(args)
    with handover._client() as client:
        response = client.post(f"{handover.prefix}/rollback")
    body = response.json()
    if response.status_code >= 400:
        raise PhsError(str(body.get("code")), body.get("message"), body.get("message_en"))
    print(json.dumps(body, ensure_ascii=False, indent=1))
    return 0


_ACTIONS = {"keygen": _keygen, "build": _build, "build-update": _build_update, "inspect": _inspect, "apply": _apply, "rollback": _rollback}


if __name__ == "__main__":
    sys.exit(main())
