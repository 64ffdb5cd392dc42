"""Store.open: creating the file, read-only access and locks held by other processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from jalon.errors import StoreError
from jalon.store import Store

SRC_DIR = Path(__file__).parents[2] / "src"
HOLD_LOCK = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS marker (x INTEGER)")
con.execute("INSERT INTO marker VALUES (1)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Start a process that opens ``path`` for writing and keeps it for ``seconds``."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC_DIR)},
    )
    line = process.stdout.readline()
    assert line.strip() == "locked", "the helper process failed to open the store"
    return process


def test_open_creates_parent_and_tables(tmp_path):
    path = tmp_path / ".jalon" / "store.duckdb"

    with Store.open(path) as store:
        assert store.execute(store.events().count())["CountStar(events)"].tolist() == [
            0
        ]
        assert store.accounts() is None
        assert store.properties() == {}
        assert store.event_bounds() == (None, None)

    assert path.exists()


def test_read_only_missing_file(tmp_path):
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path / "absent.duckdb", read_only=True)

    assert caught.value.code == "store.not_found"
    assert "jalon load" in str(caught.value)


def test_read_only_while_other_process_writes(tmp_path):
    path = tmp_path / "store.duckdb"
    Store.open(path).close()
    writer = hold_lock(path, 30)
    try:
        with pytest.raises(StoreError) as caught:
            Store.open(path, read_only=True)
    finally:
        writer.kill()
        writer.wait()

    assert caught.value.code == "store.locked"
    assert caught.value.params["pid"] == str(writer.pid)
    assert "read" in str(caught.value)


def test_read_only_retry_after_lock_released(tmp_path):
    path = tmp_path / "store.duckdb"
    Store.open(path).close()
    # The writer lets go after 1 s, within the retry delays (about 3 s in all).
    writer = hold_lock(path, 1.0)
    try:
        with Store.open(path, read_only=True) as store:
            rows = store.raw.execute("SELECT x FROM marker").fetchall()
    finally:
        writer.wait()

    assert rows == [(1,)]


def test_write_open_while_other_process_writes(tmp_path):
    path = tmp_path / "store.duckdb"
    writer = hold_lock(path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            Store.open(path)
        elapsed = time.monotonic() - started
    finally:
        writer.kill()
        writer.wait()

    assert caught.value.code == "store.locked"
    # Write opens do not retry.
    assert elapsed < 1.0


def test_other_mode_in_same_process(tmp_path):
    path = tmp_path / "store.duckdb"
    with Store.open(path), pytest.raises(StoreError) as caught:
        Store.open(path, read_only=True)

    assert caught.value.code == "store.in_use"


def test_execute_returns_frames_for_columns_and_scalars(tmp_path):
    with Store.open(tmp_path / "store.duckdb") as store:
        store.raw.execute(
            "INSERT INTO events (account_id, event, ts, _seq) VALUES "
            "('a1', 'login', TIMESTAMP '2024-03-01 09:00', 1), "
            "('a2', 'login', TIMESTAMP '2024-03-02 09:00', 2)"
        )
        events = store.events()

        column = store.execute(events.account_id)
        scalar = store.execute(events.ts.max().name("last"))

    assert column["account_id"].tolist() == ["a1", "a2"]
    assert scalar["last"].tolist() == [pd.Timestamp("2024-03-02 09:00")]


def test_memory_limit_set_on_connection(tmp_path):
    path = tmp_path / "store.duckdb"
    with Store.open(path, memory_limit="512MB") as store:
        # DuckDB reports the limit in its own unit: 512 MB is 488.2 MiB.
        limit = store.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit == "488.2 MiB"
    with Store.open(path, read_only=True) as store:
        default = store.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert default != limit


MINIMAL_CONFIG = """
[project]
{line}

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"

[start]
event = "signed_up"

[[milestones]]
id = "first_report"
name = "First report"
event = "report"
"""


@pytest.mark.parametrize("value", ['"4GB"', '"1.5 GiB"', '" 512mb "', '"100MB"'])
def test_config_accepts_memory_sizes(tmp_path, value):
    from jalon.config import load_config

    path = tmp_path / "jalon.toml"
    path.write_text(MINIMAL_CONFIG.format(line=f"memory_limit = {value}"))
    assert load_config(path).memory_limit == value.strip('"').strip()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ('"4"', "config.bad_memory_limit"),
        ('"lots"', "config.bad_memory_limit"),
        ("4096", "config.bad_memory_limit"),
        ('"4 GBs"', "config.bad_memory_limit"),
        # DuckDB needs at least 100 MB (100,000,000 bytes; 99 MB is below).
        ('"0GB"', "config.small_memory_limit"),
        ('"1KB"', "config.small_memory_limit"),
        ('"99MB"', "config.small_memory_limit"),
    ],
)
def test_config_rejects_other_memory_limits(tmp_path, value, code):
    from jalon.config import load_config
    from jalon.errors import ConfigError

    path = tmp_path / "jalon.toml"
    path.write_text(MINIMAL_CONFIG.format(line=f"memory_limit = {value}"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.code == code
    assert caught.value.params["path"] == "project.memory_limit"


def test_out_of_memory_names_the_setting(tmp_path):
    import duckdb
    import typer

    from jalon.cli.common import error_console, user_errors

    # A real DuckDB query over its limit: 100 MB cannot hold these two lists.
    connection = duckdb.connect(str(tmp_path / "oom.duckdb"))
    connection.execute("SET memory_limit = '100MB'")
    connection.execute("SET temp_directory = ''")
    with error_console.capture() as captured, pytest.raises(typer.Exit) as exited:
        with user_errors("en"):
            connection.execute(
                "SELECT list(range) FROM range(100000000) GROUP BY range % 2"
            ).fetchall()
    assert exited.value.exit_code == 2
    assert "DuckDB ran out of memory. Raise project.memory_limit" in captured.get()

