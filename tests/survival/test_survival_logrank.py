"""Log-rank tests on life tables against hand values and lifelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test
from statsmodels.stats.multitest import multipletests
from survival_testdata import (
    expand,
    pandas_life_table,
    random_accounts,
    table,
    weighted_rows,
)

from jalon.errors import AnalysisError
from jalon.survival import adjust_p_values, logrank_test, pairwise_logrank

GROUPS = ("free", "pro", "team")


def test_logrank_two_groups_by_hand():
    # Group a reaches on days 1 and 2, group b on days 3 and 4.
    life_table = pd.concat(
        [
            table([(1, 1, 0, 0), (2, 1, 0, 0)], "a"),
            table([(3, 1, 0, 0), (4, 1, 0, 0)], "b"),
        ]
    )
    result = logrank_test(life_table)
    # Day 1: 4 at risk (2 a), E_a = 2/4, V = 1*3/3 * 2/4 * 2/4 = 1/4.
    # Day 2: 3 at risk (1 a), E_a = 1/3, V = 1*2/2 * 1/3 * 2/3 = 2/9.
    # Days 3 and 4: no a at risk. O_a - E_a = 2 - 1/2 - 1/3 = 7/6.
    # chi2 = (7/6)^2 / (1/4 + 2/9) = (49/36) / (17/36) = 49/17.
    assert result.statistic == pytest.approx(49 / 17, rel=1e-14)
    assert result.df == 1
    assert result.expected[0] == pytest.approx(5 / 6, rel=1e-14)


@pytest.fixture(scope="module")
def random_table() -> pd.DataFrame:
    accounts = random_accounts(seed=21, n_accounts=1200, max_day=40, groups=GROUPS)
    return pandas_life_table(accounts)


def test_logrank_matches_lifelines_weighted(random_table):
    rows = weighted_rows(random_table)
    reference = multivariate_logrank_test(
        rows["time"], rows["group"], rows["observed"], weights=rows["weight"]
    )
    result = logrank_test(random_table)
    assert result.statistic == pytest.approx(reference.test_statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.p_value, rel=1e-8)
    assert result.df == reference.degrees_of_freedom


def test_logrank_matches_lifelines_per_account(random_table):
    accounts = expand(random_table)
    reference = multivariate_logrank_test(
        accounts["time"], accounts["group"], accounts["status"] == 1
    )
    assert logrank_test(random_table).statistic == pytest.approx(
        reference.test_statistic, rel=1e-10
    )


def test_logrank_observed_counts(random_table):
    observed = random_table.groupby("group")["n_event"].sum()
    assert logrank_test(random_table).observed == tuple(observed.loc[list(GROUPS)])


def test_logrank_rejects_one_group():
    with pytest.raises(AnalysisError) as error:
        logrank_test(table([(1, 1, 0, 0)]))
    assert error.value.code == "survival.too_few_groups"


def test_pairwise_matches_lifelines(random_table):
    accounts = expand(random_table)
    reference = pairwise_logrank_test(
        accounts["time"], accounts["group"], accounts["status"] == 1
    ).summary
    for pair in pairwise_logrank(random_table):
        row = reference.loc[(pair.group_a, pair.group_b)]
        assert pair.statistic == pytest.approx(row["test_statistic"], rel=1e-10)
        assert pair.p_value == pytest.approx(row["p"], rel=1e-8)


def test_pairwise_holm_matches_statsmodels(random_table):
    pairs = pairwise_logrank(random_table)
    raw = np.array([pair.p_value for pair in pairs])
    expected = multipletests(raw, method="holm")[1]
    np.testing.assert_allclose(
        [pair.p_adjusted for pair in pairs], expected, rtol=1e-12
    )


def test_pairwise_pairs_sorted(random_table):
    pairs = [(p.group_a, p.group_b) for p in pairwise_logrank(random_table)]
    assert pairs == [("free", "pro"), ("free", "team"), ("pro", "team")]


@pytest.mark.parametrize(
    ("correction", "method"),
    [("holm", "holm"), ("bonferroni", "bonferroni"), ("bh", "fdr_bh")],
)
def test_adjust_p_values_match_statsmodels(correction, method):
    p_values = np.random.default_rng(4).uniform(0, 0.2, size=12)
    expected = multipletests(p_values, method=method)[1]
    np.testing.assert_allclose(
        adjust_p_values(p_values, correction), expected, rtol=1e-12
    )


def test_pairwise_rejects_unknown_correction(random_table):
    with pytest.raises(NotImplementedError, match="sidak"):
        pairwise_logrank(random_table, correction="sidak")
