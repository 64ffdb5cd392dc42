"""The CLI can read the store while the server runs, and new events reach it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from web_support import (
    SRC_DIR,
    basic_auth,
    free_port,
    make_project,
    spawn_server,
    wait_until_healthy,
)

DRAIN_INTERVAL_S = 0.2
WAIT_S = 30.0
# What a CLI command does: open the store read-only (retrying while a drain
# holds the lock) and count the API events.
COUNT_SCRIPT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from jalon.store import Store\n"
    "with Store.open(Path(sys.argv[1]), read_only=True) as store:\n"
    "    print(store.raw.execute('SELECT count(*) FROM events').fetchall()[0][0])\n"
)


def _count_in_subprocess(store_path) -> int:
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", COUNT_SCRIPT, str(store_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


def _send(url: str, key: str, first: int, count: int) -> None:
    batch = [
        {
            "type": "track",
            "userId": "u1",
            "event": "Page Viewed",
            "timestamp": "2024-05-01T12:00:00Z",
            "messageId": f"m{number}",
            "context": {"groupId": "acme"},
        }
        for number in range(first, first + count)
    ]
    response = httpx.post(
        f"{url}/v1/batch", json={"batch": batch}, headers=basic_auth(key)
    )
    assert response.status_code == 200, response.text


def _wait_drained(url: str, read_key: str) -> None:
    deadline = time.monotonic() + WAIT_S
    headers = {"Authorization": f"Bearer {read_key}"}
    while httpx.get(f"{url}/api/events/count", headers=headers).json()["pending"]:
        assert time.monotonic() < deadline, "the server did not drain the spool"
        time.sleep(DRAIN_INTERVAL_S)


@pytest.mark.slow
def test_cli_reads_store_while_server_runs(tmp_path):
    project, write_key, read_key, _ = make_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = spawn_server(project, port, "--drain-interval", str(DRAIN_INTERVAL_S))
    try:
        wait_until_healthy(url, server)

        _send(url, write_key, 0, 50)
        _wait_drained(url, read_key)
        first = _count_in_subprocess(project.store_path)
        _send(url, write_key, 50, 30)
        _wait_drained(url, read_key)
        second = _count_in_subprocess(project.store_path)

        assert first == 50
        # 50 + 30 events, without restarting the server.
        assert second == 80
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=WAIT_S)
