"""Synthetic billing history of the demo company.

No public billing data set exists, so the demo invents one for its accounts,
with the same account ids as the event log. Every file written here is
synthetic. The history covers monthly and annual plans, seats, mid-period
upgrades and downgrades with proration, discounts (one larger than the
price), failed payments, pauses, cancellations, reactivations, EUR and USD,
credit notes, one-off fees and a few deliberate billing omissions.

The returned truth lists the omissions and the MRR expected at each month
end under the default revenue rules, computed from the generator's own
subscription states rather than from the invoice lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from jalon.demo import model
from jalon.revenue.money import (
    add_months,
    month_end,
    months_between,
    round_fraction,
    term_months,
)

logger = logging.getLogger(__name__)

BILLING_DIR = "billing"
LINES_FILE = "invoice_lines.csv"
SUBSCRIPTIONS_FILE = "subscriptions.csv"
RATES_FILE = "exchange_rates.csv"
SPEND_FILE = "acquisition_spend.csv"
ATTRIBUTES_FILE = "account_attributes.csv"

TRIAL_DAYS = 14
DELINQUENT_DAYS = 30
# Seat prices per month in minor units, by plan and currency.
SEAT_PRICE_MINOR = {
    "EUR": dict(zip(model.PLANS, (p * 100 for p in model.SEAT_PRICE_EUR))),
    "USD": {"starter": 1700, "team": 3200, "enterprise": 6500},
}
USD_COUNTRIES = ("CA", "US")
ANNUAL_SHARE = {"starter": 0.10, "team": 0.25, "enterprise": 0.6}
# Annual plans cost ten months for twelve.
ANNUAL_MONTHS_BILLED = 10
VAT_RATE_FR = Fraction(20, 100)
SHARES = {"discount": 0.15, "seat_change": 0.25, "pause": 0.04, "failed_renewal": 0.05,
          "reactivation": 0.2, "credit_note": 0.02, "big_coupon": 0.005}  # fmt: skip
INTRO_DISCOUNT = Fraction(20, 100)
INTRO_DISCOUNT_MONTHS = 3
BIG_COUPON_MINOR = 50_000
ONBOARDING_FEE_MINOR = 50_000
CREDIT_NOTE_DELAY_DAYS = 3
OMISSIONS = 6
USD_RATE_BASE, USD_RATE_SWING = 0.91, 0.03
CAC_BY_CHANNEL_MINOR = {"organic": 20_000, "paid_search": 150_000, "referral": 60_000,
                        "partner": 100_000, "outbound": 250_000}  # fmt: skip


@dataclass
class Span:
    """A recurring charge: ``amount`` minor units of ``currency`` for the
    service days ``[start, end)``, invoiced on ``invoiced``; an unpaid charge
    stops counting on ``cutoff``."""

    account_id: str
    start: dt.date
    end: dt.date
    amount: int
    currency: str
    invoiced: dt.date
    cutoff: dt.date | None = None


@dataclass
class Company:
    """Mutable state of the generation: rows written and truth collected."""

    as_of: dt.date
    rng: np.random.Generator
    lines: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    # One entry per recurring charge the generator decided on.
    spans: list[Span] = field(default_factory=list)
    omissions: list[dict] = field(default_factory=list)
    invoice_number: int = 0

    def invoice_id(self) -> str:
        self.invoice_number += 1
        return f"INV-{self.invoice_number:06d}"


def generate_billing(accounts: pd.DataFrame, out_dir: Path, seed: int) -> dict:
    """Write the demo's billing files into ``out_dir/billing/`` and return the truth.

    Parameters
    ----------
    accounts
        One row per demo account: ``account_id``, ``signup_at`` (UTC),
        ``plan`` (starter/team/enterprise), ``seats``, ``country``,
        ``churn_at`` (UTC or NaT), and optionally ``channel`` and
        ``company_size``.
    out_dir
        Demo folder; files go to its ``billing`` subfolder.
    seed
        Seed of the random generator; the same seed gives the same files.

    Returns
    -------
    dict
        ``files`` (names written), ``omissions`` (account, subscription,
        period start and amount of each invoice deliberately left out),
        ``expected_mrr_minor`` (month ``YYYY-MM`` to EUR cents at month end),
        ``config_toml`` (the ``[revenue]`` section that reads these files).
    """
    rng = np.random.default_rng(seed)
    as_of = (model.OBSERVATION_END - dt.timedelta(days=1)).date()
    company = Company(as_of=as_of, rng=rng)
    rates = _exchange_rates(as_of)
    for account in accounts.sort_values("account_id").itertuples(index=False):
        _bill_account(company, account, rates)
    _plant_omissions(company)
    folder = out_dir / BILLING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / LINES_FILE, company.lines)
    _write_csv(folder / SUBSCRIPTIONS_FILE, company.subscriptions)
    _write_csv(
        folder / RATES_FILE,
        [
            {"month": m, "currency": "USD", "rate": f"{float(r):.4f}"}
            for m, r in rates.items()
        ],
    )
    _write_csv(folder / SPEND_FILE, _spend(accounts, rng))
    _write_csv(folder / ATTRIBUTES_FILE, _attributes(accounts))
    logger.info("wrote %s synthetic invoice lines to %s", len(company.lines), folder)
    return {
        "synthetic": True,
        "files": sorted(p.name for p in folder.iterdir()),
        "omissions": company.omissions,
        "expected_mrr_minor": _expected_mrr(company, rates),
        "config_toml": config_section(),
    }


def config_section(folder: str = BILLING_DIR) -> str:
    """Return the ``[revenue]`` section of jalon.toml that reads the demo files."""
    return "\n".join([
        "[revenue]",
        f'invoices = "{folder}/{LINES_FILE}"',
        f'subscriptions = "{folder}/{SUBSCRIPTIONS_FILE}"',
        f'rates = "{folder}/{RATES_FILE}"',
        f'spend = "{folder}/{SPEND_FILE}"',
        f'accounts = "{folder}/{ATTRIBUTES_FILE}"',
        'base_currency = "EUR"',
        f'as_of = "{(model.OBSERVATION_END - dt.timedelta(days=1)).date().isoformat()}"',
        "gross_margin = 0.8",
        f"delinquent_days = {DELINQUENT_DAYS}",
        "[revenue.forecast]",
        'from_month = "2026-01"',
        "horizon_months = 12",
    ]) + "\n"  # fmt: skip


def _exchange_rates(as_of: dt.date) -> dict[str, Fraction]:
    months = months_between(model.SIGNUP_FROM.date(), as_of + dt.timedelta(days=400))
    return {
        m.strftime("%Y-%m"): Fraction(
            f"{USD_RATE_BASE + USD_RATE_SWING * np.sin(i / 3):.4f}"
        )
        for i, m in enumerate(months)
    }


def _date(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _bill_account(company: Company, account, rates: dict) -> None:
    rng = company.rng
    signup = _date(account.signup_at)
    churn = _date(account.churn_at)
    currency = "USD" if account.country in USD_COUNTRIES else "EUR"
    start = signup + dt.timedelta(days=TRIAL_DAYS)
    _line(
        company,
        account,
        currency,
        signup,
        signup,
        start,
        0,
        "trial",
        quantity=int(account.seats),
    )
    if start > company.as_of or (churn is not None and churn < start):
        return
    annual = rng.random() < ANNUAL_SHARE[account.plan]
    end = _subscription(company, account, currency, start, churn, annual, "S1")
    returns = churn is not None and rng.random() < SHARES["reactivation"]
    if returns and end is not None:
        back = add_months(end, int(rng.integers(2, 6)))
        if back <= company.as_of:
            _subscription(company, account, currency, back, None, False, "S2")
    if account.plan == "enterprise":
        _line(
            company,
            account,
            currency,
            start,
            None,
            None,
            ONBOARDING_FEE_MINOR,
            "one_off",
        )


@dataclass(frozen=True)
class Traits:
    """Random traits of one subscription, drawn once before billing it."""

    discounted: bool
    coupon: bool
    change_at: int | None
    pause_at: int | None
    fails: bool


def _draw_traits(
    rng: np.random.Generator, churn: dt.date | None, annual: bool
) -> Traits:
    discounted = rng.random() < SHARES["discount"]
    coupon = rng.random() < SHARES["big_coupon"]
    change_at = (
        int(rng.integers(2, 10))
        if not annual and rng.random() < SHARES["seat_change"]
        else None
    )
    pause_at = (
        int(rng.integers(3, 9))
        if not annual and rng.random() < SHARES["pause"]
        else None
    )
    fails = churn is not None and not annual and rng.random() < SHARES["failed_renewal"]
    return Traits(discounted, coupon, change_at, pause_at, fails)


def _subscription(
    company, account, currency, start, churn, annual, suffix
) -> dt.date | None:
    """Bill one subscription from ``start`` until churn or the observation end.

    Returns the end of its last billed period (exclusive) when it churned.
    """
    interval = 12 if annual else 1
    seats = int(account.seats)
    price = SEAT_PRICE_MINOR[currency][account.plan]
    sub_id = f"{account.account_id}-{suffix}"
    traits = _draw_traits(company.rng, churn, annual)
    pause = None

    k, period_start = 0, start
    while period_start <= company.as_of and (churn is None or period_start <= churn):
        # A pause skips two months of billing.
        if traits.pause_at is not None and k == traits.pause_at:
            pause = (period_start, add_months(period_start, 2))
            period_start, k = pause[1], k + 1
            continue
        period_end = add_months(period_start, interval)
        last = churn is not None and period_end > churn
        amount = price * seats * (ANNUAL_MONTHS_BILLED if annual else 1)
        invoice, net = _bill_period(company, account, currency, (period_start, period_end), amount,
                                    seats, sub_id, k, traits, last)  # fmt: skip

        if company.rng.random() < SHARES["credit_note"] and not last:
            _credit_note(
                company, account, currency, (period_start, period_end), net, invoice
            )
        if traits.change_at is not None and k == traits.change_at and not last:
            seats = _change_seats(
                company,
                account,
                currency,
                period_start,
                period_end,
                seats,
                price,
                sub_id,
            )
        period_start, k = period_end, k + 1

    ended = period_start if churn is not None else None
    company.subscriptions.append({
        "subscription_id": sub_id, "account_id": account.account_id, "plan": account.plan,
        "started_at": start.isoformat(), "trial_end": "",
        "cancelled_at": churn.isoformat() if churn is not None else "",
        "ended_at": ended.isoformat() if ended else "", "interval_months": interval,
        "quantity": seats, "price": _major(price * (ANNUAL_MONTHS_BILLED if annual else 1)),
        "currency": currency,
        "pause_start": pause[0].isoformat() if pause else "",
        "pause_end": pause[1].isoformat() if pause else "",
    })  # fmt: skip
    return ended


def _bill_period(company, account, currency, period, amount, seats, sub_id, k, traits,
                 last) -> tuple[str, int]:  # fmt: skip
    """Write the invoice of one billing period and record its charges.

    Returns the invoice id and the subscription line's amount after discount.
    """
    period_start, period_end = period
    discount = 0
    if traits.discounted and k < INTRO_DISCOUNT_MONTHS:
        discount = round_fraction(amount * INTRO_DISCOUNT)
    status = "uncollectible" if traits.fails and last else "paid"
    invoice = _line(company, account, currency, period_start, period_start, period_end,
                    amount - discount, "subscription", seats, sub_id, status, discount)  # fmt: skip
    cutoff = (
        period_start + dt.timedelta(days=DELINQUENT_DAYS) if status != "paid" else None
    )
    company.spans.append(Span(account.account_id, period_start, period_end, amount - discount,
                              currency, period_start, cutoff))  # fmt: skip

    # A coupon larger than the first invoice, on the same invoice.
    if traits.coupon and k == 0:
        _line(company, account, currency, period_start, period_start, period_end,
              -BIG_COUPON_MINOR, "discount", seats, sub_id, invoice_id=invoice)  # fmt: skip
        company.spans.append(Span(account.account_id, period_start, period_end,
                                  -BIG_COUPON_MINOR, currency, period_start))  # fmt: skip
    return invoice, amount - discount


def _change_seats(
    company, account, currency, period_start, period_end, seats, price, sub_id
) -> int:
    """Add or remove seats mid-period with a proration line; return the new count."""
    rng = company.rng
    change = (
        int(rng.integers(1, 4))
        if rng.random() < 0.7
        else -min(seats - 1, int(rng.integers(1, 3)))
    )
    if change == 0:
        return seats
    day = period_start + dt.timedelta(days=int(rng.integers(5, 25)))
    if day >= period_end:
        return seats
    share = Fraction((period_end - day).days, (period_end - period_start).days)
    amount = round_fraction(price * change * share)
    _line(company, account, currency, day, day, period_end, amount, "subscription",
          abs(change), sub_id, proration=True)  # fmt: skip
    company.spans.append(
        Span(account.account_id, day, period_end, amount, currency, day)
    )
    return seats + change


def _credit_note(company, account, currency, period, amount, invoice) -> None:
    """Refund half of ``amount``, over the service period of the credited invoice."""
    credit = -round_fraction(Fraction(amount, 2))
    issued = min(period[0] + dt.timedelta(days=CREDIT_NOTE_DELAY_DAYS), company.as_of)
    _line(
        company,
        account,
        currency,
        issued,
        None,
        None,
        credit,
        "credit_note",
        credit_of=invoice,
    )
    company.spans.append(
        Span(account.account_id, period[0], period[1], credit, currency, issued)
    )


def _line(
    company,
    account,
    currency,
    invoice_date,
    start,
    end,
    amount,
    kind,
    quantity=1,
    subscription_id="",
    status="paid",
    discount=0,
    proration=False,
    credit_of="",
    invoice_id=None,
) -> str:
    invoice_id = invoice_id or company.invoice_id()
    vat = VAT_RATE_FR if account.country == "FR" else Fraction(0)
    company.lines.append({
        "invoice_id": invoice_id, "customer_id": account.account_id,
        "invoice_date": invoice_date.isoformat(),
        "period_start": start.isoformat() if start else "",
        "period_end": (end - dt.timedelta(days=1)).isoformat() if end else "",
        "amount": _major(amount), "tax": _major(round_fraction(amount * vat)),
        "discount": _major(discount), "currency": currency, "status": status,
        "type": kind, "plan": account.plan, "quantity": quantity,
        "credit_note_for": credit_of, "proration": "true" if proration else "false",
        "subscription_id": subscription_id,
    })  # fmt: skip
    return invoice_id


def _major(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _plant_omissions(company: Company) -> None:
    """Remove a few full-price monthly invoices of running subscriptions."""
    credited = {line["credit_note_for"] for line in company.lines}
    lines_per_invoice = Counter(line["invoice_id"] for line in company.lines)
    candidates = [
        i for i, line in enumerate(company.lines)
        if line["type"] == "subscription" and line["proration"] == "false"
        and line["discount"] == "0.00" and line["status"] == "paid"
        and line["invoice_date"] < "2026-05-01"
        and line["invoice_date"][:7] == line["period_end"][:7]
        and line["invoice_id"] not in credited and lines_per_invoice[line["invoice_id"]] == 1
    ]  # fmt: skip
    chosen = sorted(
        company.rng.choice(
            len(candidates), size=min(OMISSIONS, len(candidates)), replace=False
        )
    )
    for index in sorted((candidates[c] for c in chosen), reverse=True):
        line = company.lines.pop(index)
        start = dt.date.fromisoformat(line["period_start"])
        company.omissions.append({"account_id": line["customer_id"], "subscription_id": line["subscription_id"],
                                  "period_start": line["period_start"], "amount": line["amount"],
                                  "currency": line["currency"]})  # fmt: skip
        company.spans = [
            s for s in company.spans
            if not (s.account_id == line["customer_id"] and s.start == start and s.amount > 0
                    and s.end == add_months(start, 1))
        ]  # fmt: skip
    company.omissions.sort(key=lambda o: (o["account_id"], o["period_start"]))


def _expected_mrr(company: Company, rates: dict) -> dict[str, int]:
    """Return EUR cents of MRR at each month end, from the generator's spans."""
    expected = {}
    for month in months_between(model.SIGNUP_FROM.date(), company.as_of):
        day = min(month_end(month), company.as_of)
        by_account: dict[str, int] = {}
        for span in company.spans:
            if span.start <= day < span.end and (
                span.cutoff is None or day < span.cutoff
            ):
                rate = (
                    Fraction(1)
                    if span.currency == "EUR"
                    else rates[span.invoiced.strftime("%Y-%m")]
                )
                # Converted once at the invoice month, then spread over the term.
                base = round_fraction(span.amount * rate)
                value = round_fraction(base / term_months(span.start, span.end))
                by_account[span.account_id] = by_account.get(span.account_id, 0) + value
        expected[month.strftime("%Y-%m")] = sum(max(v, 0) for v in by_account.values())
    return expected


def _spend(accounts: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    frame = accounts.assign(
        month=pd.to_datetime(accounts["signup_at"]).dt.strftime("%Y-%m")
    )
    channel = (
        frame["channel"]
        if "channel" in frame
        else pd.Series("organic", index=frame.index)
    )
    counts = frame.assign(channel=channel).groupby(["month", "channel"]).size()
    rows = []
    for (month, name), count in counts.items():
        noise = Fraction(str(round(float(rng.uniform(0.8, 1.2)), 2)))
        rows.append({"month": month, "channel": name,
                     "amount": _major(round_fraction(CAC_BY_CHANNEL_MINOR.get(name, 10_000) * count * noise)),
                     "currency": "EUR"})  # fmt: skip
    return rows


def _attributes(accounts: pd.DataFrame) -> list[dict]:
    return [{"account_id": row.account_id,
             "segment": getattr(row, "company_size", "(unknown)"),
             "channel": getattr(row, "channel", "(unknown)"),
             "country": row.country} for row in accounts.sort_values("account_id").itertuples(index=False)]  # fmt: skip


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
