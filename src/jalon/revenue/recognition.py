"""Revenue recognition: each invoice line spread over its service days.

A line is recognised pro rata by the days of its service period falling in
each month, in base-currency minor units split with largest remainders so
the parts add up to the line exactly. A line without a service period is
recognised on its invoice date. Void lines are left out; unpaid lines are
recognised (collection is a separate question).

At each month end, deferred revenue (PCA) is the part of lines invoiced on
or before that day that is not yet recognised. Accrued revenue (FAE) is the
part already recognised of lines invoiced later. Cumulative invoiced minus
cumulative recognised equals PCA minus FAE.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from jalon.revenue.money import (
    add_months,
    month_end,
    month_start,
    months_between,
    split_exact,
)

ONE_DAY = dt.timedelta(days=1)


def recognition_schedule(lines: pd.DataFrame) -> pd.DataFrame:
    """Return one row per line and month: ``line_id``, ``account_id``,
    ``invoice_id``, ``invoice_date``, ``month``, ``recognized_minor``."""
    rows = []
    for line in lines[lines["status"] != "void"].itertuples(index=False):
        start = (
            line.period_start if not pd.isna(line.period_start) else line.invoice_date
        )
        end = (
            line.period_end
            if not pd.isna(line.period_end)
            else line.invoice_date + ONE_DAY
        )
        months = months_between(start, end - ONE_DAY)
        days = [(min(end, add_months(m, 1)) - max(start, m)).days for m in months]
        for month, part in zip(months, split_exact(int(line.amount_base_minor), days)):
            rows.append(
                (
                    line.line_id,
                    line.account_id,
                    line.invoice_id,
                    line.invoice_date,
                    month,
                    part,
                )
            )
    columns = [
        "line_id",
        "account_id",
        "invoice_id",
        "invoice_date",
        "month",
        "recognized_minor",
    ]
    return pd.DataFrame(rows, columns=columns)


def recognition_summary(lines: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """Return per month: invoiced, recognised, and PCA and FAE at month end."""
    active = lines[lines["status"] != "void"]
    if active.empty:
        return pd.DataFrame(columns=["month", "invoiced_minor", "recognized_minor",
                                     "deferred_minor", "accrued_minor"])  # fmt: skip
    last = max(max(active["invoice_date"]), max(schedule["month"]))
    months = months_between(
        min(min(active["invoice_date"]), min(schedule["month"])), last
    )
    invoiced_month = active["invoice_date"].map(month_start)
    rows = []
    for month in months:
        close = month_end(month)
        to_date = schedule[schedule["month"] <= month]
        invoiced_by = to_date["invoice_date"] <= close
        recognized_to_date = (
            to_date.groupby(invoiced_by)["recognized_minor"].sum().to_dict()
        )
        amount_invoiced = int(
            active.loc[active["invoice_date"] <= close, "amount_base_minor"].sum()
        )
        rows.append({
            "month": month,
            "invoiced_minor": int(active.loc[invoiced_month == month, "amount_base_minor"].sum()),
            "recognized_minor": int(schedule.loc[schedule["month"] == month, "recognized_minor"].sum()),
            "deferred_minor": amount_invoiced - int(recognized_to_date.get(True, 0)),
            "accrued_minor": int(recognized_to_date.get(False, 0)),
        })  # fmt: skip
    return pd.DataFrame(rows)
