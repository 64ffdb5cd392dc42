"""Acceptance checks of error messages met while trying jalon fresh from the README.

Each test runs the installed ``jalon`` entry point in a subprocess on a small
project written to tmp_path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


JALON = Path(sys.executable).parent / "jalon"
RUN_TIMEOUT_S = 600

CONFIG = """\
[project]
name = "Messages"

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
event = "report_shared"
"""

EVENTS = """\
account_id,event,timestamp
a1,signed_up,2026-01-01T00:00:00
a1,report_shared,2026-01-02T00:00:00
"""


def test_missing_store_names_load_command(tmp_path):
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    config = tmp_path / "jalon.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [str(JALON), "export-parquet", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin", "JALON_LANG": "en", "COLUMNS": "200"},
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "does not exist" in output
    assert "jalon ingest" not in output
    assert "jalon load" in output
