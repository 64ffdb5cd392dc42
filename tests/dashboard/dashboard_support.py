"""Run the dashboard of the hand-worked alerts project on a loopback port."""

from __future__ import annotations

import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).parents[1] / "alerts"))

from alerts_support import write_project

from jalon.alerts import compute_snapshot
from jalon.web.app import create_app
from jalon.web.keys import create_key
from jalon.web.project import ProjectContext
from jalon.web.state import ServerSettings

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0


@dataclass
class Dashboard:
    """A running server, its project's jalon.toml and API keys."""

    url: str
    config: Path
    read_key: str
    write_key: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT_S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def start_dashboard(folder: Path, extra: str = "") -> Dashboard:
    """Write the hand-worked project, load its files into the store and serve it."""
    config = write_project(folder, extra)
    return serve_project(config)


def serve_project(config: Path) -> Dashboard:
    """Load the files of the project at ``config`` into its store and serve it."""
    compute_snapshot(config)
    project = ProjectContext.from_path(config)
    _, read_key = create_key(project.keys_path, "dashboard reader", "read")
    _, write_key = create_key(project.keys_path, "dashboard writer", "write")
    port = free_port()
    app = create_app(project, ServerSettings(drain_interval_s=0))
    server = uvicorn.Server(
        uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    return Dashboard(url, config, read_key, write_key, server, thread)
