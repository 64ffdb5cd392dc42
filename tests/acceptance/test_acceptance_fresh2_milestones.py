"""Milestone times computed by hand for each kind in docs/en/configuration.md.

Some accounts have matching events before their start or after the
observation end. Others have no events, no start, or a start after the end.
The log also contains events of an unknown account, a duplicate row and
churn. Figures come from the Python API in the README
(``jalon.analyze``). ``naive_mean_days`` averages the days of the accounts
that reached a milestone, so with one or two such accounts it shows their
exact times.
"""

from __future__ import annotations

import pytest

import jalon

CONFIG = """\
[project]
name = "Hand"
memory_limit = "1GB"

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
user_id = "user_id"
event = "event"
timestamp = "timestamp"
properties = "*"

[accounts]
path = "accounts.csv"

[start]
column = "signup_at"

[starts.trial]
column = "trial_at"

[observation]
end = "2026-03-01T00:00:00"

[churn]
event = "subscription_cancelled"

[[milestones]]
id = "first_report"
event = "report_shared"

[[milestones]]
id = "third_report"
event = "report_shared"
count = 3

[[milestones]]
id = "two_reports_2d"
event = "report_shared"
count = 2
within = "2d"

[[milestones]]
id = "report_36h"
event = "report_shared"
within = "36h"

[[milestones]]
id = "pdf_export"
event = "export"
where = { format = "pdf" }

[[milestones]]
id = "active3"
active_days = 3

[[milestones]]
id = "feature2"
event = "feature_used"
distinct = "feature"
count = 2

[[milestones]]
id = "kinds3"
distinct = "event"
count = 3

[[milestones]]
id = "trial_report"
event = "report_shared"
start = "trial"

[[milestones]]
id = "two_users"
event = "report_shared"
users = 2
"""

# a5 starts after the end, a6 has no start, x9 is not in the accounts file.
ACCOUNTS = """\
account_id,signup_at,trial_at
a1,2026-01-01T00:00:00,2025-12-30T00:00:00
a2,2026-01-05T00:00:00,
a3,2026-01-10T00:00:00,2026-01-12T00:00:00
a4,2026-02-01T00:00:00,2026-02-01T00:00:00
a5,2026-03-05T00:00:00,
a6,,
a7,2026-01-20T00:00:00,
"""

EVENTS = """\
account_id,user_id,event,timestamp,format,feature
a1,u1,report_shared,2025-12-31T12:00:00,,
a1,u1,export,2025-12-31T13:00:00,pdf,
a1,u1,report_shared,2026-01-02T12:00:00,,
a1,u2,report_shared,2026-01-03T00:00:00,,
a1,u1,report_shared,2026-01-10T00:00:00,,
a1,u1,report_shared,2026-01-10T00:00:00,,
a1,u1,export,2026-01-04T06:00:00,csv,
a1,u1,export,2026-01-06T00:00:00,pdf,
a1,u1,feature_used,2026-01-01T05:00:00,,alpha
a1,u1,feature_used,2026-01-01T20:00:00,,beta
a1,u1,feature_used,2026-01-02T01:00:00,,alpha
a1,u1,feature_used,2026-03-02T00:00:00,,gamma
a3,u3,report_shared,2026-01-09T00:00:00,,
a3,u3,report_shared,2026-01-09T12:00:00,,
a3,u3,report_shared,2026-01-11T00:00:00,,
a3,u3,export,2026-01-11T06:00:00,pdf,
a3,u3,export,2026-03-01T00:00:00,csv,
a3,u3,report_shared,2026-03-01T00:00:01,,
a4,u4,subscription_cancelled,2026-01-31T00:00:00,,
a4,u4,report_shared,2026-02-03T00:00:00,,
a4,u5,report_shared,2026-02-03T00:00:00,,
a4,u4,subscription_cancelled,2026-02-10T00:00:00,,
a4,u4,report_shared,2026-02-12T00:00:00,,
a5,u8,report_shared,2026-02-20T00:00:00,,
a6,u6,report_shared,2026-01-15T00:00:00,,
a7,u7,subscription_cancelled,2026-01-25T00:00:00,,
a7,u7,report_shared,2026-01-25T00:00:00,,
x9,u9,report_shared,2026-01-15T00:00:00,,
x9,u9,export,2026-01-16T00:00:00,pdf,
"""

# Per milestone: (reached, churned first, censored, mean days of the reached).
# Usable events start at each account's start and end at 2026-03-01 00:00.
# a4 churns on day 9 (02-10), because its 01-31 cancellation is before its start.
# a7 churns on day 5 (01-25), the same instant as its report, which counts as reached.
EXPECTED = {
    # a1 01-02 12:00 = 1.5, a3 01-11 = 1.0, a4 02-03 = 2.0, a7 = 5.0; mean 9.5 / 4.
    "first_report": (4, 0, 1, 2.375),
    # a1: 01-02 12:00, 01-03, 01-10 (the 12-31 one is before its start) = 9.0.
    # a3 has 1 usable report, a4's third (02-12) follows its churn.
    "third_report": (1, 2, 2, 9.0),
    # a1 second report at 01-03 00:00 = 2.0 days exactly (inclusive), a4 2.0.
    "two_reports_2d": (2, 1, 2, 2.0),
    # a1 1.5 = 36 h (inclusive), a3 1.0; a4 (2.0) is too late and churns.
    "report_36h": (2, 2, 1, 1.25),
    # a1 pdf 01-06 = 5.0 (12-31 is before start), a3 01-11 06:00 = 1.25.
    "pdf_export": (2, 2, 1, 3.125),
    # a1 active on days 0, 1, 2: first event of day 2 at 01-03 00:00 = 2.0.
    "active3": (1, 2, 2, 2.0),
    # a1 alpha at 05:00, beta at 20:00 on 01-01 = 20 / 24 days.
    "feature2": (1, 2, 2, 20 / 24),
    # a1 feature_used 01-01, report_shared 01-02, export 01-04 06:00 = 3.25.
    "kinds3": (1, 2, 2, 3.25),
    # From trial_at: a1 12-30 to 12-31 12:00 = 1.5, a4 2.0; a3 censored,
    # a2 and a7 have no trial start.
    "trial_report": (2, 0, 1, 1.75),
    # a1 u1 01-02 12:00 and u2 01-03 = 2.0; a4 u4 and u5 at 02-03 = 2.0.
    "two_users": (2, 1, 2, 2.0),
}


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    (folder / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    (folder / "jalon.toml").write_text(CONFIG, encoding="utf-8")
    return jalon.analyze(folder / "jalon.toml")


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("identifier", list(EXPECTED))
def test_milestone_counts_and_days(analysis, identifier):
    reached, churned, censored, mean_days = EXPECTED[identifier]
    overall = analysis.milestone(identifier).overall
    assert overall.n_reached == reached
    assert overall.n_churned_first == churned
    assert overall.n_censored == censored
    assert overall.naive_mean_days == pytest.approx(mean_days, abs=1e-9)


@pytest.mark.filterwarnings("ignore")
def test_exclusion_counts(analysis):
    population = analysis.population
    assert population.n_accounts == 5
    assert population.excluded_accounts == {"no_start": 1, "start_after_end": 1}
    # Before start: a1 2, a3 2, a4 1. After end: a1 03-02, a3 03-01 00:00:01.
    assert population.excluded_events == {
        "after_end": 2,
        "before_start": 5,
        "duplicate": 1,
        "no_start": 1,
        "not_in_accounts": 2,
        "start_after_end": 1,
    }
    # 29 rows less 12 excluded.
    assert population.n_events_used == 17
    assert analysis.milestone("trial_report").excluded == {"no_milestone_start": 2}


SEQUENCE_CONFIG = """\
[project]
name = "Sequence"

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"

[start]
event = "signed_up"

[observation]
end = "2026-02-01T00:00:00"

[[milestones]]
id = "setup_then_report"
sequence = [ { event = "setup" }, { event = "report_shared" } ]
"""

# s1 and s2 contain the same events at the same times, only in another row order.
SEQUENCE_EVENTS = """\
account_id,event,timestamp
s1,signed_up,2026-01-10T00:00:00
s1,setup,2026-01-11T00:00:00
s1,report_shared,2026-01-11T00:00:00
s2,signed_up,2026-01-10T00:00:00
s2,report_shared,2026-01-11T00:00:00
s2,setup,2026-01-11T00:00:00
"""


def test_sequence_step_strictly_after(tmp_path):
    (tmp_path / "events.csv").write_text(SEQUENCE_EVENTS, encoding="utf-8")
    (tmp_path / "jalon.toml").write_text(SEQUENCE_CONFIG, encoding="utf-8")
    overall = jalon.analyze(tmp_path / "jalon.toml").milestone("setup_then_report").overall
    # No report follows a setup strictly later: both accounts are censored.
    assert overall.n_reached == 0
    assert overall.n_censored == 2
