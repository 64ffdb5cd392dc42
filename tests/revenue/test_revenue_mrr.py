"""MRR and movement rules on a hand-built invoice-line file.

Every expected figure is worked out in the comment above its assert.
"""

from __future__ import annotations

import datetime as dt

import pytest

from jalon.revenue.config import parse_revenue_config
from jalon.revenue.load import load_billing
from jalon.revenue.result import analyse

HEADER = "invoice_id,customer_id,invoice_date,period_start,period_end,amount,currency,status,type,plan,quantity,credit_note_for,proration\n"
# Service period ends are inclusive (the default). Base currency EUR.
LINES = [
    # A1: annual plan paid upfront, 1200 for 2024 -> 100 a month.
    "I1,A1,2024-01-01,2024-01-01,2024-12-31,1200.00,EUR,paid,subscription,team,1,,",
    # A2: 50 a month, upgraded to 80 on 15 January with proration over 17/31 days.
    "I2,A2,2024-01-01,2024-01-01,2024-01-31,50.00,EUR,paid,subscription,basic,1,,",
    "I2b,A2,2024-01-15,2024-01-15,2024-01-31,-27.42,EUR,paid,subscription,basic,1,,true",
    "I2b,A2,2024-01-15,2024-01-15,2024-01-31,43.87,EUR,paid,subscription,pro,1,,true",
    *[
        f"I2-{m},A2,2024-{m:02d}-01,2024-{m:02d}-01,2024-{m:02d}-{d},80.00,EUR,paid,subscription,pro,1,,"
        for m, d in ((2, 29), (3, 31), (4, 30), (5, 31), (6, 30))
    ],
    # A3: two-year term of 4800 from 10 February 2024 -> 200 a month.
    "I3,A3,2024-02-10,2024-02-10,2026-02-09,4800.00,EUR,paid,subscription,team,1,,",
    # A4: a discount of 80 on a price of 50 -> MRR 0, never negative.
    "I4,A4,2024-01-01,2024-01-01,2024-01-31,50.00,EUR,paid,subscription,basic,1,,",
    "I4,A4,2024-01-01,2024-01-01,2024-01-31,-80.00,EUR,paid,discount,basic,1,,",
    # A5: 110 USD in March at 0.9 EUR per USD -> 99 EUR.
    "I5,A5,2024-03-01,2024-03-01,2024-03-31,110.00,USD,paid,subscription,team,1,,",
    # A6: 30 a month in January and February, nothing in March, back in April.
    *[
        f"I6-{m},A6,2024-{m:02d}-01,2024-{m:02d}-01,2024-{m:02d}-{d},30.00,EUR,paid,subscription,basic,1,,"
        for m, d in ((1, 31), (2, 29), (4, 30), (5, 31), (6, 30))
    ],
    # A7: a free trial in January, then 40 a month, plus a one-off set-up fee.
    "I7-1,A7,2024-01-01,2024-01-01,2024-01-31,0.00,EUR,paid,trial,basic,1,,",
    *[
        f"I7-{m},A7,2024-{m:02d}-01,2024-{m:02d}-01,2024-{m:02d}-{d},40.00,EUR,paid,subscription,basic,1,,"
        for m, d in ((2, 29), (3, 31), (4, 30), (5, 31), (6, 30))
    ],
    "I7-S,A7,2024-02-01,,,500.00,EUR,paid,one_off,,1,,",
    # A8: paid January at 60; the February renewal fails (open, 14-day limit).
    "I8-1,A8,2024-01-01,2024-01-01,2024-01-31,60.00,EUR,paid,subscription,basic,2,,",
    "I8-2,A8,2024-02-01,2024-02-01,2024-02-29,60.00,EUR,open,subscription,basic,2,,",
    # A9: 70 in January, downgraded to zero seats in February.
    "I9-1,A9,2024-01-01,2024-01-01,2024-01-31,70.00,EUR,paid,subscription,basic,1,,",
    "I9-2,A9,2024-02-01,2024-02-01,2024-02-29,0.00,EUR,paid,subscription,basic,0,,",
    # A10: 90 in March, credit note of 30 without a period -> 60.
    "I10,A10,2024-03-01,2024-03-01,2024-03-31,90.00,EUR,paid,subscription,team,1,,",
    "C10,A10,2024-03-20,,,-30.00,EUR,paid,credit_note,team,1,I10,",
]
RATES = "month,currency,rate\n2024-03,USD,0.9\n"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("billing")
    (folder / "lines.csv").write_text(HEADER + "\n".join(LINES) + "\n")
    (folder / "rates.csv").write_text(RATES)
    spec = parse_revenue_config(
        {
            "invoices": "lines.csv",
            "rates": "rates.csv",
            "as_of": "2024-06-30",
            "delinquent_days": 14,
        },
        folder,
    )
    return analyse(load_billing(spec), spec)


def mrr_of(result, account: str, month: str) -> int:
    day = dt.date.fromisoformat(month + "-01")
    rows = result.mrr[
        (result.mrr["account_id"] == account) & (result.mrr["month"] == day)
    ]
    return int(rows["mrr_minor"].sum())


def total(result, month: str, column: str) -> int:
    day = dt.date.fromisoformat(month + "-01")
    return int(result.totals.loc[result.totals["month"] == day, column].iloc[0])


def test_mrr_rules_per_account(result):
    # 1200 / 12 months = 100.00
    assert mrr_of(result, "A1", "2024-01") == 10000
    assert mrr_of(result, "A1", "2024-06") == 10000
    # 50 + (-2742 * 31/17 = -5000.1 -> -5000) + (4387 * 31/17 = 7999.8 -> 8000) = 80.00
    assert mrr_of(result, "A2", "2024-01") == 8000
    # 4800 / 24 months = 200.00
    assert mrr_of(result, "A3", "2024-02") == 20000
    # 50 - 80 = -30, floored to 0
    assert mrr_of(result, "A4", "2024-01") == 0
    # 110 USD x 0.9 = 99.00 EUR
    assert mrr_of(result, "A5", "2024-03") == 9900
    # the trial month counts nothing, the set-up fee is one-off
    assert mrr_of(result, "A7", "2024-01") == 0
    assert mrr_of(result, "A7", "2024-02") == 4000
    # unpaid since 1 February, cut on 15 February, before the 29 February snapshot
    assert mrr_of(result, "A8", "2024-02") == 0
    # 90 - 30 credit note = 60.00
    assert mrr_of(result, "A10", "2024-03") == 6000


def test_monthly_totals(result):
    # Jan: A1 100 + A2 80 + A6 30 + A8 60 + A9 70 = 340
    assert total(result, "2024-01", "mrr_minor") == 34000
    # Feb: A1 100 + A2 80 + A3 200 + A6 30 + A7 40 = 450
    assert total(result, "2024-02", "mrr_minor") == 45000
    # Mar: A1 100 + A2 80 + A3 200 + A5 99 + A7 40 + A10 60 = 579
    assert total(result, "2024-03", "mrr_minor") == 57900
    # Apr: A1 100 + A2 80 + A3 200 + A6 30 + A7 40 = 450
    assert total(result, "2024-04", "mrr_minor") == 45000
    # ARR = 12 x 450 = 5400
    assert total(result, "2024-04", "arr_minor") == 540000


def test_movements_by_month(result):
    # Feb: new A3 200 + A7 40; churn A8 60 + A9 70
    assert total(result, "2024-02", "new") == 24000
    assert total(result, "2024-02", "churn") == -13000
    # Mar: new A5 99 + A10 60; A6 churns 30
    assert total(result, "2024-03", "new") == 15900
    assert total(result, "2024-03", "churn") == -3000
    # Apr: A6 returns (reactivation, not new); A5 and A10 churn 99 + 60
    assert total(result, "2024-04", "reactivation") == 3000
    assert total(result, "2024-04", "new") == 0
    assert total(result, "2024-04", "churn") == -15900


def test_movements_sum_to_change(result):
    previous = 0
    for row in result.totals.itertuples():
        assert row.net_change == row.mrr_minor - previous, row.month
        previous = row.mrr_minor


def test_failed_renewal_is_delinquent(result):
    churn = result.movements[
        (result.movements["account_id"] == "A8")
        & (result.movements["movement"] == "churn")
    ]
    assert churn["reason"].tolist() == ["delinquent"]


def test_excluded_lines_counted(result):
    assert result.excluded["line_trial"] == 1
    assert result.excluded["line_one_off"] == 1
