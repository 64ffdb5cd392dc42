"""Durability: every acknowledged event survives SIGKILL and lands exactly once."""

from __future__ import annotations

import signal
import threading
import time

import duckdb
import httpx
import pytest
from web_support import (
    basic_auth,
    free_port,
    make_project,
    spawn_server,
    wait_until_healthy,
)

from jalon.web.drain import drain_project

CLIENTS = 4
BATCH_SIZE = 20
# Kill once this many events are acknowledged, so that the kill lands while
# clients are still sending.
ACKNOWLEDGED_BEFORE_KILL = 2_000
SEND_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 30.0


def _batch(client: int, number: int) -> list[dict]:
    return [
        {
            "type": "track",
            "userId": f"user-{client}",
            "event": "Item Added",
            "timestamp": "2024-05-01T12:00:00Z",
            "messageId": f"c{client}-b{number}-m{index}",
            "context": {"groupId": f"account-{client}"},
        }
        for index in range(BATCH_SIZE)
    ]


class Sender(threading.Thread):
    """Client posting batches until the server dies; records what was acknowledged."""

    def __init__(self, client: int, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.url = url
        self.headers = basic_auth(key)
        self.acknowledged: list[str] = []
        self.failed_batches: list[list[dict]] = []

    def run(self) -> None:
        with httpx.Client(timeout=SEND_TIMEOUT_S) as http:
            number = 0
            while True:
                batch = _batch(self.client, number)
                number += 1
                try:
                    response = http.post(
                        f"{self.url}/v1/batch",
                        json={"batch": batch},
                        headers=self.headers,
                    )
                except httpx.TransportError:
                    self.failed_batches.append(batch)
                    return
                if response.status_code == 200:
                    self.acknowledged.extend(message["messageId"] for message in batch)


@pytest.mark.slow
def test_sigkill_keeps_acknowledged_events_once(tmp_path):
    project, write_key, _, _ = make_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn_server(project, port, "--drain-interval", "0")
    wait_until_healthy(url, process)
    senders = [Sender(client, url, write_key) for client in range(CLIENTS)]
    for sender in senders:
        sender.start()

    deadline = time.monotonic() + SEND_TIMEOUT_S
    while sum(len(s.acknowledged) for s in senders) < ACKNOWLEDGED_BEFORE_KILL:
        assert time.monotonic() < deadline, "clients did not reach the kill threshold"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    for sender in senders:
        sender.join(timeout=SEND_TIMEOUT_S)
    acknowledged = [message_id for s in senders for message_id in s.acknowledged]

    # Restart and resend what the clients saw fail, as an SDK retry would.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    restarted = spawn_server(project, port, "--drain-interval", "0")
    wait_until_healthy(url, restarted)
    retried = [batch for s in senders for batch in s.failed_batches]
    for batch in retried:
        response = httpx.post(
            f"{url}/v1/batch", json={"batch": batch}, headers=basic_auth(write_key)
        )
        assert response.status_code == 200, response.text
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=SHUTDOWN_TIMEOUT_S)
    drain_project(project)

    connection = duckdb.connect(str(project.store_path), read_only=True)
    counts = dict(
        connection.execute(
            "SELECT event_id, count(*) FROM events GROUP BY event_id"
        ).fetchall()
    )
    connection.close()
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    assert [m for m in acknowledged if counts.get(m) != 1] == []
    assert max(counts.values()) == 1
    retried_ids = [message["messageId"] for batch in retried for message in batch]
    assert [m for m in retried_ids if counts.get(m) != 1] == []
