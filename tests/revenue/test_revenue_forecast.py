"""Renewals due and forecast scenarios against actuals.

Same accounts as the metrics tests: MRR 350 in January, 410 in February,
260 in March 2024 (new 350 in Jan, new 80 and contraction 20 in Feb).
"""

from __future__ import annotations

import pandas as pd
import pytest
from revenue_helpers import analyse_lines, month, monthly_lines, row_of


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    lines = (
        monthly_lines(
            "I1", "B1", {"2024-01": "100", "2024-02": "100", "2024-03": "150"}
        )
        + monthly_lines("I2", "B2", {"2024-01": "200", "2024-02": "200"})
        + monthly_lines("I3", "B3", {"2024-01": "50", "2024-02": "30", "2024-03": "30"})
        + monthly_lines("I4", "B4", {"2024-02": "80", "2024-03": "80"})
    )
    forecast = {
        "from_month": "2024-02",
        "horizon_months": 2,
        "scenarios": {
            "base": {"new_mrr": 10, "churn_rate": 0.1, "expansion_rate": 0.05}
        },
    }
    return analyse_lines(
        tmp_path_factory.mktemp("forecast"),
        lines,
        as_of="2024-03-31",
        trailing_months=2,
        forecast=forecast,
    )


def test_base_scenario_from_config(result):
    march = row_of(result.forecast, scenario="base", month=month("2024-03"))
    # 410.00 x (1 - 0.1 + 0.05) + 10 = 399.50
    assert march["forecast_mrr_minor"] == 39950
    assert march["actual_mrr_minor"] == 26000
    assert march["difference_minor"] == 26000 - 39950
    april = row_of(result.forecast, scenario="base", month=month("2024-04"))
    # 39 950 x 0.95 + 1 000 = 38 952.5, rounded half to even
    assert april["forecast_mrr_minor"] == 38952
    assert pd.isna(april["actual_mrr_minor"])


def test_trailing_assumptions(result):
    base = row_of(result.forecast_assumptions, scenario="optimistic")
    # Jan-Feb: new (350 + 80) / 2 = 215 a month, x 1.2
    assert base["new_mrr_minor"] == pytest.approx(21500 * 1.2)
    # contraction 20 over start MRR 0 + 350, x 0.8
    assert base["churn_rate"] == pytest.approx(20 / 350 * 0.8)
    assert base["churn_rate_source"] == "trailing"


def test_pessimistic_projection(result):
    march = row_of(result.forecast, scenario="pessimistic", month=month("2024-03"))
    # 41 000 x (1 - 24/350) + 17 200 = 55 388.57
    assert march["forecast_mrr_minor"] == 55389


def test_renewals_due(result):
    february = row_of(result.renewals, month=month("2024-02"))
    # the January lines of B1, B2, B3 end on 1 February
    assert february["renewals"] == 3
    assert february["mrr_at_stake_minor"] == 35000
    # B1 100 + B2 200 + B3 30 in February
    assert february["renewed_mrr_minor"] == 33000
    april = row_of(result.renewals, month=month("2024-04"))
    assert april["mrr_at_stake_minor"] == 26000
    assert pd.isna(april["renewed_mrr_minor"])
