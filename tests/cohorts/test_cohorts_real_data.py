"""Funnels and cohorts on the Stack Exchange quantum computing data set.

Weekly retention is checked against a separate pandas computation, and the
funnel against counts taken directly from the events.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from jalon.cohorts import compute_cohorts, parse_cohorts
from jalon.funnels import compute_funnel, parse_funnel

DATA = Path(__file__).parents[2] / ".." / "shared" / "data" / "stackexchange_qc"
END = dt.datetime(2018, 9, 2)
WEEK_SECONDS = 7 * 86400
PERIODS = 8

pytestmark = pytest.mark.skipif(
    not (DATA / "events.csv.gz").exists(),
    reason="the stackexchange_qc data set is absent",
)


@pytest.fixture(scope="module")
def frames():
    events = pd.read_csv(DATA / "events.csv.gz", dtype={"user_id": str})
    events = events.rename(columns={"user_id": "account_id", "timestamp": "ts"})
    events["user_id"] = events["account_id"]
    events["ts"] = pd.to_datetime(events["ts"]).astype("datetime64[us]")
    events["_seq"] = np.arange(1, len(events) + 1)
    events = events[["account_id", "user_id", "event", "ts", "_seq", "badge"]]
    events = events.rename(columns={"badge": "p_badge"})

    accounts = pd.read_csv(DATA / "accounts.csv", dtype={"user_id": str})
    accounts = accounts.rename(
        columns={"user_id": "account_id", "signup_at": "start_at"}
    )
    accounts["start_at"] = pd.to_datetime(accounts["start_at"]).astype("datetime64[us]")
    accounts["end_at"] = pd.Timestamp(END).as_unit("us")
    accounts["churn_at"] = pd.Series(
        pd.NaT, index=accounts.index, dtype="datetime64[us]"
    )
    return events, accounts[["account_id", "start_at", "end_at", "churn_at"]]


@pytest.fixture(scope="module")
def tables(frames, tmp_path_factory):
    con = ibis.duckdb.connect(str(tmp_path_factory.mktemp("se") / "store.duckdb"))
    events, accounts = frames
    return con.create_table("events", events), con.create_table("accounts", accounts)


def pandas_weekly_retention(
    events: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """Active accounts per calendar-week cohort and week, computed row by row."""
    joined = events.merge(accounts, on="account_id")
    joined = joined[(joined.ts >= joined.start_at) & (joined.ts <= END)]
    week = joined.ts.dt.to_period("W-SUN").dt.start_time
    cohort = joined.start_at.dt.to_period("W-SUN").dt.start_time
    joined = joined.assign(
        cohort=cohort,
        period=((week - cohort).dt.total_seconds() // WEEK_SECONDS).astype(int),
    )
    active = joined[["account_id", "cohort", "period"]].drop_duplicates()
    counts = active.groupby(["cohort", "period"]).size().unstack(fill_value=0)
    return counts.reindex(columns=range(PERIODS), fill_value=0)


def test_weekly_active_counts_match_pandas(frames, tables):
    spec = parse_cohorts({"period": "week", "periods": PERIODS}, "cohorts")
    result = compute_cohorts(*tables, spec)
    expected = pandas_weekly_retention(*frames)
    observed = result.active.loc[expected.index]

    assert result.n_accounts == len(frames[1])
    np.testing.assert_array_equal(observed.to_numpy(), expected.to_numpy())


def test_weekly_last_cohorts_not_observable(tables):
    spec = parse_cohorts({"period": "week", "periods": PERIODS}, "cohorts")
    result = compute_cohorts(*tables, spec)

    # The cohort of the week of Aug 27, 2018 has only week 0 ending by Sep 2...
    # and week 0 itself ends Sep 3, after the end: nothing is observable.
    last = result.observable.loc[pd.Timestamp("2018-08-27")]
    assert not last.any()
    assert result.retention.loc[pd.Timestamp("2018-08-27")].isna().all()


def test_funnel_on_real_events(frames, tables):
    spec = parse_funnel(
        {
            "id": "first_answer",
            "window": "30d",
            "steps": [
                {
                    "name": "Read the tour",
                    "event": "badge_earned",
                    "where": {"badge": "Informed"},
                },
                {"event": "comment_posted"},
                {"event": "answer_posted"},
            ],
        },
        "funnels[0]",
    )
    result = compute_funnel(
        tables[0], spec, accounts=tables[1], properties={"badge": "p_badge"}
    )
    events, accounts = frames
    joined = events.merge(accounts, on="account_id")
    informed = joined[(joined.p_badge == "Informed") & (joined.ts >= joined.start_at)]
    steps = result.steps

    assert steps.n_reached.iloc[0] == informed.account_id.nunique()
    for index in (1, 2):
        row, previous = steps.iloc[index], steps.iloc[index - 1]
        total = row.n_reached + row.n_still_in_window + row.n_dropped
        assert total == previous.n_reached
