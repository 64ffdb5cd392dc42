"""Cohort retention, churn, spikes and TTV, hand-computed on a DuckDB file."""

from __future__ import annotations

import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from jalon.cohorts import compute_cohorts, parse_cohorts
from jalon.cohorts.result import CAVEAT_FEW_AT_RISK, CAVEAT_NOT_OBSERVABLE

NAN = float("nan")


def day(month: int, date: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, date, hour)


@pytest.fixture
def con(tmp_path):
    return ibis.duckdb.connect(str(tmp_path / "store.duckdb"))


def write(con, events, accounts):
    """Write event rows ``(account_id, event, ts)`` and account rows to the store."""
    frame = pd.DataFrame(events, columns=["account_id", "event", "ts"])
    frame["user_id"] = "u"
    frame["_seq"] = range(1, len(frame) + 1)
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    con.create_table("events", frame, overwrite=True)
    table = pd.DataFrame(
        accounts,
        columns=[
            "account_id",
            "start_at",
            "churn_at",
            "m_first_days",
            "m_first_status",
        ],
    )
    table["start_at"] = table["start_at"].astype("datetime64[us]")
    table["churn_at"] = pd.to_datetime(table["churn_at"]).astype("datetime64[us]")
    table["end_at"] = pd.Timestamp(END).as_unit("us")
    con.create_table("accounts", table, overwrite=True)
    return con.table("events"), con.table("accounts")


# Observation end: Monday 2024-01-29. Weekly cohorts start on Mondays:
# Jan 1, Jan 8, Jan 15, Jan 22.
END = day(1, 29)

WEEKLY_EVENTS = [
    # a (cohort Jan 1): active in weeks 0, 1 and 3.
    ("a", "login", day(1, 2)),
    ("a", "login", day(1, 9)),
    ("a", "login", day(1, 23)),
    # b (cohort Jan 1): active in weeks 0 and 2.
    ("b", "login", day(1, 3, 12)),
    ("b", "login", day(1, 16)),
    # d (cohort Jan 8, starts Jan 9): one event before its start, then
    # active in weeks 0 and 1.
    ("d", "login", day(1, 8, 12)),
    ("d", "login", day(1, 10)),
    ("d", "login", day(1, 17)),
    # e (cohort Jan 22): active in week 0.
    ("e", "login", day(1, 23)),
    # z is not in the accounts table; a's last event is after the end.
    ("z", "login", day(1, 10)),
    ("a", "login", day(1, 30)),
    # An event that is not activity when activity = ["login"].
    ("c", "page_view", day(1, 6)),
]

WEEKLY_ACCOUNTS = [
    # account, start, churn, TTV days, TTV status (1 reached, 2 churned, 0 open)
    ("a", day(1, 1, 10), None, 1.0, 1),
    ("b", day(1, 3), day(1, 18), 2.0, 1),
    ("c", day(1, 5), day(1, 6), 1.0, 2),
    ("d", day(1, 9), None, 3.0, 0),
    ("e", day(1, 22), None, 0.5, 1),
]


@pytest.fixture
def weekly(con):
    events, accounts = write(con, WEEKLY_EVENTS, WEEKLY_ACCOUNTS)
    spec = parse_cohorts(
        {"period": "week", "activity": ["login"], "periods": 4}, "cohorts"
    )
    return compute_cohorts(events, accounts, spec, milestones=["first"])


def rows(matrix):
    return [list(values) for values in matrix.to_numpy()]


def test_weekly_cohort_sizes(weekly):
    assert weekly.cohort_sizes.index.tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-08"),
        pd.Timestamp("2024-01-22"),
    ]
    assert weekly.cohort_sizes.tolist() == [3, 1, 1]


def test_weekly_caveat_not_observable(weekly):
    assert CAVEAT_NOT_OBSERVABLE in weekly.caveats


def test_weekly_observable_cells(weekly):
    # Period k of the cohort starting on day D ends on D + 7(k+1) days, and
    # must end by Jan 29: Jan 1 -> k <= 3, Jan 8 -> k <= 2, Jan 22 -> k = 0.
    assert rows(weekly.observable) == [
        [True, True, True, True],
        [True, True, True, False],
        [True, False, False, False],
    ]


def test_weekly_retention(weekly):
    expected = [
        # Jan 1: weeks 0 (a, b), 1 (a), 2 (b), 3 (a) of 3 accounts.
        [2 / 3, 1 / 3, 1 / 3, 1 / 3],
        # Jan 8: d in weeks 0 and 1; week 2 observed with no activity is 0.
        [1.0, 1.0, 0.0, NAN],
        [1.0, NAN, NAN, NAN],
    ]
    np.testing.assert_allclose(weekly.retention.to_numpy(), expected)


def test_weekly_retention_or_later(weekly):
    expected = [
        # Latest active week: a 3, b 2, c none -> 2, 2, 2, 1 of 3.
        [2 / 3, 2 / 3, 2 / 3, 1 / 3],
        [1.0, 1.0, 0.0, NAN],
        [1.0, NAN, NAN, NAN],
    ]
    np.testing.assert_allclose(weekly.retention_or_later.to_numpy(), expected)


def test_weekly_churn_and_hazard(weekly):
    # Jan 1 cohort: c churns on Jan 6 (week 0), b on Jan 18 (week 2).
    churn = [[1 / 3, 0.0, 1 / 3, 0.0], [0.0, 0.0, 0.0, NAN], [0.0, NAN, NAN, NAN]]
    # At risk: 3, 2, 2, 1 -> hazards 1/3, 0/2, 1/2, 0/1.
    hazard = [[1 / 3, 0.0, 1 / 2, 0.0], [0.0, 0.0, 0.0, NAN], [0.0, NAN, NAN, NAN]]

    np.testing.assert_allclose(weekly.churn.to_numpy(), churn)
    np.testing.assert_allclose(weekly.churn_hazard.to_numpy(), hazard)
    assert weekly.at_risk.iloc[0].tolist() == [3, 2, 2, 1]


def test_weekly_churn_spike(weekly):
    spike = weekly.churn_spike

    # Jan 1 peaks in week 2 (1/2 > 1/3); the other cohorts have no churn.
    assert spike.period.iloc[0] == 2
    assert spike.churn_hazard.iloc[0] == pytest.approx(0.5)
    assert spike.period.iloc[1:].isna().tolist() == [True, True]


def test_weekly_left_out_events(weekly):
    assert weekly.excluded_events == {
        "after_end": 1,
        "before_start": 1,
        "not_in_accounts": 1,
    }


def test_weekly_median_ttv_matches_lifelines(weekly):
    ttv = weekly.median_ttv
    first = ttv[ttv.cohort == pd.Timestamp("2024-01-01")].iloc[0]
    # a reached at 1 day, b at 2 days, c churned at 1 day (censored):
    # S(1) = 2/3, S(2) = 0, so the median is 2 days.
    fitter = KaplanMeierFitter().fit([1.0, 2.0, 1.0], [1, 1, 0])
    limits = median_survival_times(fitter.confidence_interval_)

    assert first.median_days == pytest.approx(fitter.median_survival_time_)
    assert first.median_days == pytest.approx(2.0)
    assert first.median_lower == pytest.approx(limits.iloc[0, 0])
    assert (first.n_reached, first.n_churned_first) == (2, 1)
    # One account was still observed at 2 days, fewer than 10.
    assert first.few_at_risk
    assert CAVEAT_FEW_AT_RISK in weekly.caveats
    # Jan 8: d never reached it, so there is no median.
    assert math.isnan(ttv[ttv.cohort == pd.Timestamp("2024-01-08")].median_days.iloc[0])
    assert ttv[ttv.cohort == pd.Timestamp("2024-01-22")].median_days.iloc[0] == 0.5


def test_weekly_ttv_trend_over_cohorts(weekly):
    trend = weekly.ttv_trend

    assert trend.milestone.tolist() == ["first"]
    assert trend.n_cohorts.tolist() == [3]
    assert trend.p_value.between(0, 1).all()


def test_any_event_counts_as_activity(con):
    events, accounts = write(con, WEEKLY_EVENTS, WEEKLY_ACCOUNTS)
    spec = parse_cohorts({"period": "week", "periods": 4}, "cohorts")
    result = compute_cohorts(events, accounts, spec)

    # c's page_view on Jan 6 now counts: Jan 1 week 0 has a, b and c.
    assert result.retention.iloc[0, 0] == pytest.approx(1.0)


DAILY_EVENTS = [("g", "login", day(1, 2, 1))]
DAILY_ACCOUNTS = [("g", day(1, 1, 23), None, 1.0, 0)]


@pytest.mark.parametrize(
    ("anchor", "active", "observable"),
    [
        # Calendar days: the event on Jan 2 is day 1; days 0 and 1 end by
        # Jan 3 00:00.
        ("calendar", [0, 1, 0], [True, True, False]),
        # From the start (Jan 1 23:00): the event 2h later is day 0; day 0
        # ends Jan 2 23:00, day 1 ends Jan 3 23:00, after the end.
        ("start", [1, 0, 0], [True, False, False]),
    ],
)
def test_daily_cohorts_by_anchor(con, anchor, active, observable):
    events, accounts = write(con, DAILY_EVENTS, DAILY_ACCOUNTS)
    spec = parse_cohorts({"period": "day", "periods": 3, "anchor": anchor}, "cohorts")
    result = compute_cohorts(events, accounts, spec, observation_end=day(1, 3))

    assert result.active.iloc[0].tolist() == active
    assert result.observable.iloc[0].tolist() == observable


MONTHLY_EVENTS = [
    ("f", "login", day(2, 1)),
    ("f", "login", day(3, 20)),
]
MONTHLY_ACCOUNTS = [("f", day(1, 15), day(3, 25), 1.0, 1)]


@pytest.mark.parametrize(
    ("anchor", "active", "observable", "churned"),
    [
        # Calendar months from January: Feb 1 is month 1, Mar 20 month 2;
        # months 0-2 end by Apr 1; churn on Mar 25 is month 2.
        ("calendar", [0, 1, 1, 0], [True, True, True, False], [0, 0, 1, 0]),
        # From Jan 15: Feb 1 is before the Feb 15 anniversary (month 0),
        # Mar 20 is after Mar 15 (month 2); month 0 ends Feb 15, month 1
        # Mar 15, month 2 Apr 15 > Apr 1.
        ("start", [1, 0, 1, 0], [True, True, False, False], [0, 0, 1, 0]),
    ],
)
def test_monthly_cohorts_by_anchor(con, anchor, active, observable, churned):
    events, accounts = write(con, MONTHLY_EVENTS, MONTHLY_ACCOUNTS)
    spec = parse_cohorts({"period": "month", "periods": 4, "anchor": anchor}, "cohorts")
    result = compute_cohorts(events, accounts, spec, observation_end=day(4, 1))

    assert result.cohort_sizes.index.tolist() == [pd.Timestamp("2024-01-01")]
    assert result.active.iloc[0].tolist() == active
    assert result.observable.iloc[0].tolist() == observable
    assert result.churned.iloc[0].tolist() == churned


TWO_MONTH_EVENTS = [
    ("f", "login", day(2, 1)),
    ("f", "login", day(3, 20)),
    ("g", "login", day(1, 25)),
    ("g", "login", day(4, 2)),
    ("h", "login", day(2, 11)),
]
TWO_MONTH_ACCOUNTS = [
    ("f", day(1, 15), day(3, 25), 1.0, 1),
    ("g", day(1, 20), None, 1.0, 1),
    ("h", day(2, 10), day(2, 20), 1.0, 2),
]


@pytest.fixture
def monthly(con):
    events, accounts = write(con, TWO_MONTH_EVENTS, TWO_MONTH_ACCOUNTS)
    spec = parse_cohorts({"period": "month", "periods": 4}, "cohorts")
    return compute_cohorts(events, accounts, spec, observation_end=day(5, 1))


def test_monthly_retention_matrices(monthly):
    # January (f, g): g in month 0, f in months 1 and 2, g in month 3.
    # February (h): month 0 only; its month 3 ends Jun 1, after May 1.
    np.testing.assert_allclose(
        monthly.retention.to_numpy(), [[1 / 2, 1 / 2, 1 / 2, 1 / 2], [1, 0, 0, NAN]]
    )
    # Latest active month: f 2, g 3, h 0.
    np.testing.assert_allclose(
        monthly.retention_or_later.to_numpy(), [[1, 1, 1, 1 / 2], [1, 0, 0, NAN]]
    )


def test_monthly_churn_matrices(monthly):
    # f churns on Mar 25 (month 2 of January); h on Feb 20 (month 0 of February).
    np.testing.assert_allclose(
        monthly.churn.to_numpy(), [[0, 0, 1 / 2, 0], [1, 0, 0, NAN]]
    )
    # At risk: January 2, 2, 2, 1; February 1, 0, 0: no hazard without anyone at risk.
    np.testing.assert_allclose(
        monthly.churn_hazard.to_numpy(), [[0, 0, 1 / 2, 0], [1, NAN, NAN, NAN]]
    )
    assert monthly.churn_spike.period.tolist() == [2, 0]


def test_inactivity_churn_known_later(con):
    events, accounts = write(con, WEEKLY_EVENTS, WEEKLY_ACCOUNTS)
    spec = parse_cohorts(
        {"period": "week", "activity": ["login"], "periods": 4}, "cohorts"
    )
    # With churn after 10 days of inactivity, churn up to Jan 19 is known
    # by the end on Jan 29. Week k of the cohort of day D ends on
    # D + 7(k+1): Jan 1 -> weeks 0 and 1 (Jan 8, Jan 15), Jan 8 -> week 0
    # (Jan 15), Jan 22 -> none.
    result = compute_cohorts(
        events, accounts, spec, milestones=["first"], churn_known_after_days=10
    )

    assert rows(result.churn_observable) == [
        [True, True, False, False],
        [True, False, False, False],
        [False, False, False, False],
    ]
    # b's churn on Jan 18 (week 2) is no longer shown: its week ends Jan 22.
    churn = [[1 / 3, 0.0, NAN, NAN], [0.0, NAN, NAN, NAN], [NAN, NAN, NAN, NAN]]
    np.testing.assert_allclose(result.churn.to_numpy(), churn)
    # Retention does not depend on when churn is known.
    assert rows(result.observable) == rows(
        compute_cohorts(events, accounts, spec, milestones=["first"]).observable
    )
    # The spike of the Jan 1 cohort is week 0, the only known week with churn.
    assert result.churn_spike.period.iloc[0] == 0
