"""Acceptance check of what ``jalon report`` prints when a Cox model cannot be fitted.

With churn declared, the report fits Cox models of churn on whether each
milestone was reached. On some data the fit is impossible (a singular
matrix, non-finite coefficients). The report then still succeeds, but each
failure is logged with a full Python traceback on stderr. A project of five
accounts is enough to show it. The same happened on a random log of 900,000
events and 26,421 accounts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


JALON = Path(sys.executable).parent / "jalon"
RUN_TIMEOUT_S = 600

CONFIG = """\
[project]
name = "Cox"

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
user_id = "user_id"
event = "event"
timestamp = "timestamp"

[accounts]
path = "accounts.csv"

[start]
column = "signup_at"

[observation]
end = "2026-03-01T00:00:00"

[churn]
event = "subscription_cancelled"

[[milestones]]
id = "third_report"
event = "report_shared"
count = 3
"""

ACCOUNTS = """\
account_id,signup_at
a1,2026-01-01T00:00:00
a2,2026-01-05T00:00:00
a3,2026-01-10T00:00:00
a4,2026-02-01T00:00:00
a7,2026-01-20T00:00:00
"""

# Only a1 reaches its third report (day 9) and it never churns. a4 churns
# on day 9 and a7 on day 5, neither after a third report, so no churn
# follows the milestone and the Cox fit has a singular matrix.
EVENTS = """\
account_id,user_id,event,timestamp
a1,u1,report_shared,2026-01-02T12:00:00
a1,u2,report_shared,2026-01-03T00:00:00
a1,u1,report_shared,2026-01-10T00:00:00
a3,u3,report_shared,2026-01-11T00:00:00
a4,u4,report_shared,2026-02-03T00:00:00
a4,u5,report_shared,2026-02-03T00:00:00
a4,u4,subscription_cancelled,2026-02-10T00:00:00
a4,u4,report_shared,2026-02-12T00:00:00
a7,u7,subscription_cancelled,2026-01-25T00:00:00
a7,u7,report_shared,2026-01-25T00:00:00
"""


def test_report_prints_no_traceback(tmp_path):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    config = tmp_path / "jalon.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [str(JALON), "report", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin", "JALON_LANG": "en", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    # a4 (2 reports, then churn) and a7 churn first: 2 of 5 accounts is 40.0%.
    assert "40.0% of accounts (2 of 5) churned before reaching" in done.stdout
    assert "Traceback" not in done.stderr
