"""Churn rates, NRR and GRR, cohort revenue retention, ARPA and unit economics.

Definitions, with M-1 the previous month and S the accounts paying at M-1:

* logo churn = accounts of S with a ``churn`` movement in M / |S|
* revenue churn = churned MRR in M / MRR(M-1)
* gross MRR churn = (churned + contraction MRR) / MRR(M-1)
* net MRR churn = (churned + contraction - expansion MRR) / MRR(M-1)
* NRR over k months = MRR in M of the accounts paying in M-k / MRR(M-k)
* GRR over k months = sum of min(MRR in M, MRR in M-k) over those accounts
  / MRR(M-k)
* ARPA = MRR / paying accounts

Same-month churn pairs are left out of the rates because those accounts
never belonged to S.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise

import pandas as pd

from jalon.revenue.money import add_months, month_index

RETENTION_HORIZONS_MONTHS = (1, 12)


def _share(numerator: int | Decimal, denominator: int | Decimal) -> float | None:
    return None if not denominator else float(Decimal(numerator) / Decimal(denominator))


def churn_rates(
    mrr: pd.DataFrame, movements: pd.DataFrame, months: tuple[dt.date, ...]
) -> pd.DataFrame:
    """Return per month: customers and MRR at the start, churned logos and the
    four churn rates (shares, ``None`` when nothing was at risk)."""
    paying = mrr[mrr["mrr_minor"] > 0]
    by_month = {
        m: g.set_index("account_id")["mrr_minor"] for m, g in paying.groupby("month")
    }
    regular = movements[movements["reason"] != "same_month"]
    rows = []
    for previous, month in pairwise(months):
        start = by_month.get(previous, pd.Series(dtype="int64"))
        moved = regular[regular["month"] == month].groupby("movement")["mrr_minor"]
        sums = moved.sum().to_dict()
        counts = moved.count().to_dict()
        churned, contraction = -sums.get("churn", 0), -sums.get("contraction", 0)
        expansion = sums.get("expansion", 0)
        start_mrr = int(start.sum())
        rows.append({
            "month": month, "customers_start": len(start), "mrr_start_minor": start_mrr,
            "churned_customers": int(counts.get("churn", 0)),
            "logo_churn": _share(counts.get("churn", 0), len(start)),
            "revenue_churn": _share(churned, start_mrr),
            "gross_mrr_churn": _share(churned + contraction, start_mrr),
            "net_mrr_churn": _share(churned + contraction - expansion, start_mrr),
        })  # fmt: skip
    return pd.DataFrame(rows)


def retention(
    mrr: pd.DataFrame,
    months: tuple[dt.date, ...],
    horizons: tuple[int, ...] = RETENTION_HORIZONS_MONTHS,
) -> pd.DataFrame:
    """Return NRR and GRR per month and horizon (months), where defined."""
    paying = mrr[mrr["mrr_minor"] > 0]
    by_month = {
        m: g.set_index("account_id")["mrr_minor"] for m, g in paying.groupby("month")
    }
    rows = []
    for month in months:
        for horizon in horizons:
            base_month = add_months(month, -horizon)
            if base_month < months[0]:
                continue
            base = by_month.get(base_month, pd.Series(dtype="int64"))
            now = by_month.get(month, pd.Series(dtype="int64")).reindex(
                base.index, fill_value=0
            )
            base_mrr = int(base.sum())
            rows.append({
                "month": month, "horizon_months": horizon, "accounts": len(base),
                "mrr_base_minor": base_mrr, "mrr_now_minor": int(now.sum()),
                "nrr": _share(int(now.sum()), base_mrr),
                "grr": _share(int(now.clip(upper=base).sum()), base_mrr),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["month", "horizon_months", "accounts", "mrr_base_minor",
                                       "mrr_now_minor", "nrr", "grr"])  # fmt: skip


def cohort_retention(mrr: pd.DataFrame, months: tuple[dt.date, ...]) -> pd.DataFrame:
    """Return revenue retention by start cohort: MRR of the cohort k months
    after its first paying month over its MRR in that month. Months after the
    observation end are absent, not zero."""
    paying = mrr[mrr["mrr_minor"] > 0]
    if paying.empty:
        return pd.DataFrame(
            columns=["cohort", "months_since", "accounts", "mrr_minor", "retention"]
        )
    first = paying.groupby("account_id")["month"].min().rename("cohort")
    frame = paying.join(first, on="account_id")
    frame["months_since"] = frame["month"].map(month_index) - frame["cohort"].map(
        month_index
    )
    cells = (
        frame.groupby(["cohort", "months_since"])
        .agg(accounts=("account_id", "nunique"), mrr_minor=("mrr_minor", "sum"))
        .reset_index()
    )
    start = cells[cells["months_since"] == 0].set_index("cohort")["mrr_minor"]
    last_index = month_index(months[-1])
    rows = []
    for cohort, initial in start.items():
        for since in range(last_index - month_index(cohort) + 1):
            cell = cells[(cells["cohort"] == cohort) & (cells["months_since"] == since)]
            value = int(cell["mrr_minor"].sum())
            accounts = int(cell["accounts"].sum())
            rows.append((cohort, since, accounts, value, _share(value, int(initial))))
    return pd.DataFrame(
        rows, columns=["cohort", "months_since", "accounts", "mrr_minor", "retention"]
    )


def arpa(totals: pd.DataFrame) -> pd.DataFrame:
    """Return ARPA in minor units per month (``None`` with no paying account)."""
    frame = totals[["month", "mrr_minor", "customers"]].copy()
    frame["arpa_minor"] = [
        None if customers == 0 else float(Decimal(int(mrr)) / customers)
        for mrr, customers in zip(frame["mrr_minor"], frame["customers"])
    ]
    return frame
