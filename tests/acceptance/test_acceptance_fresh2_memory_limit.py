"""Acceptance checks of ``[project] memory_limit``, tried fresh from the docs.

In docs/en/configuration.md, ``memory_limit`` is the most memory DuckDB may
use, such as "4GB", and every configuration error names its key. Each
test runs the installed ``jalon`` entry point in a subprocess on a small
project written to tmp_path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

JALON = Path(sys.executable).parent / "jalon"
RUN_TIMEOUT_S = 600

CONFIG = """\
[project]
name = "Memory"
memory_limit = {limit}

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"

[accounts]
path = "accounts.csv"

[start]
column = "signup_at"

[observation]
end = "2026-03-01"

[[milestones]]
id = "first_report"
event = "report_shared"
"""

ACCOUNTS = """\
account_id,signup_at
a1,2026-01-01T00:00:00
a2,2026-01-05T00:00:00
"""

EVENTS = """\
account_id,event,timestamp
a1,report_shared,2026-01-02T12:00:00
"""


def write_project(folder: Path, limit: str) -> Path:
    (folder / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    config = folder / "jalon.toml"
    config.write_text(CONFIG.format(limit=limit), encoding="utf-8")
    return config


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JALON), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin", "JALON_LANG": "en", "COLUMNS": "200"},
    )


@pytest.mark.parametrize("limit", ['"lots"', "4096", '"4 GBs"'])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_bad_memory_limit_rejected(tmp_path, limit, lang):
    config = write_project(tmp_path, limit)
    done = run("--lang", lang, "load", "--config", str(config))
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output
    assert "project.memory_limit" in output
    assert ("Invalid value" if lang == "en" else "Valeur invalide") in output


def test_one_gigabyte_limit_works(tmp_path):
    config = write_project(tmp_path, '"1GB"')
    loaded = run("load", "--config", str(config))
    assert loaded.returncode == 0, loaded.stderr
    # The files contain 1 event row and 2 account rows.
    assert "1 events and 2 accounts in the store." in loaded.stdout
    reported = run("report", "--config", str(config))
    assert reported.returncode == 0, reported.stderr
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize("limit", ['"1KB"', '"0GB"'])
def test_tiny_memory_limit_no_traceback(tmp_path, limit):
    config = write_project(tmp_path, limit)
    done = run("load", "--config", str(config))
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output
    assert "project.memory_limit" in output
