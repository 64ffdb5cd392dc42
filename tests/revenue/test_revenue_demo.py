"""The demo company's synthetic billing, analysed end to end."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from jalon.demo.billing import generate_billing


def test_movements_sum_to_mrr_change(billing_demo):
    _, _, result = billing_demo
    previous = 0
    for row in result.totals.itertuples(index=False):
        movements = (
            row.new + row.expansion + row.contraction + row.churn + row.reactivation
        )
        assert movements == row.mrr_minor - previous, row.month
        previous = row.mrr_minor


def test_account_movements_sum_to_totals(billing_demo):
    _, _, result = billing_demo
    by_month = result.movements.groupby("month")["mrr_minor"].sum()
    for row in result.totals.itertuples(index=False):
        assert int(by_month.get(row.month, 0)) == row.net_change, row.month


def test_mrr_matches_generator_truth(billing_demo):
    _, truth, result = billing_demo
    found = {
        f"{m:%Y-%m}": int(v)
        for m, v in zip(result.totals["month"], result.totals["mrr_minor"])
    }
    assert found == truth["billing"]["expected_mrr_minor"]


def test_planted_omissions_found(billing_demo):
    _, truth, result = billing_demo
    omissions = result.checks[result.checks["check"] == "omission"]
    found = sorted(
        zip(omissions["account_id"], omissions["period_start"].map(dt.date.isoformat))
    )
    planted = sorted(
        (o["account_id"], o["period_start"]) for o in truth["billing"]["omissions"]
    )
    assert found == planted


def test_demo_has_every_billing_case(billing_demo):
    _, _, result = billing_demo
    movements = set(result.movements["movement"])
    assert movements == {"new", "expansion", "contraction", "churn", "reactivation"}
    reasons = set(result.movements["reason"])
    assert {"delinquent", "paused", "voluntary"} <= reasons


def test_demo_marked_synthetic(billing_demo):
    _, _, result = billing_demo
    assert result.synthetic
    assert result.caveats[0] == "revenue.synthetic"


def test_generation_repeatable(tmp_path):
    accounts = pd.DataFrame(
        {
            "account_id": ["a1", "a2"],
            "plan": ["team", "starter"],
            "seats": [3, 2],
            "country": ["FR", "US"],
            "channel": ["organic", "partner"],
            "company_size": ["1-10", "11-50"],
            "signup_at": pd.to_datetime(
                ["2025-02-03T10:00:00Z", "2025-03-04T11:00:00Z"]
            ),
            "churn_at": pd.to_datetime([None, "2025-09-01T00:00:00Z"], utc=True),
        }
    )
    generate_billing(accounts, tmp_path / "one", seed=7)
    generate_billing(accounts, tmp_path / "two", seed=7)
    for name in ("invoice_lines.csv", "subscriptions.csv", "exchange_rates.csv"):
        first = (tmp_path / "one" / "billing" / name).read_bytes()
        assert first == (tmp_path / "two" / "billing" / name).read_bytes(), name
