"""Each churn rule and each kind of start on both engines.

Accounts for the churn rules (end = day 10):

* b1, start day 0, last_seen_at day 3, cancelled_at day 5: login day 1,
  project_created day 2, login day 4.
* b2, start day 0, last_seen_at day 9: login day 0 06:00, project_created
  day 8.
* b3, start day 1, cancelled_at day 0 (before its start): no events.
"""

from __future__ import annotations

import pandas as pd
import pytest
from engines_harness import Row, at, make_config, run_engine

ACCOUNTS = {
    "b1": {"signup_at": at(0), "last_seen_at": at(3), "cancelled_at": at(5)},
    "b2": {"signup_at": at(0), "last_seen_at": at(9)},
    "b3": {"signup_at": at(1), "cancelled_at": at(0)},
}
EVENTS = [
    Row("b1", "login", at(1)),
    Row("b1", "project_created", at(2)),
    Row("b1", "login", at(4)),
    Row("b2", "login", at(0, 6)),
    Row("b2", "project_created", at(8)),
]
PROJECT = [{"id": "project", "name": "Project", "event": "project_created"}]
CHURN_RULES = {
    "inactivity": {"inactivity_days": 6},
    "last_seen": {"inactivity_days": 6, "last_seen_column": "last_seen_at"},
    "column": {"column": "cancelled_at"},
}

# rule -> account -> (churn_status, churn_days, project status, project days)
EXPECTED = {
    # b1 is idle from day 4 to day 10: exactly 6 days, which counts as churned.
    # b3 has no events, so its start (day 1) is its last activity.
    "inactivity": {
        "b1": (1, 4.0, 1, 2.0),
        "b2": (0, 10.0, 1, 8.0),
        "b3": (1, 0.0, 2, 0.0),
    },
    # b1 was last seen on day 3 (7 idle days), b2 on day 9 (1 idle day).
    "last_seen": {
        "b1": (1, 3.0, 1, 2.0),
        "b2": (0, 10.0, 1, 8.0),
        "b3": (1, 0.0, 2, 0.0),
    },
    # b3's cancellation precedes its start, so it churns at its start.
    "column": {
        "b1": (1, 5.0, 1, 2.0),
        "b2": (0, 10.0, 1, 8.0),
        "b3": (1, 0.0, 2, 0.0),
    },
}

# Start from events, no accounts table: c1 and c2 sign up, c3 never does.
START_EVENTS = [
    Row("c1", "signed_up", at(0)),
    Row("c1", "trial_started", at(1)),
    Row("c1", "project_created", at(3)),
    Row("c2", "signed_up", at(2)),
    Row("c2", "project_created", at(2, 12)),
    Row("c3", "login", at(1)),
]
START_CONFIG = make_config(
    [
        {"id": "project", "name": "Project", "event": "project_created"},
        {
            "id": "trial_project",
            "name": "Project in trial",
            "event": "project_created",
            "start": "trial",
        },
    ],
    start={"event": "signed_up"},
    starts={"trial": {"event": "trial_started"}},
    with_accounts=False,
    end="2024-03-11",
)


@pytest.fixture(scope="module")
def churn_outputs(engine_store):
    """Per rule: the engine under test's output and DuckDB's."""
    store, reference = engine_store(EVENTS, ACCOUNTS)
    outputs = {}
    for rule, churn in CHURN_RULES.items():
        config = make_config(PROJECT, churn=churn, end="2024-03-11")
        outputs[rule] = (run_engine(store, config), run_engine(reference, config))
    return outputs


@pytest.fixture(scope="module")
def start_outputs(engine_store):
    store, reference = engine_store(START_EVENTS)
    return run_engine(store, START_CONFIG), run_engine(reference, START_CONFIG)


@pytest.mark.parametrize("rule", sorted(CHURN_RULES))
def test_churn_rule_tables_match_duckdb(churn_outputs, rule):
    tested, reference = churn_outputs[rule]
    pd.testing.assert_frame_equal(tested.accounts, reference.accounts, check_exact=True)
    for key, table in reference.life_tables.items():
        pd.testing.assert_frame_equal(
            tested.life_tables[key], table, check_exact=True, obj=key
        )


@pytest.mark.parametrize(
    "rule,account",
    [
        (rule, account)
        for rule in sorted(EXPECTED)
        for account in sorted(EXPECTED[rule])
    ],
)
def test_churn_rule_by_hand(churn_outputs, rule, account):
    tested, _ = churn_outputs[rule]
    churn_status, churn_days, status, days = EXPECTED[rule][account]
    assert tested.cell(account, "churn_status") == churn_status
    assert tested.cell(account, "churn_days") == churn_days
    assert tested.cell(account, "m_project_status") == status
    assert tested.cell(account, "m_project_days") == days


def test_event_start_tables_match_duckdb(start_outputs):
    tested, reference = start_outputs
    pd.testing.assert_frame_equal(tested.accounts, reference.accounts, check_exact=True)
    for key, table in reference.life_tables.items():
        pd.testing.assert_frame_equal(
            tested.life_tables[key], table, check_exact=True, obj=key
        )


def test_event_start_by_hand(start_outputs):
    tested, _ = start_outputs
    # c1: project on day 3, 2 days after its trial started on day 1.
    assert tested.cell("c1", "m_project_days") == 3.0
    assert tested.cell("c1", "m_trial_project_days") == 2.0
    # c2: 12 hours after signing up; it has no trial start, so it is excluded.
    assert tested.cell("c2", "m_project_days") == 0.5
    assert tested.cell("c2", "m_trial_project_status") is None
    # c3 never signed up: one account and its one event are excluded.
    assert tested.accounts["account_id"].tolist() == ["c1", "c2"]
    assert tested.account_exclusions["no_start"] == 1
    assert tested.event_exclusions["no_start"] == 1


def test_trial_life_table_leaves_out_no_start(start_outputs):
    tested, _ = start_outputs
    table = tested.life_tables["trial_project/all"]
    # Only c1 has a trial start: one event at 2 days.
    assert table["time"].tolist() == [2.0]
    assert table["n_event"].tolist() == [1]
