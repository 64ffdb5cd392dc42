"""Aalen-Johansen cumulative incidence against hand values, scikit-survival and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sksurv.nonparametric import cumulative_incidence_competing_risks
from statsmodels.duration.survfunc import CumIncidenceRight
from survival_testdata import expand, pandas_life_table, random_accounts, table

from jalon.survival import AalenJohansen, KaplanMeier

# Eight accounts:
#   day 1: one reached, one censored
#   day 2: one reached, one churned first
#   day 4: two reached
#   day 5: two censored
SMALL = table([(1, 1, 0, 1), (2, 1, 1, 0), (4, 2, 0, 0), (5, 0, 0, 2)])


def test_aj_small_table_by_hand():
    curve = AalenJohansen().fit(SMALL).cumulative_incidence_
    # At risk 8, 6, 4, 2. All-cause survival: S(1) = 7/8, S(2) = 7/8 * 4/6 = 7/12.
    # F(1) = 1 * 1/8 = 6/48; F(2) = 6/48 + 7/8 * 1/6 = 13/48;
    # F(4) = 13/48 + 7/12 * 2/4 = 27/48; F(5) = 27/48.
    expected = [0.0, 6 / 48, 13 / 48, 27 / 48, 27 / 48]
    assert curve["time"].tolist() == [0.0, 1.0, 2.0, 4.0, 5.0]
    assert curve["cif"].to_numpy() == pytest.approx(expected, abs=1e-15)


def test_aj_competing_small_table_by_hand():
    curve = AalenJohansen().fit(SMALL).competing_incidence_
    # Churn only on day 2: 7/8 * 1/6 = 7/48.
    assert curve["cif"].to_numpy() == pytest.approx([0, 0, 7 / 48, 7 / 48, 7 / 48])


def test_aj_shares_add_up_with_survival():
    aj = AalenJohansen().fit(SMALL)
    # Reached 27/48 + churned 7/48 + still observed S(5) = 7/24 = 14/48 -> 1.
    total = aj.share_reached(5).share + aj.share_churned_first(5).share + 14 / 48
    assert total == pytest.approx(1.0, abs=1e-15)


def test_aj_below_one_minus_km_with_churn():
    aj = AalenJohansen().fit(SMALL).share_reached(4).share
    km = KaplanMeier().fit(SMALL).share_reached(4).share
    # 1 - KM = 1 - 35/96 = 61/96 = 0.635 > AJ = 27/48 = 0.5625.
    assert km == pytest.approx(61 / 96)
    assert aj < km


def test_aj_equals_one_minus_km_without_churn():
    no_churn = table([(1, 1, 0, 1), (2, 1, 0, 1), (4, 2, 0, 0), (5, 0, 0, 2)])
    aj = AalenJohansen().fit(no_churn).cumulative_incidence_["cif"].to_numpy()
    km = KaplanMeier().fit(no_churn).survival_function_["survival"].to_numpy()
    np.testing.assert_allclose(aj, 1 - km, atol=1e-15, rtol=0)


def test_aj_standard_error_by_hand():
    se = AalenJohansen().fit(SMALL).standard_errors_.set_index("time")
    # Day 1: n = 8, d = d_k = 1, S(0) = 1, F(1) = 1/8. The Greenwood and
    # cross terms vanish because F(1) - F(1) = 0, leaving
    # S(0)^2 * d_k (n - d_k) / n^3 = 7 / 512.
    assert se.loc[1.0, "event"] == pytest.approx(math.sqrt(7 / 512), abs=1e-15)


def test_aj_interval_is_loglog_of_se():
    aj = AalenJohansen().fit(SMALL)
    row = aj.cumulative_incidence_.set_index("time").loc[2.0]
    se = aj.standard_errors_.set_index("time").loc[2.0, "event"]
    cif = 13 / 48
    spread = norm.ppf(0.975) * se / abs(cif * math.log(cif))
    assert row["lower"] == pytest.approx(cif ** math.exp(spread), abs=1e-14)
    assert row["upper"] == pytest.approx(cif ** math.exp(-spread), abs=1e-14)


def test_aj_share_method_name():
    assert AalenJohansen().fit(SMALL).share_reached(3).method == "aalen_johansen"


@pytest.fixture(scope="module")
def random_table() -> pd.DataFrame:
    return pandas_life_table(random_accounts(seed=11, n_accounts=1500))


@pytest.fixture(scope="module")
def accounts(random_table) -> pd.DataFrame:
    return expand(random_table)


def test_aj_point_matches_scikit_survival(random_table, accounts):
    # scikit-survival overflows on int8 event arrays, so cast to int64.
    times, incidence = cumulative_incidence_competing_risks(
        accounts["status"].to_numpy(dtype=np.int64), accounts["time"].to_numpy()
    )
    aj = AalenJohansen().fit(random_table)
    reached = aj.cumulative_incidence_.set_index("time")["cif"].reindex(times)
    churned = aj.competing_incidence_.set_index("time")["cif"].reindex(times)
    np.testing.assert_allclose(reached, incidence[1], atol=1e-12, rtol=0)
    np.testing.assert_allclose(churned, incidence[2], atol=1e-12, rtol=0)


def expand_statuses(life_table: pd.DataFrame) -> pd.DataFrame:
    """Return one weighted row per (time, status) with a positive count."""
    parts = [
        pd.DataFrame(
            {"time": life_table["time"], "status": status, "weight": life_table[column]}
        )
        for status, column in ((1, "n_event"), (2, "n_competing"), (0, "n_censored"))
    ]
    rows = pd.concat(parts, ignore_index=True)
    return rows[rows["weight"] > 0].reset_index(drop=True)


def test_aj_point_matches_statsmodels_weighted(random_table):
    rows = expand_statuses(random_table)
    cif = CumIncidenceRight(rows["time"], rows["status"], freq_weights=rows["weight"])
    aj = AalenJohansen().fit(random_table)
    reached = aj.cumulative_incidence_.set_index("time")["cif"].reindex(cif.times)
    np.testing.assert_allclose(reached, cif.cinc[0], atol=1e-12, rtol=0)


def test_aj_standard_errors_match_statsmodels(random_table, accounts):
    # statsmodels 0.15 gives no standard error with frequency weights, so
    # the reference runs on one row per account.
    cif = CumIncidenceRight(accounts["time"].to_numpy(), accounts["status"].to_numpy())
    se = AalenJohansen().fit(random_table).standard_errors_.set_index("time")
    finite = np.isfinite(cif.cinc_se[0]) & np.isfinite(cif.cinc_se[1])
    assert finite.sum() > 50
    times = cif.times[finite]
    np.testing.assert_allclose(
        se["event"].reindex(times), cif.cinc_se[0][finite], atol=1e-12, rtol=0
    )
    np.testing.assert_allclose(
        se["competing"].reindex(times), cif.cinc_se[1][finite], atol=1e-12, rtol=0
    )


life_table_rows = st.lists(
    st.tuples(
        st.integers(0, 30),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=12,
).filter(lambda rows: sum(sum(row[1:]) for row in rows) > 0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(rows=life_table_rows)
def test_aj_incidences_and_survival_add_to_one(rows):
    life_table = table(rows)
    aj = AalenJohansen().fit(life_table)
    # All-cause Kaplan-Meier: churn counts as an outcome too.
    all_causes = life_table.assign(
        n_event=life_table["n_event"] + life_table["n_competing"], n_competing=0
    )
    survival = KaplanMeier().fit(all_causes).survival_function_["survival"]
    total = (
        aj.cumulative_incidence_["cif"].to_numpy()
        + aj.competing_incidence_["cif"].to_numpy()
        + survival.to_numpy()
    )
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(rows=life_table_rows)
def test_aj_interval_contains_estimate(rows):
    curve = AalenJohansen().fit(table(rows)).cumulative_incidence_
    assert (curve["lower"] <= curve["cif"] + 1e-15).all()
    assert (curve["cif"] <= curve["upper"] + 1e-15).all()
