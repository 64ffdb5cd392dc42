"""Helpers to run the ingest server on a free loopback port in tests."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from jalon.web.keys import create_key, revoke_key
from jalon.web.project import ProjectContext

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 30.0
SRC_DIR = Path(__file__).parents[2] / "src"


def free_port() -> int:
    """Return a TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def basic_auth(key: str) -> dict[str, str]:
    """Return the Authorization header a Segment SDK sends for ``key``."""
    token = base64.b64encode(f"{key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class LiveServer:
    """A running server and the keys created for it."""

    url: str
    project: ProjectContext
    write_key: str
    read_key: str
    revoked_key: str
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=STARTUP_TIMEOUT_S)


def make_project(folder: Path) -> tuple[ProjectContext, str, str, str]:
    """Create a project folder with a write, a read and a revoked write key."""
    project = ProjectContext.from_path(folder)
    _, write_key = create_key(project.keys_path, "test writer", "write")
    _, read_key = create_key(project.keys_path, "test reader", "read")
    revoked, revoked_key = create_key(project.keys_path, "revoked writer", "write")
    revoke_key(project.keys_path, revoked.key_id)
    return project, write_key, read_key, revoked_key


def wait_until_healthy(url: str, process: subprocess.Popen | None = None) -> None:
    """Poll ``/health`` until it returns 200, failing after the startup timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not start in {STARTUP_TIMEOUT_S} s")


def spawn_server(project: ProjectContext, port: int, *extra: str) -> subprocess.Popen:
    """Start ``python -m jalon.web`` for ``project`` in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    command = [
        sys.executable,
        "-m",
        "jalon.web",
        "--project",
        str(project.root),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        *extra,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
