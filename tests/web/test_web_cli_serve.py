"""``jalon serve`` as a real subprocess of the jalon command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from web_support import SRC_DIR, basic_auth, free_port, make_project, wait_until_healthy

from jalon.store import Store

STOP_TIMEOUT_S = 30


@pytest.mark.slow
def test_jalon_serve_accepts_and_stops_cleanly(tmp_path):
    project, write_key, _, _ = make_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    command = [
        sys.executable,
        "-m",
        "jalon.cli.main",
        "serve",
        "-c",
        str(project.root),
        "--port",
        str(port),
        "--drain-interval",
        "0",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_until_healthy(url, process)
        response = httpx.post(
            f"{url}/v1/track",
            json={
                "userId": "u1",
                "event": "e",
                "context": {"groupId": "acme"},
                "messageId": "c1",
            },
            headers=basic_auth(write_key),
        )
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=STOP_TIMEOUT_S)

    assert response.status_code == 200, response.text
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit
    # status is the signal's.
    assert process.returncode == -signal.SIGTERM, stderr.decode()
    assert f"http://127.0.0.1:{port}" in stdout.decode()
    # The shutdown drain moved the event into the store.
    with Store.open(project.store_path, read_only=True) as store:
        rows = store.raw.execute("SELECT event_id FROM events").fetchall()
    assert rows == [("c1",)]
