"""LTV, CAC, LTV/CAC and payback over a trailing window, overall and by
segment, channel and country.

Over the last ``trailing_months`` months of the observation:

* ARPA = sum of monthly MRR / sum of monthly paying accounts
* revenue churn = churned MRR / MRR at the start of each month, both summed
* LTV = ARPA x gross margin / revenue churn
* CAC = acquisition spend / new customers
* payback = CAC / (ARPA x gross margin), in months

Spend is given by channel only, so CAC exists overall and by channel; by
segment or country it is left empty.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from jalon.revenue.money import add_months

LTV_FORMULA = "LTV = ARPA × gross margin / revenue churn"
CAC_FORMULA = "CAC = acquisition spend / new customers"
PAYBACK_FORMULA = "payback = CAC / (ARPA × gross margin)"
DIMENSIONS = ("all", "segment", "channel", "country")
ALL = "all"
UNKNOWN = "(unknown)"


def _divide(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def unit_economics(
    mrr: pd.DataFrame,
    movements: pd.DataFrame,
    spend: pd.DataFrame,
    attributes: pd.DataFrame,
    months: tuple[dt.date, ...],
    trailing_months: int,
    gross_margin: Decimal | None,
) -> pd.DataFrame:
    """Return one row per dimension value with ARPA, revenue churn, LTV, new
    customers, spend, CAC, LTV/CAC and payback; money in minor units, rates
    monthly. Missing inputs give ``None``, never zero."""
    window = tuple(m for m in months[-trailing_months:])
    groups = _groups(mrr, movements, attributes)
    rows = []
    for dimension in DIMENSIONS:
        values = [ALL] if dimension == ALL else sorted(groups[dimension].unique())
        for value in values:
            accounts = set(groups["account_id"] if dimension == ALL
                           else groups.loc[groups[dimension] == value, "account_id"])  # fmt: skip
            spend_total = _spend(spend, window, dimension, value)
            rows.append(
                {
                    "dimension": dimension,
                    "value": value,
                    **_group_figures(
                        mrr, movements, accounts, window, gross_margin, spend_total
                    ),
                }
            )
    return pd.DataFrame(rows)


def _groups(
    mrr: pd.DataFrame, movements: pd.DataFrame, attributes: pd.DataFrame
) -> pd.DataFrame:
    ids = sorted(set(mrr["account_id"]) | set(movements["account_id"]))
    accounts = pd.DataFrame({"account_id": pd.Series(ids, dtype=object)})
    frame = accounts.merge(attributes, on="account_id", how="left")
    for column in ("segment", "channel", "country"):
        frame[column] = frame[column].fillna(UNKNOWN) if column in frame else UNKNOWN
    return frame


def _spend(
    spend: pd.DataFrame, window: tuple, dimension: str, value: str
) -> Decimal | None:
    if spend.empty or dimension not in (ALL, "channel"):
        return None
    rows = spend[spend["month"].isin(window)]
    if dimension == "channel":
        rows = rows[rows["channel"] == value]
    return Decimal(int(rows["amount_base_minor"].sum()))


def _group_figures(mrr, movements, accounts, window, gross_margin, spend_total) -> dict:
    own = mrr[mrr["account_id"].isin(accounts) & (mrr["mrr_minor"] > 0)]
    in_window = own[own["month"].isin(window)]
    account_months = len(in_window)
    arpa = _divide(Decimal(int(in_window["mrr_minor"].sum())), Decimal(account_months))
    previous_months = {add_months(m, -1) for m in window}
    start_mrr = Decimal(int(own[own["month"].isin(previous_months)]["mrr_minor"].sum()))
    moved = movements[
        movements["account_id"].isin(accounts) & movements["month"].isin(window)
    ]
    churned = Decimal(-int(moved.loc[(moved["movement"] == "churn") & (moved["reason"] != "same_month"),
                                     "mrr_minor"].sum()))  # fmt: skip
    revenue_churn = _divide(churned, start_mrr)
    margin_arpa = None if arpa is None or gross_margin is None else arpa * gross_margin
    ltv = _divide(margin_arpa, revenue_churn)
    new_customers = int((moved["movement"] == "new").sum())
    cac = (
        _divide(spend_total, Decimal(new_customers))
        if spend_total is not None
        else None
    )
    return {
        "window_start": window[0] if window else None, "window_end": window[-1] if window else None,
        "accounts": int(own.loc[own["month"] == window[-1], "account_id"].nunique()) if window else 0,
        "arpa_minor": _float(arpa), "revenue_churn": _float(revenue_churn),
        "gross_margin": _float(gross_margin), "ltv_minor": _float(ltv),
        "new_customers": new_customers, "spend_minor": _float(spend_total),
        "cac_minor": _float(cac), "ltv_cac": _float(_divide(ltv, cac)),
        "payback_months": _float(_divide(cac, margin_arpa)),
    }  # fmt: skip


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
