"""The configurable MRR rules: pauses, same-month churn, churn timing; and
the billing tables saved in a DuckDB store."""

from __future__ import annotations

import ibis
from revenue_helpers import (
    analyse_lines,
    month,
    monthly_lines,
    mrr_of,
    row_of,
    total,
    write,
)

from jalon.revenue.config import parse_revenue_config
from jalon.revenue.load import load_billing, save_to_store
from jalon.revenue.result import analyse

PAUSED = (
    "subscription_id,account_id,plan,started_at,pause_start,pause_end,interval_months,quantity,price\n"
    "P1,P,basic,2024-01-01,2024-03-01,2024-05-01,1,1,60\n"
)
PAUSED_LINES = monthly_lines(
    "IP", "P", {"2024-01": "60", "2024-02": "60", "2024-05": "60", "2024-06": "60"}
)


def movement(result, key):
    return result.movements[result.movements["month"] == month(key)]


def test_pause_as_churn(tmp_path):
    write(tmp_path, "subs.csv", PAUSED)
    result = analyse_lines(
        tmp_path, PAUSED_LINES, as_of="2024-06-30", subscriptions="subs.csv"
    )
    march = row_of(movement(result, "2024-03"), account_id="P")
    assert march["movement"] == "churn"
    assert march["reason"] == "paused"
    assert (
        row_of(movement(result, "2024-05"), account_id="P")["movement"]
        == "reactivation"
    )


def test_pause_as_contraction(tmp_path):
    write(tmp_path, "subs.csv", PAUSED)
    result = analyse_lines(
        tmp_path,
        PAUSED_LINES,
        as_of="2024-06-30",
        subscriptions="subs.csv",
        pause="contraction",
    )
    assert (
        row_of(movement(result, "2024-03"), account_id="P")["movement"] == "contraction"
    )
    assert (
        row_of(movement(result, "2024-05"), account_id="P")["movement"] == "expansion"
    )
    # the paused account is not a lost logo
    assert row_of(result.churn, month=month("2024-03"))["logo_churn"] == 0.0


def test_pause_is_no_omission(tmp_path):
    write(tmp_path, "subs.csv", PAUSED)
    result = analyse_lines(
        tmp_path, PAUSED_LINES, as_of="2024-06-30", subscriptions="subs.csv"
    )
    assert result.checks.empty


# 50.00 for 1-14 February 2023: 14 of 28 days, so 100.00 a month, gone by the
# 28 February snapshot.
FLASH = [
    "F1,S,2023-02-01,2023-02-01,2023-02-14,50.00,0,EUR,paid,subscription,basic,1,,"
]


def test_same_month_churn_counted(tmp_path):
    result = analyse_lines(tmp_path, FLASH, as_of="2023-03-31")
    assert total(result, "2023-02", "new") == 10000
    assert total(result, "2023-02", "churn") == -10000
    assert total(result, "2023-02", "mrr_minor") == 0


def test_same_month_churn_ignored(tmp_path):
    result = analyse_lines(
        tmp_path, FLASH, as_of="2023-03-31", same_month_churn="ignore"
    )
    assert result.movements.empty
    assert result.excluded["same_month_churn"] == 1


ANNUAL = [
    "Q-1,Q,2024-01-01,2024-01-01,2024-12-31,1200.00,0,EUR,paid,subscription,team,1,,"
]
CANCELLED = (
    "subscription_id,account_id,plan,started_at,cancelled_at,ended_at,interval_months,quantity,price\n"
    "Q1,Q,team,2024-01-01,2024-03-15,2025-01-01,12,1,1200\n"
)


def test_churn_at_period_end(tmp_path):
    write(tmp_path, "subs.csv", CANCELLED)
    result = analyse_lines(
        tmp_path, ANNUAL, as_of="2024-06-30", subscriptions="subs.csv"
    )
    # paid until December: still 100 a month in June
    assert mrr_of(result, "Q", "2024-06") == 10000


def test_churn_at_cancellation(tmp_path):
    write(tmp_path, "subs.csv", CANCELLED)
    result = analyse_lines(
        tmp_path,
        ANNUAL,
        as_of="2024-06-30",
        subscriptions="subs.csv",
        churn_timing="cancellation",
    )
    assert mrr_of(result, "Q", "2024-02") == 10000
    # cancelled on 15 March, before the 31 March snapshot
    assert total(result, "2024-03", "churn") == -10000


def test_downgrade_to_zero_is_churn(tmp_path):
    lines = monthly_lines("D", "Z", {"2024-01": "70", "2024-02": "0"})
    result = analyse_lines(tmp_path, lines, as_of="2024-02-29")
    row = row_of(movement(result, "2024-02"), account_id="Z")
    assert row["movement"] == "churn"
    assert row["mrr_minor"] == -7000


def test_tables_saved_in_store(tmp_path):
    write(
        tmp_path,
        "lines.csv",
        "invoice_id,customer_id,invoice_date,amount,status\nI1,A,2024-01-01,10,paid\n"
        "I2,A,2024-01-02,x,paid\n",
    )
    spec = parse_revenue_config({"invoices": "lines.csv"}, tmp_path)
    con = ibis.duckdb.connect(str(tmp_path / "store.duckdb"))
    save_to_store(load_billing(spec), con)
    assert con.table("billing_lines").count().execute() == 1
    assert con.table("billing_rejections").count().execute() == 1


TWO_SUBSCRIPTIONS = (
    "subscription_id,account_id,plan,started_at,cancelled_at,interval_months,quantity,price\n"
    "X,T,team,2024-01-01,2024-03-15,12,1,1200\nY,T,addon,2024-01-01,,12,1,600\n"
)
TWO_LINES = (
    "invoice_id,customer_id,invoice_date,period_start,period_end,amount,subscription_id\n"
    "IX,T,2024-01-01,2024-01-01,2024-12-31,1200,X\nIY,T,2024-01-01,2024-01-01,2024-12-31,600,Y\n"
)


def test_cancellation_cuts_own_subscription(tmp_path):
    write(tmp_path, "subs.csv", TWO_SUBSCRIPTIONS)
    write(tmp_path, "lines.csv", TWO_LINES)
    spec = parse_revenue_config(
        {
            "invoices": "lines.csv",
            "subscriptions": "subs.csv",
            "as_of": "2024-04-30",
            "churn_timing": "cancellation",
        },
        tmp_path,
    )
    result = analyse(load_billing(spec), spec)
    # X (100 a month) stops on 15 March, Y (50 a month) runs on
    assert mrr_of(result, "T", "2024-02") == 15000
    assert mrr_of(result, "T", "2024-03") == 5000
