"""Billing checks: omissions, overlaps, invoices after cancellation and
amounts that differ from the plan price.

Each finding is one row of a single table with the check code, the account,
the lines or subscription involved, the period and the base-currency amount
at stake. Omissions and invoices after cancellation need a subscriptions
table. Without one they are skipped, and the result carries the caveat
``revenue.no_subscriptions``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from fractions import Fraction
from itertools import pairwise

import pandas as pd

from jalon.revenue.config import RevenueSpec
from jalon.revenue.load import convert, exchange_rate
from jalon.revenue.money import add_months, minor_digits, round_fraction, term_months

CHECK_COLUMNS = ["check", "account_id", "reference", "period_start", "period_end",
                 "amount_at_stake_minor", "expected_minor", "actual_minor"]  # fmt: skip
# Amounts within this many minor units of the plan price are not reported.
PRICE_TOLERANCE_MINOR = 1


def _billable(lines: pd.DataFrame) -> pd.DataFrame:
    return lines[(lines["type"] == "subscription") & (lines["status"] != "void")
                 & lines["period_start"].notna() & (lines["amount_minor"] > 0)]  # fmt: skip


def _present(value: object) -> bool:
    return value is not None and not pd.isna(value)


def _periods_by_account(
    lines: pd.DataFrame,
) -> dict[str, list[tuple[dt.date, dt.date]]]:
    periods: dict[str, list] = {}
    for account, start, end in zip(
        lines["account_id"], lines["period_start"], lines["period_end"]
    ):
        periods.setdefault(account, []).append((start, end))
    return periods


def find_omissions(
    lines: pd.DataFrame,
    subscriptions: pd.DataFrame,
    rates: dict,
    base: str,
    as_of: dt.date,
) -> list[dict]:
    """List billing periods of each subscription, after its trial and outside
    pauses, whose first day no subscription line of the account covers."""
    periods = _periods_by_account(_billable(lines))
    findings = []
    for sub in subscriptions.itertuples(index=False):
        start = (
            max(sub.started_at, sub.trial_end)
            if _present(sub.trial_end)
            else sub.started_at
        )
        stop = next((d for d in (sub.ended_at, sub.cancelled_at) if _present(d)), None)
        own = periods.get(sub.account_id, [])
        k = 0
        while True:
            period_start = add_months(start, k * sub.interval_months)
            period_end = add_months(start, (k + 1) * sub.interval_months)
            k += 1
            if period_start > as_of or (stop is not None and period_start >= stop):
                break
            if _paused(sub, period_start) or _covered(own, period_start):
                continue
            rate = exchange_rate(rates, period_start, sub.currency, base)
            price = sub.price_minor * sub.quantity
            findings.append({
                "check": "omission", "account_id": sub.account_id,
                "reference": sub.subscription_id, "period_start": period_start,
                "period_end": period_end,
                "amount_at_stake_minor": None if rate is None else convert(price, sub.currency, rate, base),
                "expected_minor": price, "actual_minor": 0,
            })  # fmt: skip
    return findings


def _paused(sub, day: dt.date) -> bool:
    if not _present(sub.pause_start):
        return False
    return sub.pause_start <= day and (
        not _present(sub.pause_end) or day < sub.pause_end
    )


def _covered(periods: list[tuple[dt.date, dt.date]], day: dt.date) -> bool:
    return any(start <= day < end for start, end in periods)


def find_overlaps(lines: pd.DataFrame) -> list[dict]:
    """List pairs of full-price lines of one account and plan whose service
    periods overlap, when no credit note references either invoice."""
    credited = set(lines["credit_of"].dropna())
    candidates = _billable(lines)
    candidates = candidates[~candidates["proration"].astype(bool)
                            & (candidates["credit_of"].isna())
                            & ~candidates["invoice_id"].isin(credited)]  # fmt: skip
    findings = []
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in candidates.sort_values(["period_start", "row"]).to_dict("records"):
        groups.setdefault((record["account_id"], record["plan"]), []).append(record)
    for ordered in groups.values():
        for earlier, later in pairwise(ordered):
            if later["period_start"] >= earlier["period_end"]:
                continue
            overlap_end = min(earlier["period_end"], later["period_end"])
            share = Fraction((overlap_end - later["period_start"]).days,
                             (later["period_end"] - later["period_start"]).days)  # fmt: skip
            findings.append({
                "check": "overlap", "account_id": later["account_id"],
                "reference": f"{earlier['line_id']} / {later['line_id']}",
                "period_start": later["period_start"], "period_end": overlap_end,
                "amount_at_stake_minor": round_fraction(later["amount_base_minor"] * share),
                "expected_minor": None, "actual_minor": int(later["amount_base_minor"]),
            })  # fmt: skip
    return findings


def find_after_cancellation(
    lines: pd.DataFrame, subscriptions: pd.DataFrame
) -> list[dict]:
    """List subscription lines whose service starts on or after the end of
    the account's subscription while no other subscription of the account
    is running then."""
    findings = []
    by_account: dict[str, list] = {}
    for sub in subscriptions.itertuples(index=False):
        by_account.setdefault(sub.account_id, []).append(sub)
    for line in _billable(lines).itertuples(index=False):
        own = by_account.get(line.account_id, [])
        # Lines that name their subscription are judged against it alone.
        own = [sub for sub in own if sub.subscription_id == line.subscription_id] or own
        running, ended = False, None
        for sub in own:
            stop = next(
                (d for d in (sub.ended_at, sub.cancelled_at) if _present(d)), None
            )
            if sub.started_at <= line.period_start and (
                stop is None or line.period_start < stop
            ):
                running = True
            elif stop is not None and line.period_start >= stop:
                ended = stop if ended is None else max(ended, stop)
        if not running and ended is not None:
            findings.append({
                "check": "after_cancellation", "account_id": line.account_id,
                "reference": line.line_id, "period_start": line.period_start,
                "period_end": line.period_end,
                "amount_at_stake_minor": int(line.amount_base_minor),
                "expected_minor": 0, "actual_minor": int(line.amount_minor),
            })  # fmt: skip
    return findings


def reference_prices(
    lines: pd.DataFrame, spec: RevenueSpec
) -> dict[tuple[str, str, int], Fraction]:
    """Return the list price per seat and billing interval of each (plan,
    currency, interval in months), in minor units: from ``[revenue.plans]``
    when given, else the most frequent price billed for that key."""
    prices = {(name, plan.currency, plan.interval_months): Fraction(plan.price) * 10 ** minor_digits(plan.currency)
              for name, plan in spec.plans.items()}  # fmt: skip
    if prices:
        return prices
    counts: Counter = Counter()
    for line in _full_price(lines).itertuples(index=False):
        counts[(line.plan, line.currency, _interval(line), _unit_price(line))] += 1
    best: dict[tuple[str, str, int], tuple[int, Fraction]] = {}
    for (plan, currency, interval, price), count in sorted(
        counts.items(), key=lambda item: str(item[0])
    ):
        if count > best.get((plan, currency, interval), (0, Fraction(0)))[0]:
            best[(plan, currency, interval)] = (count, price)
    return {key: price for key, (_, price) in best.items()}


def _interval(line) -> int:
    """Return the line's billing interval in whole months (at least 1)."""
    return max(1, round_fraction(term_months(line.period_start, line.period_end)))


def _full_price(lines: pd.DataFrame) -> pd.DataFrame:
    billable = _billable(lines)
    return billable[~billable["proration"].astype(bool) & (billable["quantity"] > 0)
                    & billable["credit_of"].isna() & (billable["plan"] != "")]  # fmt: skip


def _unit_price(line) -> Fraction:
    gross = line.amount_minor + line.discount_minor
    return Fraction(gross, line.quantity)


def find_price_mismatches(lines: pd.DataFrame, spec: RevenueSpec) -> list[dict]:
    """List full-price lines whose amount before discount differs from list
    price x quantity by more than ``PRICE_TOLERANCE_MINOR``. Lines are matched
    to prices by plan, currency and billing interval."""
    prices = reference_prices(lines, spec)
    findings = []
    for line in _full_price(lines).itertuples(index=False):
        price = prices.get((line.plan, line.currency, _interval(line)))
        if price is None:
            continue
        expected = round_fraction(price * line.quantity)
        actual = int(line.amount_minor + line.discount_minor)
        if abs(actual - expected) > PRICE_TOLERANCE_MINOR:
            findings.append({
                "check": "price_mismatch", "account_id": line.account_id,
                "reference": line.line_id, "period_start": line.period_start,
                "period_end": line.period_end,
                # The difference, converted at the line's own exchange rate.
                "amount_at_stake_minor": round_fraction(
                    Fraction(int(line.amount_base_minor), int(line.amount_minor)) * (expected - actual)),
                "expected_minor": expected, "actual_minor": actual,
            })  # fmt: skip
    return findings


def billing_checks(
    lines: pd.DataFrame,
    subscriptions: pd.DataFrame,
    spec: RevenueSpec,
    rates: dict,
    as_of: dt.date,
) -> pd.DataFrame:
    """Run every check and return the findings sorted by check, account, date.

    ``expected_minor`` and ``actual_minor`` are in the line's currency;
    ``amount_at_stake_minor`` is in the base currency.
    """
    findings = find_overlaps(lines) + find_price_mismatches(lines, spec)
    if not subscriptions.empty:
        findings += find_omissions(
            lines, subscriptions, rates, spec.base_currency, as_of
        )
        findings += find_after_cancellation(lines, subscriptions)
    frame = pd.DataFrame(findings, columns=CHECK_COLUMNS)
    return frame.sort_values(
        ["check", "account_id", "period_start", "reference"]
    ).reset_index(drop=True)
