"""Benchmark: serving sealed page images to 50 tablets beside nginx serving the same bytes.

A real ``phs serve`` on loopback (temp data dir). The secretary uploads a corpus PDF; a
delegate pairs with a device key (as the browser does with WebCrypto) and makes one
signed request, which earns the short-lived session cookie an ``<img>`` uses instead of a
proof (page images are loaded by ``<img src>``, which cannot sign). Then ``wrk`` (one
client for both sides, keep-alive HTTP/1.1) fetches every page at tablet size
(``GET /api/documents/{id}/pages/{n}?size=tablet``) round robin over C connections for D
seconds, with the delegate's token and cookie. Every blob is sealed at rest, so each
request reads and decrypts it.

Baseline, same run: the bytes the delegate received, written unencrypted under the same
paths in a temp folder and served by nginx (Debian package; ``daemon off``, access log
off, sendfile) on another loopback port, fetched by the same wrk script. The two sides
alternate ``--rounds`` times; the medians are the figures. Each side's CPU per request (user
and system, from ``/proc/<pid>/stat`` around each round: the server process; nginx's master
and workers) is reported too: on a shared machine it moves far less than requests per second.

Then, once the serving rounds are over (so its rendering does not share their CPU): a
300-page PDF uploaded over HTTP, timed from the POST to its answer, to page 1 arriving on
the delegate's side, to its text being searchable (``text_pending`` false) and to every
page rendered (``pages_pending`` 0).

Usage: .venv/bin/python bench/bench_serving.py [--clients 50] [--duration 10] [--rounds 3]
       [--source PATH] [--big-pages 300]
Needs ``wrk`` and ``nginx`` (apt-get install wrk nginx). Loopback only; stops by itself.
Ends with one JSON line: {"bench": "serving", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import pymupdf  # noqa: E402

from appliance.scenario.server import LocalAppliance, free_port  # noqa: E402
from appliance.web.trust import SESSION_COOKIE  # noqa: E402
from tests.pairing.test_trust_api import Tablet  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT_SOURCE = CORPUS / "nghi-quyet-hdnd-hanoi-11-2025.pdf"
BIG_SOURCE = CORPUS / "pdf-edge" / "many-pages-352.pdf"
RENDER_WAIT_S = 300.0  # the longest we wait for a document's pages to be rendered
WRK_MARK = "WRKJSON "

WRK_SCRIPT = """
local paths = {PATHS}
local headers = {HEADERS}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "bytes": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "status_errors": %d, "socket_errors": %d}\\n',
    "MARK", summary.requests, summary.bytes, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""

NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    default_type image/webp;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        location / {{ try_files $uri =404; }}
    }}
}}
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds used so far by these processes and their children's threads
    (a figure the shared machine's load moves far less than requests per second)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
    return user, system


def with_children(pid: int) -> list[int]:
    """A process and its direct children (nginx's master and its workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def run_wrk(
    url: str, paths: list[str], headers: dict[str, str], args: Any, tmp: Path, pids: list[int]
) -> dict[str, float]:
    """One timed wrk run; its figures from the script's ``done`` (latencies in ms), plus the
    server's CPU per request (``pids``: the serving processes)."""
    script = tmp / "pages.lua"
    script.write_text(
        WRK_SCRIPT.replace("{PATHS}", "{" + ", ".join(lua_string(p) for p in paths) + "}")
        .replace(
            "{HEADERS}",
            "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()) + "}",
        )
        .replace("MARK", WRK_MARK)
    )
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.clients}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    user0, sys0 = cpu_seconds(pids)
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + 60, check=True
    ).stdout
    user1, sys1 = cpu_seconds(pids)
    line = next(x for x in out.splitlines() if x.startswith(WRK_MARK))
    raw = json.loads(line[len(WRK_MARK) :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_s": raw["requests"] / seconds,
        "wire_mb_s": raw["bytes"] / seconds / 1e6,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "status_errors": raw["status_errors"],
        "socket_errors": raw["socket_errors"],
        "cpu_user_us_per_request": (user1 - user0) / max(1, raw["requests"]) * 1e6,
        "cpu_sys_us_per_request": (sys1 - sys0) / max(1, raw["requests"]) * 1e6,
        "cpu_us_per_request": (user1 - user0 + sys1 - sys0) / max(1, raw["requests"]) * 1e6,
        "cpu_cores_busy": (user1 - user0 + sys1 - sys0) / seconds,
    }


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start_nginx(tmp: Path, workers: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, tmp=tmp, port=port))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(
        [binary, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "nginx.stderr").open("wb"),
    )
    try:
        wait_port(port, 10.0)
    except RuntimeError:
        proc.kill()
        raise
    return proc, port


def stop_nginx(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # SIGTERM: nginx's fast shutdown
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def wait_rendered(c: httpx.AsyncClient, doc_id: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + RENDER_WAIT_S
    while time.monotonic() < deadline:
        doc = (await c.get(f"/api/documents/{doc_id}", headers=headers)).json()["document"]
        if not doc.get("pages_pending"):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"document {doc_id} still rendering after {RENDER_WAIT_S} s")


async def wait_text(c: httpx.AsyncClient, doc_id: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + RENDER_WAIT_S
    while time.monotonic() < deadline:
        doc = (await c.get(f"/api/documents/{doc_id}", headers=headers)).json()["document"]
        if not doc.get("text_pending"):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"document {doc_id} has no text after {RENDER_WAIT_S} s")


async def upload(c: httpx.AsyncClient, name: str, data: bytes, sec: dict[str, str]) -> dict[str, Any]:
    files = {"file": (name, data, "application/pdf")}
    r = await c.post("/api/documents", files=files, data={"item": "1"}, headers=sec)
    assert r.status_code == 200, r.text
    return r.json()["document"]  # type: ignore[no-any-return]


def first_pages(source: Path, count: int) -> bytes:
    with pymupdf.open(source) as doc:
        doc.select(list(range(min(count, doc.page_count))))
        return bytes(doc.tobytes(garbage=3, deflate=True))


def median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The round with the median requests/s (its own figures), plus every round's rate and the
    median CPU per request over the rounds."""
    ordered = sorted(runs, key=lambda run: run["requests_s"])
    middle: dict[str, Any] = dict(ordered[(len(ordered) - 1) // 2])
    middle["rounds_requests_s"] = [run["requests_s"] for run in runs]
    middle["rounds_cpu_us_per_request"] = [run["cpu_us_per_request"] for run in runs]
    middle["median_cpu_us_per_request"] = statistics.median(middle["rounds_cpu_us_per_request"])
    return middle


async def main(args: argparse.Namespace) -> dict[str, Any]:
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} not found: apt-get install -y {tool}")
    figures: dict[str, Any] = {
        "clients": args.clients,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "wrk_threads": args.threads,
        "nginx_workers": args.nginx_workers,
        "load_avg_1m_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="phs-bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "logs").mkdir()
        server = LocalAppliance(tmp / "data", tmp / "keys", tmp / "logs")
        await server.start()
        nginx: subprocess.Popen[bytes] | None = None
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False) as c:
                code = {"code": server.setup_code}
                sec = {"Authorization": f"Bearer {(await c.post('/api/pair', json=code)).json()['token']}"}
                await c.post("/api/setup", json={"body": "HĐND bench", "session": "Kỳ họp"}, headers=sec)
                rows = [{"name": "Đại biểu 1", "role": "delegate", "seat": 1}]
                made = (await c.post("/api/participants", json={"participants": rows}, headers=sec)).json()
                await c.post("/api/agenda", json={"title": "Mục 1"}, headers=sec)
                pid = made["participants"][0]["id"]
                code = (await c.post("/api/pairing-codes", json={"participant_id": pid}, headers=sec)).json()
                tablet = Tablet()
                paired = await c.post("/api/pair", json={"code": code["code"], "device_key": tablet.public})
                token = paired.json()["token"]
                signed = {
                    "Authorization": f"Bearer {token}",
                    "X-PHS-Proof": tablet.proof("GET", "/api/me", int(time.time() * 1000)),
                }
                me = await c.get("/api/me", headers=signed)
                assert me.status_code == 200, me.text
                session = me.cookies.get(SESSION_COOKIE)
                assert session, "the signed request earned no session cookie"
                # What the tablet's <img> sends: its credential and the session cookie, no proof.
                delegate = {"Authorization": f"Bearer {token}", "Cookie": f"{SESSION_COOKIE}={session}"}
                c.cookies.clear()

                doc = await upload(c, args.source.name, args.source.read_bytes(), sec)
                await wait_rendered(c, doc["id"], sec)
                paths = [
                    f"/api/documents/{doc['id']}/pages/{n}?size=tablet" for n in range(1, doc["pages"] + 1)
                ]
                www = tmp / "www"
                sizes = []
                for path in paths:
                    r = await c.get(path, headers=delegate)
                    assert r.status_code == 200 and r.headers["content-type"] == "image/webp", r.text
                    file = www / path.split("?", 1)[0].lstrip("/")
                    file.parent.mkdir(parents=True, exist_ok=True)
                    file.write_bytes(r.content)
                    sizes.append(len(r.content))
                for folder in [tmp, *(p for p in www.rglob("*") if p.is_dir()), www]:
                    folder.chmod(0o755)  # nginx's workers run as nobody
                for file in www.rglob("*"):
                    if file.is_file():
                        file.chmod(0o644)
                nginx, nginx_port = start_nginx(tmp, args.nginx_workers)
                nginx_url = f"http://127.0.0.1:{nginx_port}"
                async with httpx.AsyncClient(base_url=nginx_url, trust_env=False) as n:
                    same = (await n.get(paths[0], headers=delegate)).content
                    assert same == (www / paths[0].split("?")[0].lstrip("/")).read_bytes()
                mean_body = sum(sizes) / len(sizes)
                figures.update(
                    {
                        "document": args.source.name,
                        "pages": len(paths),
                        "tablet_kb_mean": mean_body / 1024,
                    }
                )

                ours_runs: list[dict[str, float]] = []
                nginx_runs: list[dict[str, float]] = []
                # The server is one process (uvicorn on one event loop); its render pool idles now.
                ours_pids = [server._proc.pid] if server._proc is not None else []
                for _ in range(args.rounds):
                    ours_runs.append(run_wrk(server.base_url, paths, delegate, args, tmp, ours_pids))
                    nginx_runs.append(run_wrk(nginx_url, paths, delegate, args, tmp, with_children(nginx.pid)))
                stop_nginx(nginx)
                nginx = None
                for side in (ours_runs, nginx_runs):
                    for run in side:
                        run["body_mb_s"] = run["requests_s"] * mean_body / 1e6
                        assert run["status_errors"] == 0 and run["socket_errors"] == 0, run
                figures["phs"] = median_run(ours_runs)
                figures["nginx"] = median_run(nginx_runs)
                figures["ratio"] = figures["phs"]["requests_s"] / figures["nginx"]["requests_s"]
                figures["load_avg_1m_after_serving"] = os.getloadavg()[0]

                if args.big_pages:
                    big = first_pages(BIG_SOURCE, args.big_pages)
                    t0 = time.perf_counter()
                    made_doc = await upload(c, "bench-300.pdf", big, sec)
                    answered = time.perf_counter() - t0
                    r = await c.get(f"/api/documents/{made_doc['id']}/pages/1?size=tablet", headers=delegate)
                    assert r.status_code == 200, r.text
                    first_page = time.perf_counter() - t0
                    await wait_text(c, made_doc["id"], sec)
                    text_ready = time.perf_counter() - t0
                    await wait_rendered(c, made_doc["id"], sec)
                    every_page = time.perf_counter() - t0
                    figures["upload"] = {
                        "pages": made_doc["pages"],
                        "kib": len(big) // 1024,
                        "post_answered_s": answered,
                        "first_page_s": first_page,
                        "text_ready_s": text_ready,
                        "all_pages_s": every_page,
                        "pages_s": made_doc["pages"] / every_page,
                    }
        finally:
            if nginx is not None:
                stop_nginx(nginx)
            await server.stop()
    figures["load_avg_1m_end"] = os.getloadavg()[0]
    return figures


def report(figures: dict[str, Any]) -> None:
    print(
        f"{figures['document']}: {figures['pages']} pages, tablet WebP mean "
        f"{figures['tablet_kb_mean']:.1f} KiB; {figures['clients']} keep-alive connections, "
        f"wrk -t{figures['wrk_threads']}, {figures['duration_s']} s x {figures['rounds']} rounds "
        f"(medians)"
    )
    for name, row in (("phs serve (sealed)", figures["phs"]), ("nginx (plain files)", figures["nginx"])):
        rounds = ", ".join(f"{x:.0f}" for x in row["rounds_requests_s"])
        print(
            f"  {name:<20} {row['requests_s']:>8.0f} req/s  {row['body_mb_s']:>7.1f} MB/s  "
            f"p50 {row['p50_ms']:>6.2f} ms  p99 {row['p99_ms']:>7.2f} ms  (rounds: {rounds})"
        )
        print(
            f"  {'':<20} CPU {row['median_cpu_us_per_request']:.0f} us/request (median of rounds; median round "
            f"{row['cpu_user_us_per_request']:.0f} user + {row['cpu_sys_us_per_request']:.0f} sys, "
            f"{row['cpu_cores_busy']:.2f} cores busy)"
        )
    print(f"  ratio phs / nginx: {figures['ratio']:.3f} (target >= 0.25)")
    if "upload" in figures:
        up = figures["upload"]
        print(
            f"upload of {up['pages']} pages ({up['kib']} KiB) over HTTP: answered "
            f"{up['post_answered_s']:.3f} s, page 1 on the delegate's side {up['first_page_s']:.3f} s "
            f"(target < 1 s), searchable {up['text_ready_s']:.2f} s, every page rendered "
            f"{up['all_pages_s']:.1f} s ({up['pages_s']:.1f} pages/s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--nginx-workers", default="auto")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--big-pages", type=int, default=300, help="0: skip the upload timing")
    arguments = parser.parse_args()
    result = asyncio.run(main(arguments))
    report(result)
    rounded = json.loads(json.dumps(result), parse_float=lambda s: round(float(s), 3))
    print(json.dumps({"bench": "serving", "figures": rounded}))
