"""The local API client against a real HTTP server on a unix socket."""

from __future__ import annotations

import json
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.devices.local_api import Outbox, local_socket_path, post_local


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~108 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="phs-", dir="/tmp"))
    (path / "run").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Server:
    """A stand-in for `phs serve`'s local API: records posts, answers as told."""

    def __init__(self, data_dir: Path) -> None:
        self.received: list[tuple[str, dict[str, object]]] = []
        self.status = 200
        self.answer: dict[str, object] = {"ok": True}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.received.append((self.path, json.loads(self.rfile.read(length))))
                payload = json.dumps(outer.answer).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def address_string(self) -> str:
                return "local"

        self.httpd = socketserver.ThreadingUnixStreamServer(str(local_socket_path(data_dir)), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(data_dir: Path) -> Iterator[Server]:
    running = Server(data_dir)
    yield running
    running.close()


def test_socket_lives_in_the_run_directory(tmp_path: Path) -> None:
    assert local_socket_path(tmp_path) == tmp_path / "run" / "local.sock"


def test_post_reaches_the_server_and_returns_its_answer(data_dir: Path, server: Server) -> None:
    assert post_local(data_dir, "/local/hardware", {"action": "add", "kind": "storage"}) == {"ok": True}
    assert server.received == [("/local/hardware", {"action": "add", "kind": "storage"})]


def test_server_down_is_logged_and_answers_none(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert post_local(data_dir, "/local/hardware", {"x": 1}) is None
    assert caplog.records[-1].getMessage() == "server not reachable, will retry"


def test_a_refusal_is_raised_with_the_servers_code(data_dir: Path, server: Server) -> None:
    server.status = 409
    server.answer = {"code": "conflict", "message": "Xung đột.", "message_en": "Conflict."}
    with pytest.raises(PhsError) as refused:
        post_local(data_dir, "/local/hardware", {})
    assert refused.value.code == "conflict"
    assert refused.value.message_en == "Conflict."


def test_a_server_error_is_treated_as_down(data_dir: Path, server: Server) -> None:
    server.status = 503
    assert post_local(data_dir, "/local/hardware", {}) is None


def test_outbox_keeps_posts_until_the_server_is_up_and_delivers_in_order(data_dir: Path) -> None:
    outbox = Outbox(data_dir)
    outbox.put("/local/a", {"n": 1})
    outbox.put("/local/b", {"n": 2})
    assert outbox.flush() == 0
    assert len(outbox) == 2
    server = Server(data_dir)
    try:
        assert outbox.flush() == 2
        assert server.received == [("/local/a", {"n": 1}), ("/local/b", {"n": 2})]
        assert len(outbox) == 0
    finally:
        server.close()


def test_outbox_drops_a_refused_post_and_goes_on(data_dir: Path, server: Server) -> None:
    outbox = Outbox(data_dir)
    server.status = 400
    outbox.put("/local/bad", {})
    assert outbox.flush() == 0
    assert len(outbox) == 0


def test_outbox_is_bounded_and_drops_the_oldest(data_dir: Path, server: Server) -> None:
    outbox = Outbox(data_dir, maxlen=2)
    for n in range(3):
        outbox.put("/local/x", {"n": n})
    assert outbox.flush() == 2
    assert [body for _, body in server.received] == [{"n": 1}, {"n": 2}]
