"""Churn link parts on small hand-made accounts, checked by hand or against lifelines."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter

from jalon.churn_link import (
    Estimate,
    Finding,
    landmark_comparison,
    landmark_population,
    parse_settings,
    restricted_mean,
    score_behaviour,
    time_varying_cox,
)
from jalon.churn_link.aha import behaviour_counts, held_out_mask, milestone_toml
from jalon.churn_link.cox import start_stop_rows
from jalon.churn_link.findings import rank_findings
from jalon.churn_link.ltv import lifetime_value
from jalon.errors import ConfigError


def test_aha_scores_hand_table():
    # 2x2 table of 10 accounts:
    #                retained  not retained
    #   behaviour        3          1        -> 4 with
    #   no behaviour     2          4        -> 6 without
    # reach = 4/10 = 0.4; precision = retention_with = 3/4 = 0.75
    # retention_without = 2/6 = 1/3; recall = 3/5 = 0.6
    # lift = 0.75 / (5/10) = 1.5
    # phi = (3*4 - 1*2) / sqrt(4*6*5*5) = 10 / sqrt(600) = 0.408248...
    behaviour = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    retained = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
    scores = score_behaviour(behaviour, retained)
    assert scores.reach == pytest.approx(0.4)
    assert scores.precision == pytest.approx(0.75)
    assert scores.retention_with == pytest.approx(0.75)
    assert scores.retention_without == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(0.6)
    assert scores.lift == pytest.approx(1.5)
    assert scores.phi == pytest.approx(10 / np.sqrt(600))


def test_aha_scores_undefined_phi():
    # Every account has the behaviour, so phi's denominator is 0.
    scores = score_behaviour(np.array([1, 1]), np.array([1, 0]))
    assert scores.phi is None
    assert scores.retention_without is None


def _frame() -> pd.DataFrame:
    """Eight accounts: days to churn or end, milestone days and statuses."""
    return pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(8)],
            # observed_days: start to the observation end.
            "observed_days": [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 5.0],
            "churn_days": [40.0, 100.0, 3.0, 20.0, 60.0, 100.0, 90.0, 5.0],
            "churn_status": [1, 0, 1, 1, 1, 0, 1, 0],
            "m_a_days": [2.0, 6.0, 3.0, 20.0, 12.0, 100.0, 8.0, 5.0],
            "m_a_status": [1.0, 1.0, 2.0, 2.0, 1.0, 0.0, 1.0, 0.0],
            "plan": ["x", "y", "x", "y", "x", "y", "x", "y"],
        }
    )


def test_landmark_population_by_hand():
    # Landmark day 7. a2 churned on day 3 (excluded), a7 is observed 5 days
    # (excluded). Reached by day 7: a0 (day 2), a1 (day 6). a4 (day 12) and
    # a6 (day 8) reach later, so they are "not reached" at the landmark.
    subset, excluded = landmark_population(_frame(), "a", 7.0)
    assert excluded == {"churned_before_landmark": 1, "observed_less_than_landmark": 1}
    # Rows in order: a0, a1, a3, a4, a5, a6.
    assert subset["reached"].tolist() == [1, 1, 0, 0, 0, 0]
    # Follow-up from day 7: 40-7, 100-7, 20-7, 60-7, 100-7, 90-7.
    assert subset["time"].tolist() == [33.0, 93.0, 13.0, 53.0, 93.0, 83.0]


def _landmark_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    reached_days = rng.exponential(10.0, n)
    churn_days = rng.exponential(120.0, n)
    return pd.DataFrame(
        {
            "account_id": [f"a{i:03d}" for i in range(n)],
            "observed_days": 200.0,
            "churn_days": np.minimum(churn_days, 200.0),
            "churn_status": (churn_days < 200.0).astype(int),
            "m_a_days": np.minimum(reached_days, np.minimum(churn_days, 200.0)),
            "m_a_status": np.where(
                reached_days < np.minimum(churn_days, 200.0), 1.0, 0.0
            ),
        }
    )


def _landmark_data(frame: pd.DataFrame, landmark: float) -> pd.DataFrame:
    """The landmark subset built by hand: follow-up after the landmark, and the group."""
    active = ~((frame["churn_status"] == 1) & (frame["churn_days"] <= landmark))
    return pd.DataFrame(
        {
            "time": frame.loc[active, "churn_days"] - landmark,
            "event": frame.loc[active, "churn_status"],
            "reached": ((frame["m_a_status"] == 1) & (frame["m_a_days"] <= landmark))[
                active
            ].astype(int),
        }
    )


def _assert_ratio(estimate, data: pd.DataFrame) -> None:
    expected = CoxPHFitter().fit(data, "time", "event").summary.loc["reached"]
    assert estimate.value == pytest.approx(expected["exp(coef)"], rel=1e-6)
    assert estimate.lower == pytest.approx(expected["exp(coef) lower 95%"], rel=1e-6)
    assert estimate.upper == pytest.approx(expected["exp(coef) upper 95%"], rel=1e-6)


def test_landmark_hazard_ratio_matches_lifelines():
    frame = _landmark_frame(400)
    result = landmark_comparison(frame, "a", 14.0, 90.0)

    # Independent fit: lifelines on the same subset, built here by hand.
    data = _landmark_data(frame, 14.0)
    assert result.n_accounts == len(data)
    _assert_ratio(result.hazard_ratio, data)
    assert "cox_sampled" not in result.caveats


def test_landmark_hazard_ratio_on_sample_above_cap():
    frame = _landmark_frame(400)
    result = landmark_comparison(frame, "a", 14.0, 90.0, max_accounts=150, seed=3)

    data = _landmark_data(frame, 14.0)
    # Retention counts use every account; the ratio a seeded sample of 150.
    assert result.n_accounts == len(data)
    assert result.reached.n_accounts + result.not_reached.n_accounts == len(data)
    _assert_ratio(result.hazard_ratio, data.sample(n=150, random_state=3).sort_index())
    assert "cox_sampled" in result.caveats


def test_start_stop_rows_by_hand():
    rows = start_stop_rows(_frame(), "a")
    first = rows[rows["row_id"] == 0]
    # a0 reached on day 2 and churned on day 40: (0, 2] not reached, (2, 40] reached.
    assert first[["start", "stop", "reached", "event"]].to_numpy().tolist() == [
        [0.0, 2.0, 0, 0],
        [2.0, 40.0, 1, 1],
    ]
    # a3 churned on day 20 before reaching: one row, churn while not reached.
    third = rows[rows["row_id"] == 3]
    assert third[["start", "stop", "reached", "event"]].to_numpy().tolist() == [
        [0.0, 20.0, 0, 1]
    ]


@pytest.mark.parametrize("whole_days", [False, True])
def test_time_varying_cox_matches_lifelines(whole_days):
    # Whole days make churn fall on the day another account reaches the
    # milestone, which checks the (start, stop] convention of the risk set.
    rng = np.random.default_rng(5)
    n = 300
    reach = rng.exponential(15.0, n)
    churn = rng.exponential(80.0, n)
    if whole_days:
        reach, churn = np.ceil(reach), np.ceil(churn)
    end = np.minimum(churn, 150.0)
    frame = pd.DataFrame(
        {
            "account_id": [f"a{i:03d}" for i in range(n)],
            "observed_days": 150.0,
            "churn_days": end,
            "churn_status": (churn < 150.0).astype(int),
            "m_a_days": np.minimum(reach, end),
            "m_a_status": np.where(reach < end, 1.0, np.where(churn < 150.0, 2.0, 0.0)),
        }
    )
    result = time_varying_cox(frame, "a")

    # Independent long format: one row before reaching, one after.
    rows = []
    for i in range(n):
        if reach[i] < end[i]:
            rows.append((i, 0.0, reach[i], 0, 0))
            rows.append((i, reach[i], end[i], 1, int(churn[i] < 150.0)))
        else:
            rows.append((i, 0.0, end[i], 0, int(churn[i] < 150.0)))
    long = pd.DataFrame(rows, columns=["id", "start", "stop", "reached", "event"])
    fitter = CoxTimeVaryingFitter().fit(long, id_col="id", event_col="event")
    expected = fitter.summary.loc["reached"]
    assert result.reached.value == pytest.approx(expected["exp(coef)"], rel=1e-6)
    assert result.reached.lower == pytest.approx(
        expected["exp(coef) lower 95%"], rel=1e-6
    )
    assert result.n_churned == int((churn < 150.0).sum())


def test_restricted_mean_by_hand():
    # Two accounts churn on days 2 and 4: S = 1 on [0,2), 0.5 on [2,4), 0 after.
    # Area up to day 10 = 2*1 + 2*0.5 = 3; up to day 3 = 2 + 0.5 = 2.5.
    assert restricted_mean(pd.Series([2.0, 4.0]), pd.Series([1, 1]), 10.0) == 3.0
    assert restricted_mean(pd.Series([2.0, 4.0]), pd.Series([1, 1]), 3.0) == 2.5


def test_lifetime_value_buckets_by_hand():
    # Landmark day 7 (last bucket bound), buckets (.., 1], (1, 7], not reached.
    frame = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "observed_days": [100.0] * 4,
            "churn_days": [17.0, 100.0, 27.0, 12.0],
            "churn_status": [1, 0, 1, 1],
            "m_m_days": [0.5, 3.0, 5.0, 12.0],
            "m_m_status": [1.0, 1.0, 1.0, 2.0],
            "plan": ["p", "p", "q", "q"],
        }
    )
    settings = parse_settings(
        {
            "ttv_buckets": [1, 7],
            "ltv_horizon": 30,
            "value_by_segment": {
                "column": "plan",
                "values": {"p": 30.4375, "q": 60.875},
            },
        },
        ("plan",),
    )

    result = lifetime_value(frame, "m", settings)

    first, second, not_reached = result.buckets
    # Bucket 1: account a, churns 10 days after day 7 -> 10 days active,
    # value 30.4375 per month = 1 per day -> 10.
    assert first.expected_value == pytest.approx(10.0)
    # Bucket 2: b (censored at 93 after day 7, so 30 days within the horizon)
    # and c (churns after 20). KM: S = 1 until 20, then 0.5 -> 20 + 0.5*10 = 25
    # days; mean value (1 + 2) / 2 = 1.5 per day -> 37.5.
    assert second.mean_lifetime_days == pytest.approx(25.0)
    assert second.expected_value == pytest.approx(37.5)
    # Not reached: d churns 5 days after day 7 at 2 per day -> 10.
    assert not_reached.expected_value == pytest.approx(10.0)


def test_settings_reject_window_after_horizon():
    with pytest.raises(ConfigError) as error:
        parse_settings({"aha_window": 30, "aha_horizon": 14})
    assert error.value.params["path"] == "analysis.aha_window"


def test_settings_suggest_close_key():
    with pytest.raises(ConfigError) as error:
        parse_settings({"landmark": [7]})
    assert error.value.params["suggestion"] == "landmarks"


def test_behaviour_counts_ignore_events_after_window():
    # Account a: invite at 1 day, invite at 3 days (inclusive edge) and one
    # at 3 days + 1 second, which is after the window and must not count.
    start = dt.datetime(2026, 1, 1)
    events = ibis.memtable(
        {
            "account_id": ["a", "a", "a", "b"],
            "event": ["invite", "invite", "invite", "login"],
            "ts": [
                start + dt.timedelta(days=1),
                start + dt.timedelta(days=3),
                start + dt.timedelta(days=3, seconds=1),
                start + dt.timedelta(days=10),
            ],
            "start_at": [start] * 4,
        }
    )
    con = ibis.duckdb.connect()
    counts = behaviour_counts(events, ["invite", "login"], [], 3.0, con.execute)
    assert counts["account_id"].tolist() == ["a"]
    assert counts["e0"].tolist() == [2]


def test_held_out_mask_size_and_seed():
    mask = held_out_mask(10, 0.3, 4)
    assert mask.sum() == 3
    assert (held_out_mask(10, 0.3, 4) == mask).all()


def test_milestone_toml_distinct_events():
    text = milestone_toml("distinct_events", None, 3, 7.0, ["a", "b"])
    assert 'event = ["a", "b"]' in text
    assert 'distinct = "event"' in text


def test_rank_findings_by_effect_two_per_code():
    findings = [
        Finding("x", {"i": 1}, 0.9),
        Finding("x", {"i": 2}, 0.8),
        Finding("x", {"i": 3}, 0.7),
        Finding("y", {"i": 4}, 0.1),
    ]
    ranked = rank_findings(findings, 5)
    assert [finding.params["i"] for finding in ranked] == [1, 2, 4]


def test_estimate_excludes_one():
    assert Estimate(0.5, 0.4, 0.9).excludes_one
    assert not Estimate(0.9, 0.7, 1.1).excludes_one


def test_landmark_without_churn_in_group():
    # At day 7, a0 and a1 reached the milestone and neither churns later,
    # so the reached group has no churn and no hazard ratio is fitted.
    frame = pd.DataFrame(
        {
            "account_id": ["a0", "a1", "a2", "a3"],
            "observed_days": [100.0] * 4,
            "churn_days": [100.0, 100.0, 30.0, 50.0],
            "churn_status": [0, 0, 1, 1],
            "m_a_days": [2.0, 3.0, 30.0, 50.0],
            "m_a_status": [1.0, 1.0, 2.0, 2.0],
        }
    )
    result = landmark_comparison(frame, "a", 7.0, 90.0)
    assert result.hazard_ratio.value is None
    assert "landmark_no_churn_in_group" in result.caveats


def test_segment_findings_skip_unknown_group():
    from jalon.churn_link import GroupRatio, SegmentComparison
    from jalon.churn_link.findings import segment_findings

    comparison = SegmentComparison(
        outcome="churn",
        segment="plan",
        n_accounts=30,
        group_sizes={"a": 10, "b": 10, "(unknown)": 10},
        reference="a",
        logrank=None,
        pairwise=(),
        ratios=(
            GroupRatio("b", "a", 0.5, Estimate(2.0, 1.5, 2.5)),
            GroupRatio("(unknown)", "a", 0.5, Estimate(3.0, 2.5, 3.5)),
        ),
    )
    findings = segment_findings([comparison])
    assert [finding.params["group"] for finding in findings] == ["b"]


def _changing_effect_frame(ratio_early: float, ratio_late: float) -> pd.DataFrame:
    """Return accounts whose churn hazard changes once they reach the milestone.

    Half the accounts reach it on a day drawn from 0 to 10. The churn hazard
    is 0.01 per day, times ``ratio_early`` once reached and before day 60,
    and times ``ratio_late`` once reached from day 60 on. Exponential laws
    are memoryless, so each piece is drawn afresh from its start.
    """
    rng = np.random.default_rng(21)
    n = 3000
    base = 0.01
    reach = rng.uniform(0.0, 10.0, n)
    reaches = rng.random(n) < 0.5
    churn = rng.exponential(1 / base, n)

    # Reaching accounts still active on their reach day switch to the early ratio.
    switched = reaches & (churn > reach)
    early = reach + rng.exponential(1 / (base * ratio_early), n)
    churn = np.where(switched, early, churn)

    # From day 60 on, switched accounts get the late ratio, the others keep 1.
    late_rate = np.where(switched, base * ratio_late, base)
    churn = np.where(churn > 60.0, 60.0 + rng.exponential(1 / late_rate), churn)

    end = np.minimum(churn, 200.0)
    churned = churn < 200.0
    return pd.DataFrame(
        {
            "account_id": [f"a{i:04d}" for i in range(n)],
            "observed_days": 200.0,
            "churn_days": end,
            "churn_status": churned.astype(int),
            "m_a_days": np.where(switched, reach, end),
            "m_a_status": np.where(switched, 1.0, np.where(churned, 2.0, 0.0)),
        }
    )


def test_ph_check_flags_changing_effect():
    result = time_varying_cox(_changing_effect_frame(0.2, 1.0), "a")
    assert result.ph_check.p_value < 0.05
    assert "cox_not_proportional" in result.caveats


def test_ph_check_passes_constant_effect():
    result = time_varying_cox(_changing_effect_frame(0.5, 0.5), "a")
    assert result.ph_check.p_value > 0.05
