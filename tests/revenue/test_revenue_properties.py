"""Properties that hold for any billing history: movements add up to the MRR
change, MRR is never negative, recognition adds up to the amounts billed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jalon.revenue.config import parse_revenue_config
from jalon.revenue.extras import SUBSCRIPTION_COLUMNS
from jalon.revenue.generic import LINE_COLUMNS
from jalon.revenue.load import BillingData
from jalon.revenue.result import analyse

FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 400

line = st.fixed_dictionaries(
    {
        "account": st.sampled_from(["a", "b", "c"]),
        "start": st.integers(0, DAYS),
        "length": st.integers(1, 400),
        "amount": st.integers(-20_000, 200_000),
        "status": st.sampled_from(["paid", "paid", "open", "void", "uncollectible"]),
        "type": st.sampled_from(
            ["subscription", "subscription", "discount", "one_off"]
        ),
    }
)


def billing(rows: list[dict]) -> BillingData:
    records = []
    for number, row in enumerate(rows):
        start = FIRST_DAY + dt.timedelta(days=row["start"])
        records.append({
            "file": "generated", "row": number + 2, "line_id": f"L{number}",
            "account_id": row["account"], "invoice_id": f"I{number}", "invoice_date": start,
            "period_start": start, "period_end": start + dt.timedelta(days=row["length"]),
            "currency": "EUR", "amount_minor": row["amount"], "tax_minor": 0,
            "discount_minor": 0, "status": row["status"], "type": row["type"], "plan": "p",
            "quantity": 1, "credit_of": None, "proration": False, "subscription_id": None,
        })  # fmt: skip
    lines = pd.DataFrame(records, columns=list(LINE_COLUMNS))
    lines["amount_base_minor"] = lines["amount_minor"]
    return BillingData(
        lines=lines,
        subscriptions=pd.DataFrame(columns=list(SUBSCRIPTION_COLUMNS)),
        spend=pd.DataFrame(columns=["month", "channel", "amount_base_minor"]),
        attributes=pd.DataFrame(columns=["account_id"]),
        base_currency="EUR",
    )


# derandomize: the examples come from a fixed seed, so every run checks the same cases.
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    rows=st.lists(line, min_size=1, max_size=12),
    same_month=st.sampled_from(["count", "ignore"]),
)
def test_billing_invariants(rows, same_month):
    spec = parse_revenue_config(
        {"invoices": "x.csv", "as_of": "2025-03-31", "same_month_churn": same_month},
        Path("/unused"),
    )
    result = analyse(billing(rows), spec)
    previous = 0
    for total in result.totals.itertuples(index=False):
        assert total.net_change == total.mrr_minor - previous
        previous = total.mrr_minor
    assert (result.mrr["mrr_minor"] >= 0).all()
    billed = sum(r["amount"] for r in rows if r["status"] != "void")
    assert int(result.recognition_schedule["recognized_minor"].sum()) == billed
