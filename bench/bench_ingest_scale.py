"""Check that ingest streams a large Parquet folder and resumes after a kill.

The script loads the folder written by ``bench/generate.py`` into a new
store in a child process, kills that process (SIGKILL) right after its first
file is committed, then loads again to completion. It prints, as JSON
lines, the wall time and peak memory of both runs and the checks: events
in the store equal to events in the Parquet files, every ``_seq`` unique,
and each file recorded once.

Usage::

    python bench/bench_ingest_scale.py /tmp/bench-10m
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_engine import MEMORY_LIMIT_VARIABLE  # noqa: E402

KIB = 1024
PROGRESS_PREFIX = "progress "


def child(folder: Path, store_name: str, events_format: str) -> None:
    """Load the folder into ``store_name``, printing a line after each file."""
    from bench_engine import ANALYSIS_MILESTONES, write_config

    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    events_dir = "events" if events_format == "parquet" else f"events-{events_format}"
    config = load_config(
        write_config(
            folder,
            f"ingest-{events_format}.toml",
            ANALYSIS_MILESTONES,
            events_dir=events_dir,
            events_format=events_format,
        )
    )
    with Store.open(folder / store_name, memory_limit=config.memory_limit) as store:
        load_project(
            store,
            config.events,
            config.accounts,
            config.base_dir,
            progress=lambda path, done, total: print(
                f"{PROGRESS_PREFIX}{done}/{total} {path}", flush=True
            ),
        )


def run(
    folder: Path, store_name: str, events_format: str, kill_after_files: int | None
) -> dict:
    """Run the child; kill it once ``kill_after_files`` files are reported."""
    command = [
        sys.executable,
        __file__,
        "--child",
        "--format",
        events_format,
        str(folder),
        store_name,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    files_reported, killed = 0, False
    for line in process.stdout:
        if line.startswith(PROGRESS_PREFIX):
            files_reported += 1
            if kill_after_files is not None and files_reported >= kill_after_files:
                process.send_signal(signal.SIGKILL)
                killed = True
                break
    _, status, usage = os.wait4(process.pid, 0)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "files_reported": files_reported,
        "killed": killed,
        "exit_status": status,
        "peak_rss_mib": round(usage.ru_maxrss / KIB, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def write_csv_copy(folder: Path, files: int) -> Path:
    """Write the Parquet events as ``files`` CSV files in ``events-csv``."""
    import duckdb

    target = folder / "events-csv"
    target.mkdir(exist_ok=True)
    con = duckdb.connect()
    source = f"read_parquet('{folder}/events/*.parquet')"
    for part in range(files):
        con.execute(
            f"COPY (SELECT * FROM {source} WHERE hash(account_id) % {files} = {part}) "
            f"TO '{target}/part-{part}.csv' (HEADER, DELIMITER ',')"
        )
    con.close()
    return target


def check(folder: Path, store_name: str) -> dict:
    """Compare the store with the Parquet files it was loaded from."""
    import duckdb

    con = duckdb.connect(str(folder / store_name), read_only=True)
    source = con.execute(
        f"SELECT count(*) FROM read_parquet('{folder}/events/*.parquet')"
    ).fetchone()[0]
    stored, distinct_seq = con.execute(
        "SELECT count(*), count(DISTINCT _seq) FROM events"
    ).fetchone()
    files, distinct_paths = con.execute(
        "SELECT count(*), count(DISTINCT path) FROM _files"
    ).fetchone()
    con.close()
    return {
        "source_events": int(source),
        "stored_events": int(stored),
        "distinct_seq": int(distinct_seq),
        "files_recorded": int(files),
        "distinct_file_paths": int(distinct_paths),
        "ok": source == stored == distinct_seq and files == distinct_paths,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("store", nargs="?", default="ingest-scale.duckdb")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--csv-files", type=int, default=4)
    parser.add_argument(
        "--memory-limit", help='DuckDB memory limit of the loading process, such as "2GB"'
    )
    arguments = parser.parse_args()
    if arguments.memory_limit:
        # The child process reads it through the config that write_config writes.
        os.environ[MEMORY_LIMIT_VARIABLE] = arguments.memory_limit
    folder = arguments.folder.absolute()
    if arguments.child:
        child(folder, arguments.store, arguments.format)
        return
    if arguments.format == "csv" and not (folder / "events-csv").exists():
        write_csv_copy(folder, arguments.csv_files)
    for suffix in ("", ".wal"):
        (folder / f"{arguments.store}{suffix}").unlink(missing_ok=True)
    interrupted = run(folder, arguments.store, arguments.format, kill_after_files=1)
    print(json.dumps({"run": "interrupted", **interrupted}), flush=True)
    resumed = run(folder, arguments.store, arguments.format, kill_after_files=None)
    print(json.dumps({"run": "resumed", **resumed}), flush=True)
    print(json.dumps({"run": "check", **check(folder, arguments.store)}), flush=True)


if __name__ == "__main__":
    main()
