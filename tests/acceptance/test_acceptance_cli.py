"""Acceptance checks of the jalon command line, found by trying it from the README.

Each test runs the installed ``jalon`` entry point in a subprocess, as a user
would, on a small project written to tmp_path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


JALON = Path(sys.executable).parent / "jalon"
RUN_TIMEOUT_S = 600

CONFIG = """\
[project]
name = "Acme"
timezone = "Europe/Paris"

[events]
paths = ["exports/events-*.csv"]
[events.columns]
account_id = "account_id"
user_id = "user_id"
event = "event"
timestamp = "timestamp"

[accounts]
path = "exports/accounts.csv"
[accounts.columns]
segments = ["plan"]

[start]
column = "signup_at"

[observation]
end = "2026-03-01"

[churn]
event = "subscription_cancelled"

[[milestones]]
id = "first_report"
name = "First report shared"
tier = "basic"
event = "report_shared"
"""

ACCOUNTS = """\
account_id,signup_at,plan
a1,2026-01-01 10:00,pro
a2,2026-01-02 10:00,pro
a3,2026-01-03 10:00,free
a4,2026-01-04 10:00,free
a5,2026-01-05 10:00,free
"""

EVENTS = """\
account_id,user_id,event,timestamp
a1,u1,report_shared,2026-01-02 10:00
a2,u2,report_shared,2026-01-05 10:00
a3,u3,subscription_cancelled,2026-01-10 10:00
a4,u4,logged_in,2026-01-06 10:00
a5,u5,report_shared,2026-01-15 10:00
"""


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JALON), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _write_project(root: Path) -> Path:
    (root / "exports").mkdir()
    (root / "exports" / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (root / "exports" / "events-1.csv").write_text(EVENTS, encoding="utf-8")
    config = root / "jalon.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config



def test_keys_help_accepts_lang() -> None:
    result = _run("keys", "--help", "--lang", "fr")
    assert result.returncode == 0




def test_report_states_configured_end(tmp_path: Path) -> None:
    config = _write_project(tmp_path)
    result = _run("report", "--config", str(config))
    assert "observed until 2026-03-01" in " ".join(result.stdout.split())
