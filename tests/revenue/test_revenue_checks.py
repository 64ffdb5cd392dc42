"""Billing checks against a subscriptions file and a plan price list.

C1: team at 100 a month from 2024-01-01, invoiced Jan, Feb, Apr: March is
    omitted (100 at stake)
C2: basic billed twice for February (two full-price lines of 50)
C3: basic from 2024-01-01, ended 2024-02-01, yet invoiced for March (40)
C4: team, 2 seats at 100: billed 150 (mismatch of 50), then 160 + 40
    discount (matches)
"""

from __future__ import annotations

import pytest
from revenue_helpers import analyse_lines, month, monthly_lines, row_of, write

SUBSCRIPTIONS = (
    "subscription_id,account_id,plan,started_at,ended_at,interval_months,quantity,price,currency\n"
    "S1,C1,team,2024-01-01,,1,1,100,EUR\n"
    "S2,C2,basic,2024-02-01,2024-03-01,1,1,50,EUR\n"
    "S3,C3,basic,2024-01-01,2024-02-01,1,1,40,EUR\n"
)


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checks")
    write(folder, "subscriptions.csv", SUBSCRIPTIONS)
    lines = (
        monthly_lines(
            "I1", "C1", {"2024-01": "100", "2024-02": "100", "2024-04": "100"}, "team"
        )
        + monthly_lines("I2a", "C2", {"2024-02": "50"})
        + monthly_lines("I2b", "C2", {"2024-02": "50"})
        + monthly_lines("I3", "C3", {"2024-01": "40", "2024-03": "40"})
        + [
            "I4-1,C4,2024-01-01,2024-01-01,2024-01-31,150.00,0,EUR,paid,subscription,team,2,,",
            "I4-2,C4,2024-02-01,2024-02-01,2024-02-29,160.00,40.00,EUR,paid,subscription,team,2,,",
        ]
    )
    result = analyse_lines(
        folder,
        lines,
        as_of="2024-04-30",
        subscriptions="subscriptions.csv",
        plans={"team": {"price": 100, "currency": "EUR"}},
    )
    return result.checks


def test_omission_found(checks):
    found = row_of(checks, check="omission")
    assert found["account_id"] == "C1"
    assert found["period_start"] == month("2024-03")
    assert found["amount_at_stake_minor"] == 10000


def test_double_billing_found(checks):
    found = row_of(checks, check="overlap")
    assert found["account_id"] == "C2"
    # the second line overlaps the first over its whole period
    assert found["amount_at_stake_minor"] == 5000


def test_invoice_after_cancellation(checks):
    found = row_of(checks, check="after_cancellation")
    assert found["account_id"] == "C3"
    assert found["period_start"] == month("2024-03")
    assert found["amount_at_stake_minor"] == 4000


def test_price_mismatch(checks):
    found = row_of(checks, check="price_mismatch")
    assert found["account_id"] == "C4"
    # 2 seats x 100 expected, 150 billed
    assert found["expected_minor"] == 20000
    assert found["amount_at_stake_minor"] == 5000


def test_no_other_findings(checks):
    assert len(checks) == 4


def test_checks_need_subscriptions(tmp_path):
    lines = monthly_lines("I1", "C1", {"2024-01": "100", "2024-03": "100"})
    result = analyse_lines(tmp_path, lines, as_of="2024-03-31")
    assert (result.checks["check"] == "omission").sum() == 0
    assert "revenue.no_subscriptions" in result.caveats
