"""Fixtures running the ingest server on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from web_support import (
    LOOPBACK,
    LiveServer,
    free_port,
    make_project,
    wait_until_healthy,
)

from jalon.web.app import create_app
from jalon.web.state import ServerSettings


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Return a function starting uvicorn in a thread with the given settings."""
    started: list[LiveServer] = []

    def start(settings: ServerSettings | None = None) -> LiveServer:
        project, write_key, read_key, revoked_key = make_project(tmp_path / "project")
        port = free_port()
        app = create_app(project, settings or ServerSettings(drain_interval_s=0))
        config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        live = LiveServer(
            f"http://{LOOPBACK}:{port}",
            project,
            write_key,
            read_key,
            revoked_key,
            server,
            thread,
        )
        started.append(live)
        wait_until_healthy(live.url)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def live_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A server with default limits and no drain timer."""
    return start_server()
