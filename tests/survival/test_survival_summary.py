"""Milestone summaries: shares, percentiles, naive figures, caveats."""

from __future__ import annotations

import numpy as np
import pytest
from survival_testdata import pandas_life_table, random_accounts, table

from jalon.errors import FewAtRiskWarning
from jalon.survival import summarize, summarize_groups
from jalon.survival.lifetable import single_group
from jalon.survival.summary import naive_days

# Many small tables here have few accounts at risk, and one test checks the
# warning.
pytestmark = pytest.mark.filterwarnings("ignore::jalon.errors.FewAtRiskWarning")

# Eight accounts:
#   day 1: one reached, one censored
#   day 2: one reached, one churned first
#   day 4: two reached
#   day 5: two censored
SMALL = table([(1, 1, 0, 1), (2, 1, 1, 0), (4, 2, 0, 0), (5, 0, 0, 2)])


def test_summary_population_counts():
    summary = summarize(SMALL)
    counts = (summary.n_accounts, summary.n_reached, summary.n_churned_first)
    assert counts == (8, 4, 1)
    assert summary.n_censored == 3


def test_summary_horizon_uses_aalen_johansen_with_churn():
    horizon = summarize(SMALL, horizons=(4,)).horizons[0]
    # F(4) = 1/8 + 7/8 * 1/6 + 7/12 * 2/4 = 27/48 (see the Aalen-Johansen tests).
    assert horizon.share == pytest.approx(27 / 48, abs=1e-15)
    assert horizon.method == "aalen_johansen"


def test_summary_km_horizon_side_by_side():
    horizon = summarize(SMALL, horizons=(4,)).km_horizons[0]
    # 1 - S(4) = 1 - 35/96 = 61/96.
    assert horizon.share == pytest.approx(61 / 96, abs=1e-15)
    assert horizon.method == "kaplan_meier"


def test_summary_plateau_is_final_share():
    assert summarize(SMALL).plateau == pytest.approx(27 / 48, abs=1e-15)


def test_summary_naive_figures():
    summary = summarize(SMALL)
    # Reached on days 1, 2, 4, 4: mean 11/4, median (2 + 4) / 2.
    assert summary.naive_mean_days == 2.75
    assert summary.naive_median_days == 3.0


def test_summary_percentiles_from_km():
    summary = summarize(SMALL, quantiles=(0.25, 0.5))
    assert [p.days for p in summary.percentiles] == [2.0, 4.0]


def test_summary_curve_starts_at_zero():
    curve = summarize(SMALL).curve
    assert curve.iloc[0].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert list(curve.columns) == ["time", "share", "lower", "upper"]


def test_summary_churn_curve_values():
    churn = summarize(SMALL).churn_curve
    # Churn on day 2 only: 7/8 * 1/6 = 7/48.
    assert churn["share"].to_numpy() == pytest.approx([0, 0, 7 / 48, 7 / 48, 7 / 48])


def test_summary_few_at_risk_warns():
    # Four accounts are at risk on day 4, the median.
    with pytest.warns(FewAtRiskWarning):
        summary = summarize(SMALL, quantiles=(0.5,))
    assert "few_at_risk" in summary.caveats


def test_summary_horizon_beyond_follow_up():
    summary = summarize(SMALL, horizons=(1, 30))
    assert "horizon_beyond_follow_up" in summary.caveats


def test_summary_without_churn_uses_km():
    summary = summarize(table([(1, 1, 0, 1), (3, 2, 0, 1)]))
    assert summary.horizons[0].method == "kaplan_meier"
    assert summary.churn_curve is None


def test_summary_competing_off_flags_churn():
    summary = summarize(SMALL, competing=False)
    assert summary.horizons == summary.km_horizons
    assert "churn_as_censoring" in summary.caveats


def test_summary_median_not_reached_caveat():
    life_table = table([(3, 2, 0, 0), (10, 0, 0, 8)])
    summary = summarize(life_table, horizons=(7,), quantiles=(0.5,))
    assert summary.percentiles[0].days is None
    assert summary.caveats == ("median_not_reached",)


def test_summary_none_reached():
    summary = summarize(table([(3, 0, 1, 0), (10, 0, 0, 8)]))
    assert "none_reached" in summary.caveats
    assert summary.naive_mean_days is None
    assert summary.plateau == 0.0


def test_summary_repr_states_population():
    # 3,000 accounts: 1,812 reached, 402 churned first, 786 censored.
    big = table([(2, 1812, 0, 0), (5, 0, 402, 0), (40, 0, 0, 786)])
    expected = (
        "MilestoneSummary(all: 3,000 accounts, 1,812 reached, "
        "402 churned first, 786 censored)"
    )
    assert repr(summarize(big)) == expected


@pytest.mark.parametrize("n_accounts", [401, 400])
def test_naive_median_matches_numpy(n_accounts):
    accounts = random_accounts(seed=5, n_accounts=n_accounts)
    reached = accounts.loc[accounts["status"] == 1, "days"].to_numpy()
    mean, median = naive_days(single_group(pandas_life_table(accounts)))
    assert median == np.median(reached)
    assert mean == pytest.approx(reached.mean(), rel=1e-12)


def test_summarize_groups_sorted():
    accounts = random_accounts(seed=9, n_accounts=900, groups=("team", "free", "pro"))
    summaries = summarize_groups(pandas_life_table(accounts))
    assert [s.group for s in summaries] == ["free", "pro", "team"]


def test_summarize_groups_equals_single_group():
    accounts = random_accounts(seed=9, n_accounts=900, groups=("team", "free", "pro"))
    life_table = pandas_life_table(accounts)
    pro = summarize_groups(life_table)[1]
    alone = summarize(life_table[life_table["group"] == "pro"])
    assert pro.horizons == alone.horizons
    assert pro.percentiles == alone.percentiles
