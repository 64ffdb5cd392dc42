"""Log-rank test for trend of time to value across cohorts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test

from jalon.cohorts.ttv import ttv_trend

SEED = 11


def life_table(rows):
    """Build a life table from ``(group, time, n_event, n_competing, n_censored)``."""
    return pd.DataFrame(
        rows, columns=["group", "time", "n_event", "n_competing", "n_censored"]
    )


def test_three_cohorts_by_hand():
    table = life_table(
        [
            # 2024-01 (score 0): reached at 2 and 3 days.
            ("2024-01-01", 2.0, 1, 0, 0),
            ("2024-01-01", 3.0, 1, 0, 0),
            # 2024-02 (score 1): reached at 1 day, churned at 3 days.
            ("2024-02-01", 1.0, 1, 0, 0),
            ("2024-02-01", 3.0, 0, 1, 0),
            # 2024-03 (score 2): reached at 1 day.
            ("2024-03-01", 1.0, 1, 0, 0),
        ]
    )
    result = ttv_trend({"first": table}).iloc[0]
    # t=1: n = 2+2+1, d = 2, shares .4 .4 .2: U = 1(1-.8) + 2(1-.4) = 1.4,
    #      V = 2·3/4 · ((.4 + 4·.2) - .8²) = 0.84.
    # t=2: n = 2+1, d = 1 (score 0): U = 1(0 - 1/3), V = 1·2/2 · (1/3 - 1/9).
    # t=3: n = 1+1, d = 1 (score 0): U = 1(0 - 1/2), V = 1·1/1 · (1/2 - 1/4).
    expected = (1.4 - 1 / 3 - 1 / 2) / math.sqrt(0.84 + 2 / 9 + 1 / 4)

    assert result.n_cohorts == 3
    assert result.z == pytest.approx(expected)
    assert result.p_value == pytest.approx(2 * (1 - _normal_cdf(abs(expected))))


def _normal_cdf(value):
    return 0.5 * (1 + math.erf(value / math.sqrt(2)))


def test_two_cohorts_match_lifelines_logrank():
    rng = np.random.default_rng(SEED)
    early = np.round(rng.exponential(6.0, 80), 1)
    late = np.round(rng.exponential(4.0, 70), 1)
    early_event = rng.random(80) < 0.7
    late_event = rng.random(70) < 0.7
    rows = []
    for group, times, observed in (
        ("2024-01-01", early, early_event),
        ("2024-02-01", late, late_event),
    ):
        frame = pd.DataFrame({"time": times, "event": observed.astype(int)})
        grouped = frame.groupby("time").event.agg(["sum", "count"]).reset_index()
        for _, row in grouped.iterrows():
            rows.append(
                (group, row.time, int(row["sum"]), 0, int(row["count"] - row["sum"]))
            )
    result = ttv_trend({"first": life_table(rows)}).iloc[0]
    reference = logrank_test(early, late, early_event, late_event)

    # The later cohort converts faster (mean 4 days against 6), so z > 0.
    assert result.z > 0
    assert result.z**2 == pytest.approx(reference.test_statistic)
    assert result.p_value == pytest.approx(reference.p_value)


def test_single_cohort_has_no_trend():
    table = life_table([("2024-01-01", 1.0, 1, 0, 0)])
    result = ttv_trend({"first": table}).iloc[0]

    assert math.isnan(result.z)
    assert math.isnan(result.p_value)
