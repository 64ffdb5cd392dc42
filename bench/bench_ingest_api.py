"""Measure ingest throughput and latency of ``jalon serve`` on loopback.

The script starts ``python -m jalon.web`` on a fresh project with the default
settings, except a rate limit raised so that the clients are never throttled.
Several client processes then post pre-built batches of 100 track events to
``/v1/batch`` as fast as the server acknowledges them. Every 2xx means the
batch was fsynced to the spool (SQLite WAL, ``synchronous=FULL``).

Usage::

    .venv/bin/python bench/bench_ingest_api.py [--clients 8] [--batches 250] [--write]

``--write`` replaces the "Ingest API" section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import importlib.util
import json
import multiprocessing
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jalon.web.keys import create_key
from jalon.web.project import ProjectContext

BATCH_SIZE = 100
RESULTS_PATH = ROOT / "bench" / "RESULTS.md"
SECTION_START = "<!-- ingest-api:start -->"
SECTION_END = "<!-- ingest-api:end -->"
STARTUP_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_bodies(client: int, batches: int) -> list[bytes]:
    """Return JSON bodies of ``batches`` batches with unique message ids."""
    bodies = []
    for number in range(batches):
        batch = [
            {
                "type": "track",
                "userId": f"user-{client}-{index % 10}",
                "event": "Report Created",
                "timestamp": "2024-05-01T12:00:00Z",
                "messageId": f"c{client}-b{number}-m{index}",
                "context": {"groupId": f"account-{client}-{index % 5}"},
                "properties": {"charts": index, "plan": "pro"},
            }
            for index in range(BATCH_SIZE)
        ]
        bodies.append(json.dumps({"batch": batch}).encode())
    return bodies


def run_client(
    arguments: tuple[int, int, str, str, multiprocessing.Barrier],
) -> tuple[list[float], float]:
    """Post every batch of one client; return each request's latency and the CPU time used, in seconds."""
    client, batches, url, key, barrier = arguments
    bodies = build_bodies(client, batches)
    token = base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    latencies = []
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as http:
        barrier.wait()
        cpu_started = time.process_time()
        for body in bodies:
            started = time.perf_counter()
            response = http.post(f"{url}/v1/batch", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}: {response.text}")
        cpu = time.process_time() - cpu_started
    return latencies, cpu


def wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError("server did not start")


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """Return the CPU time of the live child processes of ``pid`` (the drain worker)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run(clients: int, batches: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="jalon-bench-"))
    project = ProjectContext.from_path(folder)
    _, key = create_key(project.keys_path, "bench", "write")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "jalon.web",
        "--project",
        str(folder),
        "--port",
        str(port),
        "--rate",
        "1e9",
        "--burst",
        "1e9",
        *os.environ.get("BENCH_SERVER_ARGS", "").split(),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(command, env=env)

    try:
        wait_healthy(url, server)
        with multiprocessing.Manager() as manager:
            barrier = manager.Barrier(clients + 1)
            with multiprocessing.Pool(clients) as pool:
                pending = pool.map_async(
                    run_client,
                    [(c, batches, url, key, barrier) for c in range(clients)],
                )
                barrier.wait()
                started = time.perf_counter()
                cpu_before = cpu_seconds(server.pid)
                drain_before = children_cpu_seconds(server.pid)
                per_client = pending.get()
                elapsed = time.perf_counter() - started
                server_cpu = cpu_seconds(server.pid) - cpu_before
                drain_cpu = children_cpu_seconds(server.pid) - drain_before
                load = os.getloadavg()[0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    latencies = [latency for values, _ in per_client for latency in values]
    client_cpu = sum(cpu for _, cpu in per_client)
    events = clients * batches * BATCH_SIZE
    return {
        "clients": clients,
        "batches": clients * batches,
        "events": events,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "server_cpu_ms_per_batch": server_cpu * 1000 / (clients * batches),
        "drain_cpu_ms_per_batch": drain_cpu * 1000 / (clients * batches),
        "client_cpu_ms_per_batch": client_cpu * 1000 / (clients * batches),
        "load": load,
    }


def server_stack() -> str:
    """Name the event loop and HTTP parser uvicorn picks here ("auto" prefers the fast ones)."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop}, {parser}"


def table_row(result: dict) -> str:
    """Format one run as a row of the results table."""
    return (
        f"| {result['events']:,} | {result['batches']:,} | {result['seconds']:.2f} |"
        f" {result['events_per_s']:,.0f} | {result['p50_ms']:.1f} ms |"
        f" {result['p99_ms']:.1f} ms | {result['max_ms']:.1f} ms |"
        f" {result['server_cpu_ms_per_batch']:.2f}, {result['drain_cpu_ms_per_batch']:.2f},"
        f" {result['client_cpu_ms_per_batch']:.2f} ms | {result['load']:.1f} |"
    )


def section(results: list[dict]) -> str:
    """Format the results of consecutive runs as the RESULTS.md section."""
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    result = results[0]
    median_cpu = statistics.median(r["server_cpu_ms_per_batch"] for r in results)
    server_events_per_s = BATCH_SIZE * 1000 / median_cpu
    setup = (
        "Server and clients share this machine and talk over loopback: one uvicorn process"
        f" ({server_stack()}), {result['clients']} client processes (httpx, one connection"
        f" each), batches of {BATCH_SIZE} track events, durability on (each 2xx follows an"
        " fsynced SQLite commit), drain into DuckDB every 10 s by a child process."
    )
    header = (
        "| events | batches | seconds | events/s | p50 latency | p99 latency | max latency"
        " | CPU per batch: server, drain, clients | load average |"
    )
    notes = (
        "CPU per batch is CPU time (user + system) divided by the batches sent: of the server"
        " process, of its drain worker process, and of all client processes. The load average"
        " is the 1-minute value at the end of the run; above 2 on this machine, other"
        " processes were competing for the two cores and the throughput and latency above"
        " understate what an idle machine gives."
    )
    estimate = (
        f"Each row is one of {len(results)} consecutive runs. From the median of its CPU time"
        " per batch alone, the server process would handle about"
        f" {server_events_per_s:,.0f} events/s on one free core; this is an estimate derived"
        " from the CPU figures, not a measurement."
    )
    lines = [
        SECTION_START,
        "## Ingest API (`jalon serve`, `POST /v1/batch`)",
        "",
        f"Measured on {today} with `bench/bench_ingest_api.py` on {machine()}.",
        setup,
        "",
        header,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(table_row(run_result) for run_result in results),
        "",
        notes,
        estimate,
        SECTION_END,
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace this benchmark's section of RESULTS.md, keeping the others."""
    current = (
        RESULTS_PATH.read_text() if RESULTS_PATH.exists() else "# Benchmark results\n"
    )
    if SECTION_START in current and SECTION_END in current:
        before, rest = current.split(SECTION_START, 1)
        _, after = rest.split(SECTION_END, 1)
        updated = before + text + after
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS_PATH.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=250, help="batches per client")
    parser.add_argument(
        "--runs", type=int, default=3, help="consecutive runs to record"
    )
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    options = parser.parse_args()
    results = [run(options.clients, options.batches) for _ in range(options.runs)]
    text = section(results)
    print(text)
    if options.write:
        write_section(text)


if __name__ == "__main__":
    main()
