"""Churn rates, NRR/GRR, cohorts, ARPA, unit economics and the TTV link.

Accounts (EUR, monthly lines):
    B1: 100 Jan, 100 Feb, 150 Mar   (expansion of 50 in March), channel ads
    B2: 200 Jan, 200 Feb             (churns in March),          channel ads
    B3:  50 Jan,  30 Feb,  30 Mar   (contraction of 20 in Feb),  channel organic
    B4:           80 Feb,  80 Mar   (new in February),           channel organic
Totals: Jan 350, Feb 410, Mar 260.
"""

from __future__ import annotations

import pandas as pd
import pytest
from revenue_helpers import analyse_lines, month, monthly_lines, row_of, write

SPEND = "month,channel,amount\n2024-01,ads,1000\n2024-02,ads,300\n2024-02,organic,100\n2024-03,ads,500\n"
ATTRIBUTES = "account_id,segment,channel,country\nB1,smb,ads,FR\nB2,smb,ads,FR\nB3,mid,organic,BE\nB4,mid,organic,FR\n"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics")
    write(folder, "spend.csv", SPEND)
    write(folder, "accounts.csv", ATTRIBUTES)
    lines = (
        monthly_lines(
            "I1", "B1", {"2024-01": "100", "2024-02": "100", "2024-03": "150"}
        )
        + monthly_lines("I2", "B2", {"2024-01": "200", "2024-02": "200"})
        + monthly_lines("I3", "B3", {"2024-01": "50", "2024-02": "30", "2024-03": "30"})
        + monthly_lines("I4", "B4", {"2024-02": "80", "2024-03": "80"})
    )
    return analyse_lines(
        folder,
        lines,
        as_of="2024-03-31",
        spend="spend.csv",
        accounts="accounts.csv",
        gross_margin=0.8,
        trailing_months=2,
    )


def test_churn_rates_february(result):
    rates = row_of(result.churn, month=month("2024-02"))
    assert rates["customers_start"] == 3
    assert rates["logo_churn"] == 0.0
    # contraction 20 over a starting MRR of 350
    assert rates["gross_mrr_churn"] == pytest.approx(20 / 350)
    assert rates["net_mrr_churn"] == pytest.approx(20 / 350)


def test_churn_rates_march(result):
    rates = row_of(result.churn, month=month("2024-03"))
    # B2 of the 4 accounts paying in February
    assert rates["logo_churn"] == 0.25
    assert rates["revenue_churn"] == pytest.approx(200 / 410)
    assert rates["gross_mrr_churn"] == pytest.approx(200 / 410)
    # (200 churned - 50 expansion) / 410
    assert rates["net_mrr_churn"] == pytest.approx(150 / 410)


def test_nrr_grr_one_month(result):
    row = row_of(result.retention, month=month("2024-03"), horizon_months=1)
    # February accounts in March: 150 + 0 + 30 + 80 = 260, over 410
    assert row["nrr"] == pytest.approx(260 / 410)
    # capped at February: 100 + 0 + 30 + 80 = 210, over 410
    assert row["grr"] == pytest.approx(210 / 410)


def test_no_twelve_month_retention(result):
    assert (result.retention["horizon_months"] == 12).sum() == 0
    assert "revenue.short_history" in result.caveats


def test_cohort_heatmap(result):
    january = result.cohorts[result.cohorts["cohort"] == month("2024-01")].set_index(
        "months_since"
    )
    # 350 -> 330 (100 + 200 + 30) -> 180 (150 + 0 + 30)
    assert january.loc[1, "retention"] == pytest.approx(330 / 350)
    assert january.loc[2, "retention"] == pytest.approx(180 / 350)
    february = result.cohorts[result.cohorts["cohort"] == month("2024-02")]
    # the February cohort is observed for 2 months only: no third cell
    assert february["months_since"].tolist() == [0, 1]


def test_arpa_march(result):
    row = row_of(result.arpa, month=month("2024-03"))
    # 260.00 over 3 paying accounts
    assert row["arpa_minor"] == pytest.approx(26000 / 3)


def test_unit_economics_overall(result):
    row = row_of(result.unit_economics, dimension="all", value="all")
    # window Feb-Mar: ARPA = (410 + 260) / (4 + 3) account-months
    assert row["arpa_minor"] == pytest.approx(67000 / 7)
    # churned 200 over start MRR 350 + 410
    assert row["revenue_churn"] == pytest.approx(200 / 760)
    # LTV = 670/7 x 0.8 / (200/760)
    assert row["ltv_minor"] == pytest.approx(67000 / 7 * 0.8 / (200 / 760))
    # spend 300 + 100 + 500 over 1 new customer (B4)
    assert row["cac_minor"] == pytest.approx(90000)
    # payback = 900 / (670/7 x 0.8)
    assert row["payback_months"] == pytest.approx(900 * 7 / 536)


def test_unit_economics_by_channel(result):
    ads = row_of(result.unit_economics, dimension="channel", value="ads")
    # ARPA (300 + 150) / 3; churn 200 / (300 + 300); LTV = 150 x 0.8 x 3
    assert ads["ltv_minor"] == pytest.approx(36000)
    # no new customer from ads in the window: CAC undefined, not infinite
    assert pd.isna(ads["cac_minor"])
    organic = row_of(result.unit_economics, dimension="channel", value="organic")
    assert organic["cac_minor"] == pytest.approx(10000)
    # no churn: LTV undefined
    assert pd.isna(organic["ltv_minor"])
    # 100 / (220/4 x 0.8)
    assert organic["payback_months"] == pytest.approx(100 / 44)


def test_cac_empty_by_country(result):
    row = row_of(result.unit_economics, dimension="country", value="FR")
    assert pd.isna(row["cac_minor"])


def test_revenue_by_ttv(result):
    accounts = pd.DataFrame(
        {
            "account_id": ["B1", "B2", "B3", "B4", "NOBILL"],
            "m_basic_days": [0.5, 10.0, 40.0, 3.0, 1.0],
            "m_basic_status": [1, 1, 0, 1, 1],
            # B1 has no start for the second milestone, so it is left out of it
            "m_second_days": [None, 2.0, 2.0, 2.0, 2.0],
            "m_second_status": [None, 1, 1, 1, 1],
        }
    )
    everything = result.with_ttv(accounts).ttv
    table = everything[everything["milestone"] == "basic"]
    # B1 in 0-1 day, B4 in 1-7, B2 in 7-30 (churned), B3 not reached
    assert row_of(table, group="0-1")["mrr_minor"] == 15000
    assert row_of(table, group="1-7")["mrr_minor"] == 8000
    assert row_of(table, group="7-30")["paying_accounts"] == 0
    assert row_of(table, group="reached")["mrr_minor"] == 23000
    assert row_of(table, group="not_reached")["mrr_minor"] == 3000
    # accounts without billing are left out
    assert row_of(table, group="0-1")["accounts"] == 1
    second = everything[everything["milestone"] == "second"]
    # B2, B3 and B4 reached it in 2 days
    assert row_of(second, group="1-7")["accounts"] == 3
    assert row_of(second, group="not_reached")["accounts"] == 0
