"""Fixtures of the alert tests: the hand-worked project and a webhook receiver."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from alerts_support import write_project

from jalon.alerts import Snapshot, compute_snapshot

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory) -> Snapshot:
    """Return the analysis of the hand-worked project (computed once per session)."""
    return compute_snapshot(write_project(tmp_path_factory.mktemp("latecomers")))


@dataclass
class Receiver:
    """A webhook receiver on loopback that answers the queued statuses, then 200."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append((dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
