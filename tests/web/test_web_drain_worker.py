"""The drain worker process: timer, on-demand drains, stop, and parent death."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from web_support import (
    basic_auth,
    free_port,
    make_project,
    spawn_server,
    wait_until_healthy,
)

from jalon.store import Store
from jalon.web import spool
from jalon.web.drain_worker import DrainWorker
from jalon.web.messages import NormalizedBatch

WAIT_S = 30.0


def _event(message_id: str) -> tuple:
    return (
        message_id,
        "acme",
        "u1",
        None,
        "Signed Up",
        "2024-05-01 08:00:00.000000",
        "{}",
        "2024-05-01 08:00:01.000000",
        "k",
    )


def _spool(project, ids: list[str]) -> None:
    writer = spool.SpoolWriter(project.spool_path)
    writer.submit(NormalizedBatch(events=[_event(i) for i in ids])).result(WAIT_S)
    writer.close()


def _store_count(project) -> int:
    with Store.open(project.store_path, read_only=True) as store:
        return store.raw.execute("SELECT count(*) FROM events").fetchall()[0][0]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_worker_drains_on_request_and_at_stop(tmp_path):
    project, *_ = make_project(tmp_path / "project")
    project.ensure_state_dir()
    _spool(project, ["a", "b"])
    # A long interval: only explicit requests and the stop drain run.
    worker = DrainWorker(project, interval_s=3600)
    worker.start()

    first = worker.drain_now()
    _spool(project, ["c"])
    worker.stop()

    assert first == 2
    assert _store_count(project) == 3


@pytest.mark.slow
def test_worker_exits_when_server_killed(tmp_path):
    project, write_key, _, _ = make_project(tmp_path / "project")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = spawn_server(project, port, "--drain-interval", "0.5")
    wait_until_healthy(url, server)
    response = httpx.post(
        f"{url}/v1/track",
        json={
            "userId": "u1",
            "event": "e",
            "context": {"groupId": "acme"},
            "messageId": "k1",
        },
        headers=basic_auth(write_key),
    )
    assert response.status_code == 200, response.text
    workers = _children(server.pid)

    server.send_signal(signal.SIGKILL)
    server.wait(timeout=WAIT_S)
    deadline = time.monotonic() + WAIT_S
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "the drain worker outlived its server"
        time.sleep(0.1)

    assert len(workers) >= 1
