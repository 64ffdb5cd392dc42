"""Revenue by Time to Value: MRR, revenue retention and LTV by TTV bucket and
by milestone reached, for accounts present in both billing and events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise

import pandas as pd

from jalon.revenue.money import add_months, month_index
from jalon.revenue.unit_economics import _group_figures

NOT_REACHED = "not_reached"
REACHED = "reached"
RETENTION_MONTHS = 12
REACHED_STATUS = 1


def bucket_labels(edges: tuple[float, ...]) -> list[str]:
    """Return bucket labels in days for the given upper limits.

    >>> bucket_labels((1.0, 7.0))
    ['0-1', '1-7', '7+']
    """
    bounds = [0.0, *edges]
    labels = [f"{_num(low)}-{_num(high)}" for low, high in pairwise(bounds)]
    return labels + [f"{_num(edges[-1])}+"]


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _bucket(days: float, edges: tuple[float, ...], labels: list[str]) -> str:
    for edge, label in zip(edges, labels):
        if days <= edge:
            return label
    return labels[-1]


def revenue_by_ttv(
    mrr: pd.DataFrame,
    movements: pd.DataFrame,
    accounts: pd.DataFrame,
    months: tuple[dt.date, ...],
    edges: tuple[float, ...],
    trailing_months: int,
    gross_margin: Decimal | None,
) -> pd.DataFrame:
    """Return MRR, NRR over 12 months and LTV per milestone and TTV bucket.

    Parameters
    ----------
    accounts
        The per-account table of ``milestones.account_table`` as pandas, with
        ``account_id`` and ``m_<id>_days`` / ``m_<id>_status`` columns.
        Accounts that have no billing are left out of every group.
    edges
        Upper limits of the TTV buckets, in days (a TTV equal to a limit falls
        in the lower bucket).

    Returns
    -------
    DataFrame
        milestone, group (a bucket label, ``reached`` or ``not_reached``),
        accounts, paying_accounts, mrr_minor (last month), arpa_minor,
        nrr_12 (MRR 12 months after each account's first paying month over
        its first-month MRR, accounts observed that long) and ltv_minor.
    """
    billed = set(mrr["account_id"])
    milestones = sorted(
        c[2:-5] for c in accounts.columns if c.startswith("m_") and c.endswith("_days")
    )
    labels = bucket_labels(edges)
    window = months[-trailing_months:]
    rows = []
    for milestone in milestones:
        # A null status means the milestone has no start for that account: left out.
        status = accounts[f"m_{milestone}_status"]
        frame = accounts[accounts["account_id"].isin(billed) & status.notna()]
        reached = frame[f"m_{milestone}_status"] == REACHED_STATUS
        groups = {
            NOT_REACHED: set(frame.loc[~reached, "account_id"]),
            REACHED: set(frame.loc[reached, "account_id"]),
        }
        for label in labels:
            groups[label] = set()
        for account, days in zip(
            frame.loc[reached, "account_id"], frame.loc[reached, f"m_{milestone}_days"]
        ):
            groups[_bucket(float(days), edges, labels)].add(account)
        for group in [*labels, REACHED, NOT_REACHED]:
            rows.append(
                {
                    "milestone": milestone,
                    "group": group,
                    **_figures(
                        mrr, movements, groups[group], months, window, gross_margin
                    ),
                }
            )
    return pd.DataFrame(rows)


def _figures(mrr, movements, accounts: set, months, window, gross_margin) -> dict:
    own = mrr[mrr["account_id"].isin(accounts) & (mrr["mrr_minor"] > 0)]
    last = own[own["month"] == months[-1]]
    first = own.groupby("account_id")["month"].min()
    eligible = first[
        first.map(month_index) <= month_index(months[-1]) - RETENTION_MONTHS
    ]
    by_key = own.set_index(["account_id", "month"])["mrr_minor"].to_dict()
    base = sum(by_key[(a, m)] for a, m in eligible.items())
    later = sum(
        by_key.get((a, add_months(m, RETENTION_MONTHS)), 0) for a, m in eligible.items()
    )
    figures = _group_figures(mrr, movements, accounts, window, gross_margin, None)
    return {
        "accounts": len(accounts),
        "paying_accounts": int(last["account_id"].nunique()),
        "mrr_minor": int(last["mrr_minor"].sum()),
        "arpa_minor": figures["arpa_minor"],
        "nrr_12": None if not base else float(Decimal(later) / Decimal(base)),
        "ltv_minor": figures["ltv_minor"],
    }
