"""A small project whose late accounts are worked out by hand.

Fourteen accounts on three plans, observed until 2026-01-31 00:00 UTC. The
milestone ``first_post`` is the first ``post`` event; churn is the first
``cancel`` event.

=====  ==========  ==================================================
plan   signed up   accounts (day of the first post)
=====  ==========  ==================================================
pro    2026-01-01  p1..p5 on days 1..5; p6 never (30 days observed)
free   2026-01-11  f1..f3 on days 1..3, f4 on day 8, f5 on day 10;
                   f6 never (20 days observed)
team   2026-01-01  t1 never (30 days); t2 cancels on day 2, no post
=====  ==========  ==================================================

Kaplan-Meier (churn as censoring), time by which 75% reached (S <= 0.25):

* pro: S = 5/6, 4/6, 3/6, 2/6, 1/6 at days 1..5, so 5 days.
* free: S = 5/6, 4/6, 3/6 at days 1..3, 2/6 at day 8, 1/6 at day 10,
  so 10 days.
* team: no post, so no percentile: the overall one applies.
* overall (14 accounts): day 1 12/14; day 2 (2 posts, n=12) 10/14, then
  t2 censored; day 3 (n=9) 10/14*7/9 = 0.556; day 4 (n=7) 0.476; day 5
  (n=6) 0.397; day 8 (n=5) 0.317; day 10 (n=4) 0.238, so 10 days.

Late accounts: p6 (30 - 5 = 25 days late), t1 (30 - 10 = 20) and f6
(20 - 10 = 10). t2 churned, so it is not late.
"""

from __future__ import annotations

from pathlib import Path

END = "2026-01-31"
PRO_START = "2026-01-01T00:00:00"
FREE_START = "2026-01-11T00:00:00"
TEAM_START = "2026-01-01T00:00:00"

# (account, plan, signup, day of first post or None, day of cancel or None)
ACCOUNTS = [
    *[(f"p{i}", "pro", PRO_START, i, None) for i in range(1, 6)],
    ("p6", "pro", PRO_START, None, None),
    *[(f"f{i}", "free", FREE_START, i, None) for i in range(1, 4)],
    ("f4", "free", FREE_START, 8, None),
    ("f5", "free", FREE_START, 10, None),
    ("f6", "free", FREE_START, None, None),
    ("t1", "team", TEAM_START, None, None),
    ("t2", "team", TEAM_START, None, 2),
]
EXPECTED_LATE = {
    ("p6", "first_post"): (30.0, 5.0, 25.0),
    ("t1", "first_post"): (30.0, 10.0, 20.0),
    ("f6", "first_post"): (20.0, 10.0, 10.0),
}

CONFIG = """\
[project]
name = "Latecomers"

[events]
paths = ["events.csv"]
[events.columns]
account_id = "account_id"
event = "event"
timestamp = "timestamp"

[accounts]
path = "accounts.csv"
[accounts.columns]
account_id = "account_id"
segments = ["plan"]

[start]
column = "signup_at"

[observation]
end = "{end}"
horizons = [1, 7, 30]

[churn]
event = "cancel"

# The churn link is not under test here: a landmark past every account's
# follow-up makes it skip its Cox fits, which fail on fourteen accounts.
[analysis]
landmarks = [60]

[[milestones]]
id = "first_post"
name = "First post"
tier = "basic"
event = "post"
{extra}
"""


def _day(start: str, day: int, hour: int = 0) -> str:
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(start) + timedelta(days=day, hours=hour)
    return moment.isoformat()


def event_rows() -> list[str]:
    """Return the CSV rows of the events: a login at hour 1, then posts and cancels."""
    rows = []
    for account, _plan, start, post_day, cancel_day in ACCOUNTS:
        rows.append(f"{account},login,{_day(start, 0, 1)}")
        if post_day is not None:
            rows.append(f"{account},post,{_day(start, post_day)}")
        if cancel_day is not None:
            rows.append(f"{account},cancel,{_day(start, cancel_day)}")
    return rows


def write_project(folder: Path, extra: str = "") -> Path:
    """Write the project's CSV files and jalon.toml; return the jalon.toml path.

    ``extra`` is TOML appended to the config, such as an ``[alerts]`` table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    events = ["account_id,event,timestamp", *event_rows()]
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    accounts = ["account_id,plan,signup_at"]
    accounts += [f"{a},{plan},{start}" for a, plan, start, _p, _c in ACCOUNTS]
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n", encoding="utf-8")
    path = folder / "jalon.toml"
    path.write_text(CONFIG.format(end=END, extra=extra), encoding="utf-8")
    return path
