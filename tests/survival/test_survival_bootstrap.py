"""Bootstrap ratio of percentile TTVs, its resampling and its cell collapse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from survival_testdata import pandas_life_table, random_accounts, table

from jalon.survival import KaplanMeier, percentile_ratio
from jalon.survival.bootstrap import (
    ACCOUNTS_PER_CELL_FOR_MULTINOMIAL,
    _collapse,
    _replicate_percentiles,
    resample_counts,
)
from jalon.survival.lifetable import single_group


def exponential_table(seed: int, rate: float, n_accounts: int) -> pd.DataFrame:
    """Draw exponential times to value, censored at day 60."""
    rng = np.random.default_rng(seed)
    days = np.round(rng.exponential(1 / rate, n_accounts), 3)
    reached = days <= 60
    accounts = pd.DataFrame(
        {
            "group": "all",
            "days": np.minimum(days, 60.0),
            "status": np.where(reached, 1, 0),
        }
    )
    return pandas_life_table(accounts)


@pytest.fixture(scope="module")
def exponential_ratio():
    # Rates 0.05 and 0.1 per day: medians ln 2 / 0.05 = 13.9 and
    # ln 2 / 0.1 = 6.9 days, so the true ratio is 2.
    slow = exponential_table(seed=1, rate=0.05, n_accounts=1500)
    fast = exponential_table(seed=2, rate=0.1, n_accounts=1500)
    return percentile_ratio(slow, fast, q=0.5, n_boot=2000, seed=0)


def test_ratio_interval_covers_true_ratio(exponential_ratio):
    assert exponential_ratio.lower < 2.0
    assert exponential_ratio.upper > 2.0


def test_ratio_estimate_near_true_ratio(exponential_ratio):
    # A sample median of 1,500 exponential times has a relative standard
    # error of 1 / (ln 2 * sqrt(1500)) = 3.7%, so the ratio has about 5%,
    # or 0.1. A distance of 0.3 is about 3 standard errors.
    assert abs(exponential_ratio.ratio - 2.0) < 0.3


def test_ratio_interval_brackets_estimate(exponential_ratio):
    assert exponential_ratio.lower < exponential_ratio.ratio < exponential_ratio.upper
    assert exponential_ratio.method == "bootstrap_percentile"


def test_ratio_is_reproducible():
    slow = exponential_table(seed=1, rate=0.05, n_accounts=300)
    fast = exponential_table(seed=2, rate=0.1, n_accounts=300)
    first = percentile_ratio(slow, fast, n_boot=200, seed=5)
    again = percentile_ratio(slow, fast, n_boot=200, seed=5)
    assert first == again


def test_ratio_none_when_not_reached():
    never = table([(3, 2, 0, 0), (10, 0, 0, 8)])
    reached = table([(2, 6, 0, 0), (10, 0, 0, 4)])
    result = percentile_ratio(never, reached, n_boot=50)
    assert result.ratio is None
    assert result.reason == "percentile_not_reached_a"
    assert result.lower is None


def test_ratio_denominator_not_reached():
    never = table([(3, 2, 0, 0), (10, 0, 0, 8)])
    reached = table([(2, 6, 0, 0), (10, 0, 0, 4)])
    assert (
        percentile_ratio(reached, never, n_boot=50).reason == "percentile_not_reached_b"
    )


def test_ratio_upper_unknown_when_replicates_miss():
    # Group a reaches exactly half on day 5 (5 of 10), so many replicates
    # stay above one half and never reach the median.
    borderline = table([(5, 5, 0, 0), (9, 0, 0, 5)])
    reached = table([(2, 8, 0, 0), (9, 0, 0, 2)])
    result = percentile_ratio(borderline, reached, n_boot=400, seed=1)
    assert result.ratio == 2.5
    assert result.upper is None
    assert result.n_unreached > 0


@pytest.mark.parametrize("q", [0.1, 0.3, 0.5, 0.62])
def test_collapsed_cells_give_km_percentile(q):
    # The observed counts are one possible replicate, so the collapsed-cell
    # computation must reproduce the Kaplan-Meier percentile on them.
    life_table = pandas_life_table(random_accounts(seed=13, n_accounts=800))
    cells = _collapse(single_group(life_table))
    replicate = _replicate_percentiles(cells.counts[None, :], cells.event_times, 1 - q)
    assert replicate[0] == KaplanMeier().fit(life_table).percentile(q).days


def test_collapsed_cells_keep_every_account():
    life_table = pandas_life_table(random_accounts(seed=13, n_accounts=800))
    assert _collapse(single_group(life_table)).counts.sum() == 800


@pytest.mark.parametrize("per_cell", [1, ACCOUNTS_PER_CELL_FOR_MULTINOMIAL * 3])
def test_resample_counts_keeps_total(per_cell):
    counts = np.full(40, per_cell)
    counts[::7] = 0
    draws = resample_counts(counts, 500, np.random.default_rng(0))
    assert set(draws.sum(axis=1)) == {int(counts.sum())}
    assert draws[:, counts == 0].sum() == 0


@pytest.mark.parametrize("per_cell", [1, ACCOUNTS_PER_CELL_FOR_MULTINOMIAL * 3])
def test_resample_counts_multinomial_moments(per_cell):
    counts = np.arange(1, 21) * per_cell
    n = counts.sum()
    draws = resample_counts(counts, 20_000, np.random.default_rng(1))
    # Multinomial: mean n p = counts, variance n p (1 - p). The mean of 20,000
    # draws is within 5 standard errors of its expectation.
    variance = counts * (1 - counts / n)
    standard_error = np.sqrt(variance / 20_000)
    assert np.all(np.abs(draws.mean(axis=0) - counts) < 5 * standard_error)
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.05)


def test_ratio_rejects_zero_replicates():
    reached = table([(2, 8, 0, 0), (9, 0, 0, 2)])
    with pytest.raises(ValueError, match="n_boot"):
        percentile_ratio(reached, reached, n_boot=0)
