"""Every condition shape on both engines: identical per-account and life tables.

One config holds one milestone per condition shape, so Spark builds the
per-account table once. Accounts (start = ``signup_at``, end = day 10):

* a1, plan pro, start day 0: login 01:00 (u1), project_created 05:00
  (score 3), login day 1 02:00 (u2), project_created day 2 (u2, score 0),
  invite_sent day 2 01:00.
* a2, plan free, start day 1: login day 1 01:00, project_created day 3
  01:00 (score 5), cancelled day 4 (churn), project_created day 5.
* a3, no plan, start day 0: project_created day 0 00:00, login day -1
  (before the start, not used), invite_sent day 0 12:00, login day 6 (u2).
* a4, plan pro, start day 2: no events.
"""

from __future__ import annotations

import pandas as pd
import pytest
from engines_harness import Row, at, make_config, run_engine

ACCOUNTS = {
    "a1": {"signup_at": at(0), "plan": "pro"},
    "a2": {"signup_at": at(1), "plan": "free"},
    "a3": {"signup_at": at(0)},
    "a4": {"signup_at": at(2), "plan": "pro"},
}
EVENTS = [
    Row("a1", "login", at(0, 1)),
    Row("a1", "project_created", at(0, 5), score=3),
    Row("a1", "login", at(1, 2), user="u2"),
    Row("a1", "project_created", at(2), user="u2", score=0),
    Row("a1", "invite_sent", at(2, 1)),
    Row("a2", "login", at(1, 1)),
    Row("a2", "project_created", at(3, 1), score=5),
    Row("a2", "cancelled", at(4)),
    Row("a2", "project_created", at(5)),
    Row("a3", "project_created", at(0)),
    Row("a3", "login", at(-1)),
    Row("a3", "invite_sent", at(0, 12)),
    Row("a3", "login", at(6), user="u2"),
]
MILESTONES = [
    {"id": "first_project", "name": "First project", "event": "project_created"},
    {"id": "second_project", "name": "Second", "event": "project_created", "count": 2},
    {"id": "quick", "name": "Quick", "event": "project_created", "within": "1d"},
    {
        "id": "scored",
        "name": "Scored",
        "event": "project_created",
        "where": {"score": {"gt": 1}},
    },
    {"id": "two_kinds", "name": "Two kinds", "distinct": "event", "count": 2},
    {"id": "active2", "name": "Active twice", "active_days": 2},
    {"id": "two_users", "name": "Two users", "event": "login", "users": 2},
    {
        "id": "both",
        "name": "Both",
        "all_of": [{"event": "invite_sent"}, {"event": "project_created"}],
    },
    {
        "id": "either",
        "name": "Either",
        "any_of": [{"event": "invite_sent"}, {"event": "login"}],
    },
    {
        "id": "chain",
        "name": "Chain",
        "sequence": [{"event": "login"}, {"event": "project_created"}],
        "gap": "1d",
    },
]
CONFIG = make_config(
    MILESTONES, churn={"event": "cancelled"}, end="2024-03-11", segments=["plan"]
)

# (account, milestone) -> (status, days). 1 reached, 2 churned first, 0 censored.
# a2 churns on day 4, 3 days after its start on day 1. a4 is censored at
# 10 - 2 = 8 days, a1 and a3 at 10 days.
EXPECTED = {
    ("a1", "first_project"): (1, 5 / 24),  # 05:00 on day 0
    ("a2", "first_project"): (1, 2 + 1 / 24),  # day 3 01:00 - day 1
    ("a3", "first_project"): (1, 0.0),  # at the start instant
    ("a4", "first_project"): (0, 8.0),
    ("a1", "second_project"): (1, 2.0),  # the second one, day 2
    ("a2", "second_project"): (2, 3.0),  # second on day 5, after churn
    ("a3", "second_project"): (0, 10.0),
    ("a2", "quick"): (2, 3.0),  # 2 days 1 hour is outside 1 day
    ("a3", "quick"): (1, 0.0),
    ("a3", "scored"): (0, 10.0),  # its project has no score
    ("a2", "scored"): (1, 2 + 1 / 24),
    ("a3", "two_kinds"): (1, 0.5),  # project at 0, invite at 12:00
    ("a1", "active2"): (1, 1 + 2 / 24),  # second active day starts day 1 02:00
    ("a3", "active2"): (1, 6.0),  # the day -1 login is not used
    ("a1", "two_users"): (1, 1 + 2 / 24),  # u2's first login
    ("a2", "two_users"): (2, 3.0),
    ("a3", "two_users"): (0, 10.0),  # one user after the start
    ("a1", "both"): (1, 2 + 1 / 24),  # the later of invite and project
    ("a3", "both"): (1, 0.5),
    ("a1", "either"): (1, 1 / 24),  # the earlier: login at 01:00
    ("a3", "either"): (1, 0.5),
    ("a1", "chain"): (1, 5 / 24),  # login 01:00 then project 05:00
    ("a2", "chain"): (2, 3.0),  # project 2 days after login: gap too long
    ("a3", "chain"): (0, 10.0),  # no project after its day 6 login
}


@pytest.fixture(scope="module")
def outputs(engine_store):
    """The engine under test's output and DuckDB's, on the same log."""
    store, reference = engine_store(EVENTS, ACCOUNTS)
    return run_engine(store, CONFIG), run_engine(reference, CONFIG)


def test_account_table_matches_duckdb(outputs):
    tested, reference = outputs
    pd.testing.assert_frame_equal(tested.accounts, reference.accounts, check_exact=True)


def test_life_tables_match_duckdb(outputs):
    tested, reference = outputs
    assert sorted(tested.life_tables) == sorted(reference.life_tables)
    for key, table in reference.life_tables.items():
        pd.testing.assert_frame_equal(
            tested.life_tables[key], table, check_exact=True, obj=key
        )


def test_kaplan_meier_matches_duckdb(outputs):
    tested, reference = outputs
    for key, curve in reference.kaplan_meier.items():
        pd.testing.assert_frame_equal(
            tested.kaplan_meier[key], curve, rtol=1e-12, atol=0, obj=key
        )


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=lambda c: f"{c[0]}-{c[1]}")
def test_status_and_days_by_hand(outputs, case):
    tested, _ = outputs
    account, milestone = case
    status, days = EXPECTED[case]
    assert tested.cell(account, f"m_{milestone}_status") == status
    assert tested.cell(account, f"m_{milestone}_days") == pytest.approx(days, abs=1e-12)


def test_churn_columns_by_hand(outputs):
    tested, _ = outputs
    assert tested.cell("a2", "churn_at") == at(4)
    assert tested.cell("a2", "churn_days") == 3.0
    assert tested.cell("a1", "churn_status") == 0
    assert tested.cell("a4", "churn_days") == 8.0


def test_first_project_curve_by_hand(outputs):
    tested, _ = outputs
    curve = tested.kaplan_meier["first_project"]
    # Times 0 (a3), 5/24 (a1), 2 + 1/24 (a2) reach; a4 is censored at 8.
    # S = 3/4, then 3/4 * 2/3 = 1/2, then 1/2 * 1/2 = 1/4, unchanged at 8.
    assert curve["survival"].tolist() == pytest.approx([0.75, 0.5, 0.25, 0.25])
    assert curve["n_at_risk"].tolist() == [4, 3, 2, 1]


def test_segment_life_table_by_hand(outputs):
    tested, _ = outputs
    table = tested.life_tables["first_project/plan"]
    pro = table[table["group"] == "pro"]
    # a1 reaches at 5/24; a4 (start day 2) is censored at 8 days.
    assert pro["time"].tolist() == pytest.approx([5 / 24, 8.0])
    assert pro["n_event"].tolist() == [1, 0]
    assert pro["n_censored"].tolist() == [0, 1]
    assert sorted(table["group"].unique()) == ["(unknown)", "free", "pro"]


def test_exclusions_by_hand(outputs):
    tested, _ = outputs
    # a3's login on day -1 precedes its start.
    assert tested.event_exclusions["before_start"] == 1
    assert tested.event_exclusions["not_in_accounts"] == 0
    assert tested.account_exclusions["no_start"] == 0
