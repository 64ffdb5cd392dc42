"""MRR per account and month, and its movements.

Rules (documented for users in ``docs/en/revenue.md``):

* A line counts toward MRR when its type is ``subscription`` or ``discount``,
  its status is not ``void`` and it has a service period. Trials, one-off and
  metered lines never count.
* A line's monthly rate is its base-currency amount divided by the length of
  its service period in calendar months (``money.term_months``), rounded to
  minor units. An annual line of 1 200 is 100 a month. A proration line of
  the new plan over 17 of 31 days gives the new plan's full monthly rate.
* An account's MRR for month M is the sum of the rates of its lines active on
  the snapshot day, the last day of M (or ``as_of`` in the last month). It is
  floored at zero, so a discount larger than the price gives zero.
* A line stops at its period end; with ``churn_timing = "cancellation"`` it
  stops at a cancellation date inside its period; an unpaid line (``open`` or
  ``uncollectible``) stops ``delinquent_days`` after its invoice date.
* A paused account has zero MRR while paused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from jalon.revenue.config import RevenueSpec
from jalon.revenue.money import (
    add_months,
    month_end,
    month_start,
    months_between,
    round_fraction,
    term_months,
)  # fmt: skip

logger = logging.getLogger(__name__)

MRR_TYPES = ("subscription", "discount")
UNPAID_STATUSES = ("open", "uncollectible")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class MrrTables:
    """Intermediate MRR tables, all amounts in base-currency minor units."""

    months: tuple[dt.date, ...]
    mrr: pd.DataFrame  # account_id, month, mrr_minor, paused
    movements: pd.DataFrame  # month, account_id, movement, mrr_minor, reason
    totals: (
        pd.DataFrame
    )  # month, mrr_minor, arr_minor, customers, one column per movement
    excluded_lines: dict[str, int]
    excluded_accounts: dict[str, int]
    floored: int


def snapshot_day(month: dt.date, as_of: dt.date) -> dt.date:
    """Return the day on which MRR of ``month`` is measured."""
    return min(month_end(month), as_of)


def default_as_of(lines: pd.DataFrame) -> dt.date:
    """Return the latest invoice date, the default end of observation."""
    return max(lines["invoice_date"])


def line_spans(
    lines: pd.DataFrame, subscriptions: pd.DataFrame, spec: RevenueSpec
) -> pd.DataFrame:
    """Return MRR lines with their monthly rate and active span.

    Columns: ``account_id``, ``line_id``, ``rate_minor``, ``active_start``,
    ``active_end`` (exclusive), ``delinquent`` (the span was cut short by an
    unpaid invoice).
    """
    recurring = lines[lines["type"].isin(MRR_TYPES) & (lines["status"] != "void")]
    recurring = recurring[recurring["period_start"].notna()]
    cancellations = (
        _cancellations(subscriptions) if spec.churn_timing == "cancellation" else {}
    )
    rows = []
    for line in recurring.itertuples(index=False):
        start, end = line.period_start, line.period_end
        rate = round_fraction(
            Fraction(int(line.amount_base_minor)) / term_months(start, end)
        )
        active_end, delinquent = end, False
        # A line that names a known subscription stops only at that subscription's cancellation.
        key = (line.account_id, line.subscription_id)
        for cancelled in cancellations.get(
            key if key in cancellations else line.account_id, ()
        ):
            if start <= cancelled < active_end:
                active_end = cancelled
        if line.status in UNPAID_STATUSES and spec.delinquent_days is not None:
            cutoff = line.invoice_date + dt.timedelta(days=spec.delinquent_days)
            if cutoff < active_end:
                active_end, delinquent = max(cutoff, start), True
        rows.append(
            (line.account_id, line.line_id, rate, start, active_end, delinquent)
        )
    columns = [
        "account_id",
        "line_id",
        "rate_minor",
        "active_start",
        "active_end",
        "delinquent",
    ]
    return pd.DataFrame(rows, columns=columns)


def _cancellations(subscriptions: pd.DataFrame) -> dict:
    """Return cancellation dates by account and by (account, subscription id);
    every known subscription has a key, with an empty list when it runs on."""
    found: dict = {}
    for row in subscriptions.itertuples(index=False):
        key = (row.account_id, row.subscription_id)
        found.setdefault(key, [])
        if row.cancelled_at is not None and not pd.isna(row.cancelled_at):
            found[key].append(row.cancelled_at)
            found.setdefault(row.account_id, []).append(row.cancelled_at)
    return found


def pauses(
    subscriptions: pd.DataFrame,
) -> dict[str, list[tuple[dt.date, dt.date | None]]]:
    """Return each account's pauses as ``(start, end or None)`` pairs."""
    found: dict[str, list] = defaultdict(list)
    for row in subscriptions.itertuples(index=False):
        if row.pause_start is not None and not pd.isna(row.pause_start):
            end = (
                None
                if row.pause_end is None or pd.isna(row.pause_end)
                else row.pause_end
            )
            found[row.account_id].append((row.pause_start, end))
    return found


def _is_paused(spans: list, day: dt.date) -> bool:
    return any(start <= day and (end is None or day < end) for start, end in spans)


def account_month_mrr(
    spans: pd.DataFrame, paused_spans: dict, months: list[dt.date], as_of: dt.date
) -> tuple[dict, set, int, dict]:
    """Sum line rates on each month's snapshot day.

    Returns
    -------
    mrr, paused, floored, flashes
        ``mrr[(account, month)]`` in minor units (zero floor applied),
        the set of paused (account, month) pairs, the number of floored
        account-months, and ``flashes[(account, month)]``: summed rates of
        lines that started and ended between two snapshots.
    """
    raw: dict[tuple[str, dt.date], int] = defaultdict(int)
    flashes: dict[tuple[str, dt.date], int] = defaultdict(int)
    first, last = months[0], months[-1]
    for span in spans.itertuples(index=False):
        covered = False
        for month in months_between(
            max(span.active_start, first), min(span.active_end, last)
        ):
            day = snapshot_day(month, as_of)
            if span.active_start <= day < span.active_end:
                raw[(span.account_id, month)] += span.rate_minor
                covered = True
        if (
            not covered
            and span.active_end > span.active_start
            and span.active_start <= as_of
        ):
            flashes[(span.account_id, month_start(span.active_start))] += (
                span.rate_minor
            )
    paused = {
        (account, month)
        for account, spans_of in paused_spans.items()
        for month in months
        if _is_paused(spans_of, snapshot_day(month, as_of))
    }
    mrr, floored = {}, 0
    for key, value in raw.items():
        if key in paused:
            continue
        if value < 0:
            floored += 1
        mrr[key] = max(value, 0)
    return mrr, paused, floored, {k: max(v, 0) for k, v in flashes.items() if v > 0}


def compute_mrr(
    data_lines: pd.DataFrame,
    subscriptions: pd.DataFrame,
    spec: RevenueSpec,
    as_of: dt.date,
) -> MrrTables:
    """Compute account-month MRR, movements and monthly totals.

    Movements sum exactly to the change in total MRR every month.
    """
    spans = line_spans(data_lines, subscriptions, spec)
    excluded_lines = _excluded_lines(data_lines)
    if spans.empty:
        months = [month_start(as_of)]
    else:
        months = months_between(min(spans["active_start"]), as_of)
    mrr, paused, floored, flashes = account_month_mrr(
        spans, pauses(subscriptions), months, as_of
    )
    movements, same_month = classify_movements(
        mrr, paused, flashes, months, spec, spans
    )
    mrr_frame = pd.DataFrame(
        [(a, m, v, (a, m) in paused) for (a, m), v in sorted(mrr.items()) if v > 0 or (a, m) in paused],
        columns=["account_id", "month", "mrr_minor", "paused"],
    )  # fmt: skip
    excluded_accounts = (
        {"same_month_churn": same_month} if spec.same_month_churn == "ignore" else {}
    )
    return MrrTables(
        months=tuple(months), mrr=mrr_frame, movements=movements,
        totals=monthly_totals(mrr_frame, movements, months),
        excluded_lines=excluded_lines, excluded_accounts=excluded_accounts, floored=floored,
    )  # fmt: skip


def _excluded_lines(lines: pd.DataFrame) -> dict[str, int]:
    reasons = {
        "void": lines["status"] == "void",
        "trial": lines["type"] == "trial",
        "one_off": lines["type"] == "one_off",
        "metered": lines["type"] == "metered",
    }
    return {reason: int(mask.sum()) for reason, mask in reasons.items() if mask.any()}


def classify_movements(
    mrr: dict,
    paused: set,
    flashes: dict,
    months: list[dt.date],
    spec: RevenueSpec,
    spans: pd.DataFrame,
) -> tuple[pd.DataFrame, int]:
    """Classify each account's month-over-month MRR change.

    A return to positive MRR after zero is ``reactivation`` when the account
    had MRR before, else ``new``. With ``pause = "contraction"`` a pause is a
    contraction to zero and the resumption an expansion.
    """
    accounts = sorted(
        {a for a, _ in mrr} | {a for a, _ in flashes} | {a for a, _ in paused}
    )
    delinquent_ends = _delinquent_ends(spans)
    rows, same_month = [], 0
    for account in accounts:
        seen_before = False
        for index, month in enumerate(months):
            prev = mrr.get((account, months[index - 1]), 0) if index else 0
            cur = mrr.get((account, month), 0)
            kind = _movement(
                prev,
                cur,
                seen_before,
                account,
                month,
                months[index - 1] if index else None,
                paused,
                spec,
            )
            if kind:
                reason = _reason(kind, account, month, paused, delinquent_ends)
                rows.append((month, account, kind, cur - prev, reason))
            flash = flashes.get((account, month), 0)
            if prev == 0 and cur == 0 and flash > 0:
                if spec.same_month_churn == "ignore":
                    same_month += 1
                else:
                    start_kind = "reactivation" if seen_before else "new"
                    rows.append((month, account, start_kind, flash, "same_month"))
                    rows.append((month, account, "churn", -flash, "same_month"))
                    seen_before = True
            seen_before = seen_before or cur > 0
    columns = ["month", "account_id", "movement", "mrr_minor", "reason"]
    return pd.DataFrame(rows, columns=columns), same_month


def _movement(
    prev: int,
    cur: int,
    seen_before: bool,
    account: str,
    month: dt.date,
    prev_month: dt.date | None,
    paused: set,
    spec: RevenueSpec,
) -> str | None:
    pause_is_contraction = spec.pause == "contraction"
    if prev == 0 and cur > 0:
        if (
            pause_is_contraction
            and prev_month is not None
            and (account, prev_month) in paused
        ):
            return "expansion"
        return "reactivation" if seen_before else "new"
    if prev > 0 and cur == 0:
        return (
            "contraction"
            if pause_is_contraction and (account, month) in paused
            else "churn"
        )
    if cur > prev:
        return "expansion"
    if cur < prev:
        return "contraction"
    return None


def _delinquent_ends(spans: pd.DataFrame) -> dict[str, list[dt.date]]:
    ends: dict[str, list[dt.date]] = defaultdict(list)
    for span in spans[spans["delinquent"]].itertuples(index=False):
        ends[span.account_id].append(span.active_end)
    return ends


def _reason(
    kind: str, account: str, month: dt.date, paused: set, delinquent_ends: dict
) -> str:
    if kind != "churn":
        return ""
    if (account, month) in paused:
        return "paused"
    previous = add_months(month, -1)
    if any(
        month_end(previous) < end <= month_end(month)
        for end in delinquent_ends.get(account, ())
    ):
        return "delinquent"
    return "voluntary"


def monthly_totals(
    mrr: pd.DataFrame, movements: pd.DataFrame, months: list[dt.date]
) -> pd.DataFrame:
    """Return one row per month: total MRR, ARR, paying customers and the sum
    of each movement (churn and contraction negative)."""
    rows = []
    by_month = mrr.groupby("month")["mrr_minor"]
    totals = by_month.sum().to_dict()
    customers = (
        mrr[mrr["mrr_minor"] > 0].groupby("month")["account_id"].nunique().to_dict()
    )
    moved = movements.groupby(["month", "movement"])["mrr_minor"].sum().to_dict()
    for month in months:
        total = int(totals.get(month, 0))
        row = {"month": month, "mrr_minor": total, "arr_minor": total * MONTHS_PER_YEAR,
               "customers": int(customers.get(month, 0))}  # fmt: skip
        for kind in MOVEMENTS:
            row[kind] = int(moved.get((month, kind), 0))
        row["net_change"] = sum(row[kind] for kind in MOVEMENTS)
        rows.append(row)
    return pd.DataFrame(rows)
