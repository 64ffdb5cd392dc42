"""Kaplan-Meier on life tables: hand-computed values and lifelines agreement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_times
from scipy.stats import norm
from survival_testdata import (
    expand,
    pandas_life_table,
    random_accounts,
    table,
    weighted_rows,
)

from jalon.errors import AnalysisError
from jalon.survival import KaplanMeier

Z95 = norm.ppf(0.975)

# Eight accounts:
#   day 1: one reached, one censored
#   day 2: one reached, one churned first (censoring for Kaplan-Meier)
#   day 4: two reached
#   day 5: two censored
SMALL = table([(1, 1, 0, 1), (2, 1, 1, 0), (4, 2, 0, 0), (5, 0, 0, 2)])


def exponential_greenwood(survival: float, greenwood: float) -> tuple[float, float]:
    """Compute the log(-log) interval from its textbook formula."""
    log_s = math.log(survival)
    spread = Z95 * math.sqrt(greenwood) / abs(log_s)
    lower = math.exp(-math.exp(math.log(-log_s) + spread))
    upper = math.exp(-math.exp(math.log(-log_s) - spread))
    return lower, upper


def test_km_small_table_by_hand():
    curve = KaplanMeier().fit(SMALL).survival_function_
    # At risk: day 1: 8, day 2: 6 (8 - 1 reached - 1 censored), day 4: 4, day 5: 2.
    # S(1) = 1 - 1/8 = 7/8; S(2) = 7/8 * (1 - 1/6) = 35/48;
    # S(4) = 35/48 * (1 - 2/4) = 35/96; S(5) = 35/96 (no event).
    expected = [1.0, 7 / 8, 35 / 48, 35 / 96, 35 / 96]
    assert curve["time"].tolist() == [0.0, 1.0, 2.0, 4.0, 5.0]
    assert curve["survival"].to_numpy() == pytest.approx(expected, abs=1e-15)


def test_km_small_table_interval_by_hand():
    curve = KaplanMeier().fit(SMALL).survival_function_.set_index("time")
    # Greenwood sums: day 1: 1/(8*7) = 1/56; day 2: 1/56 + 1/(6*5);
    # day 4: 1/56 + 1/30 + 2/(4*2).
    for day, survival, greenwood in (
        (1.0, 7 / 8, 1 / 56),
        (2.0, 35 / 48, 1 / 56 + 1 / 30),
        (4.0, 35 / 96, 1 / 56 + 1 / 30 + 1 / 4),
    ):
        lower, upper = exponential_greenwood(survival, greenwood)
        assert curve.loc[day, "lower"] == pytest.approx(lower, abs=1e-14)
        assert curve.loc[day, "upper"] == pytest.approx(upper, abs=1e-14)


def test_km_interval_at_origin_is_one():
    curve = KaplanMeier().fit(SMALL).survival_function_
    assert curve.iloc[0][["survival", "lower", "upper"]].tolist() == [1.0, 1.0, 1.0]


def test_km_percentiles_small_table():
    km = KaplanMeier().fit(SMALL)
    # S(2) = 0.729 <= 1 - 0.25 = 0.75, S(1) = 0.875 is not.
    assert km.percentile(0.25).days == 2.0
    # S(4) = 0.365 <= 0.5, S(2) = 0.729 is not.
    assert km.percentile(0.5).days == 4.0
    # The curve stops at 0.365 > 1 - 0.75 = 0.25.
    assert km.percentile(0.75).days is None


def test_km_share_reached_small_table():
    share = KaplanMeier().fit(SMALL).share_reached(3.0)
    # Day 3 falls on the step of day 2: 1 - 35/48 = 13/48.
    assert share.share == pytest.approx(13 / 48, abs=1e-15)
    assert share.method == "kaplan_meier"


def test_km_share_bounds_mirror_survival():
    km = KaplanMeier().fit(SMALL)
    share = km.share_reached(3.0)
    row = km.survival_function_.set_index("time").loc[2.0]
    assert share.lower == pytest.approx(1 - row["upper"], abs=1e-15)
    assert share.upper == pytest.approx(1 - row["lower"], abs=1e-15)


def test_km_events_before_censorings_on_ties():
    # Day 1: 2 reached and 2 censored out of 4. Censored accounts are still
    # at risk on their day, so S(1) = 1 - 2/4 = 0.5, not 1 - 2/2 = 0.
    km = KaplanMeier().fit(table([(1, 2, 0, 2)]))
    assert km.survival_function_["survival"].iloc[-1] == 0.5


def test_km_exact_tie_gives_tie_time():
    # Six accounts, three reached on day 2, three censored on day 5:
    # S(2) = 1 - 3/6 = 0.5 exactly, so the median is day 2. lifelines 0.30
    # computes exp(log 3 - log 6) = 0.5000000000000001 here and misses it.
    km = KaplanMeier().fit(table([(2, 3, 0, 0), (5, 0, 0, 3)]))
    assert km.percentile(0.5).days == 2.0


def test_km_tie_matches_lifelines_when_exact():
    # Ten accounts, five reached on day 3: lifelines rounds S(3) to
    # 0.49999999999999983 and also returns day 3.
    life_table = table([(3, 5, 0, 0), (8, 0, 0, 5)])
    rows = weighted_rows(life_table)
    fitter = KaplanMeierFitter().fit(
        rows["time"], rows["observed"], weights=rows["weight"]
    )
    assert (
        KaplanMeier().fit(life_table).percentile(0.5).days
        == fitter.median_survival_time_
    )


def test_km_median_not_reached():
    # Ten accounts, two reached on day 3, eight censored on day 10: S = 0.8.
    percentile = KaplanMeier().fit(table([(3, 2, 0, 0), (10, 0, 0, 8)])).percentile(0.5)
    assert percentile.days is None
    assert percentile.upper is None
    assert not percentile.reached


def test_km_lower_bound_without_median():
    # S(3) = 0.8 with Greenwood sum 2/(10*8) = 0.025; the lower bound of the
    # interval is below 0.5, so the lower bound of the median is day 3.
    lower, _ = exponential_greenwood(0.8, 2 / 80)
    assert lower < 0.5
    percentile = KaplanMeier().fit(table([(3, 2, 0, 0), (10, 0, 0, 8)])).percentile(0.5)
    assert percentile.lower == 3.0


def test_km_all_reached_curve_drops_to_zero():
    km = KaplanMeier().fit(table([(1, 1, 0, 1), (2, 2, 0, 0)]))
    # Day 2: every account at risk reached, S = 0 with a zero-width interval.
    last = km.survival_function_.iloc[-1]
    assert last[["survival", "lower", "upper"]].tolist() == [0.0, 0.0, 0.0]


def test_km_rejects_several_groups():
    two_groups = pd.concat([table([(1, 1, 0, 0)], "a"), table([(1, 1, 0, 0)], "b")])
    with pytest.raises(AnalysisError) as error:
        KaplanMeier().fit(two_groups)
    assert error.value.code == "survival.not_one_group"


def test_km_rejects_negative_count():
    with pytest.raises(AnalysisError) as error:
        KaplanMeier().fit(table([(1, -1, 0, 0)]))
    assert error.value.code == "survival.invalid_count"


def test_km_rejects_missing_column():
    with pytest.raises(AnalysisError) as error:
        KaplanMeier().fit(table([(1, 1, 0, 0)]).drop(columns="n_competing"))
    assert error.value.params["column"] == "n_competing"


def test_km_sums_repeated_times():
    repeated = KaplanMeier().fit(table([(1, 1, 0, 0), (1, 0, 0, 1), (2, 1, 0, 0)]))
    merged = KaplanMeier().fit(table([(1, 1, 0, 1), (2, 1, 0, 0)]))
    pd.testing.assert_frame_equal(
        repeated.survival_function_, merged.survival_function_
    )


@pytest.fixture(scope="module")
def random_table() -> pd.DataFrame:
    return pandas_life_table(random_accounts(seed=7, n_accounts=2000))


@pytest.fixture(scope="module")
def lifelines_weighted(random_table) -> KaplanMeierFitter:
    rows = weighted_rows(random_table)
    return KaplanMeierFitter().fit(
        rows["time"], rows["observed"], weights=rows["weight"]
    )


def test_km_survival_matches_lifelines(random_table, lifelines_weighted):
    curve = KaplanMeier().fit(random_table).survival_function_
    reference = lifelines_weighted.survival_function_.iloc[:, 0]
    expected = reference.reindex(curve["time"]).to_numpy()
    np.testing.assert_allclose(
        curve["survival"].to_numpy(), expected, atol=1e-10, rtol=0
    )


def test_km_interval_matches_lifelines(random_table, lifelines_weighted):
    curve = KaplanMeier().fit(random_table).survival_function_
    reference = lifelines_weighted.confidence_interval_.reindex(curve["time"])
    np.testing.assert_allclose(curve["lower"], reference.iloc[:, 0], atol=1e-10, rtol=0)
    np.testing.assert_allclose(curve["upper"], reference.iloc[:, 1], atol=1e-10, rtol=0)


def test_km_origin_matches_lifelines_timeline(random_table, lifelines_weighted):
    curve = KaplanMeier().fit(random_table).survival_function_
    assert curve["time"].tolist() == list(lifelines_weighted.timeline)


def as_days(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.ApproximationWarning")
@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.6, 0.9])
def test_km_percentiles_match_lifelines(random_table, lifelines_weighted, q):
    percentile = KaplanMeier().fit(random_table).percentile(q)
    bounds = qth_survival_times(1 - q, lifelines_weighted.confidence_interval_)
    assert percentile.days == as_days(lifelines_weighted.percentile(1 - q))
    assert percentile.lower == as_days(bounds.iloc[0, 0])
    assert percentile.upper == as_days(bounds.iloc[0, 1])


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.ApproximationWarning")
def test_km_unreached_percentile_matches_lifelines(random_table, lifelines_weighted):
    # The curve ends at S(60) = 0.055 > 1 - 0.95, so 0.95 is never reached.
    assert math.isinf(lifelines_weighted.percentile(0.05))
    assert KaplanMeier().fit(random_table).percentile(0.95).days is None


def test_km_life_table_equals_per_account_fit(random_table):
    # lifelines on one row per account, without weights, is the reference
    # for the collapsed table.
    accounts = expand(random_table)
    fitter = KaplanMeierFitter().fit(accounts["time"], accounts["status"] == 1)
    curve = KaplanMeier().fit(random_table).survival_function_
    expected = fitter.survival_function_.iloc[:, 0].reindex(curve["time"]).to_numpy()
    np.testing.assert_allclose(
        curve["survival"].to_numpy(), expected, atol=1e-10, rtol=0
    )
    assert (
        KaplanMeier().fit(random_table).percentile(0.5).days
        == fitter.median_survival_time_
    )
