"""Load every billing input of a RevenueSpec, resolve credit notes, convert
amounts to the base currency once, and keep the tables in the DuckDB store."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from jalon.errors import N_, InputError
from jalon.revenue.config import RevenueSpec
from jalon.revenue.extras import (
    SUBSCRIPTION_COLUMNS,
    read_attributes,
    read_rates,
    read_spend,
    read_subscriptions,
)  # fmt: skip
from jalon.revenue.generic import read_invoice_lines
from jalon.revenue.money import month_start, to_major, to_minor
from jalon.revenue.stripe import read_stripe

logger = logging.getLogger(__name__)

STORE_TABLES = ("billing_lines", "billing_subscriptions", "billing_rejections")
ATTRIBUTE_COLUMNS = ["account_id", "segment", "channel", "country"]


@dataclass(frozen=True)
class BillingData:
    """Canonical billing tables, amounts in minor units.

    ``lines`` has the columns of ``LINE_COLUMNS`` plus ``amount_base_minor``
    (base currency, converted once at the rate of the invoice month);
    ``spend`` has ``amount_base_minor`` likewise. ``rejections`` lists every
    row left out, with file, row, column, value and fix.
    """

    lines: pd.DataFrame
    subscriptions: pd.DataFrame
    spend: pd.DataFrame
    attributes: pd.DataFrame
    base_currency: str
    rejections: tuple[InputError, ...] = ()
    rates: dict[tuple[dt.date, str], Decimal] = field(default_factory=dict)

    def rejected_by_reason(self) -> dict[str, int]:
        """Count rejected rows by error code."""
        return dict(sorted(Counter(error.code for error in self.rejections).items()))


def load_billing(spec: RevenueSpec) -> BillingData:
    """Read the billing files named in ``spec``.

    Returns
    -------
    BillingData
        Lines and subscriptions from the Stripe folder or the generic file,
        plus rates, spend and attributes when configured.

    Raises
    ------
    InputError
        When a file is missing or lacks a required column. Bad rows do not
        raise: they are returned in ``rejections``.
    """
    rejections: list[InputError] = []
    subscriptions = pd.DataFrame(columns=list(SUBSCRIPTION_COLUMNS))
    attributes = pd.DataFrame(columns=ATTRIBUTE_COLUMNS)
    if spec.stripe is not None:
        lines, subscriptions, attributes, found = read_stripe(spec.stripe, spec)
        rejections += found
    else:
        lines, found = read_invoice_lines(spec.invoices, spec)
        rejections += found
    optional = (
        ("subscriptions", read_subscriptions), ("spend", read_spend),
        ("accounts", read_attributes),
    )  # fmt: skip
    tables: dict[str, Any] = {}
    for key, reader in optional:
        if getattr(spec, key) is not None:
            tables[key], found = reader(getattr(spec, key), spec)
            rejections += found
    rates: dict = {}
    if spec.rates is not None:
        rates, found = read_rates(spec.rates, spec)
        rejections += found
    lines, found = resolve_credit_notes(lines)
    rejections += found
    lines, found = convert_lines(lines, rates, spec.base_currency)
    rejections += found
    spend, found = _convert_spend(tables.get("spend"), rates, spec.base_currency)
    rejections += found
    return BillingData(
        lines=lines.sort_values(["invoice_date", "invoice_id", "row"]).reset_index(
            drop=True
        ),
        subscriptions=tables.get("subscriptions", subscriptions),
        spend=spend,
        attributes=tables.get("accounts", attributes),
        base_currency=spec.base_currency,
        rejections=tuple(rejections),
        rates=rates,
    )


def _reject(
    line: pd.Series, column: str, value: object, code: str, template: str
) -> InputError:
    return InputError(code, template, file=line["file"], row=int(line["row"]),
                      column=column, value=str(value))  # fmt: skip


def resolve_credit_notes(lines: pd.DataFrame) -> tuple[pd.DataFrame, list[InputError]]:
    """Check credit-note lines and give them the type and service period of
    the invoice they reference when they carry none."""
    invoices = lines[lines["credit_of"].isna()].groupby("invoice_id")
    credits = lines["credit_of"].notna()
    keep, rejections = list(lines.index[~credits]), []
    for index, line in lines[credits].iterrows():
        if line["credit_of"] not in invoices.groups:
            rejections.append(
                _reject(
                    line,
                    "credit_of",
                    line["credit_of"],
                    "input.unknown_invoice",
                    N_(
                        "{file}, row {row}, column {column}: credit note for invoice '{value}', "
                        "which is not in the file; add that invoice or fix the reference."
                    ),
                )
            )
            continue
        if line["amount_minor"] > 0:
            rejections.append(
                _reject(
                    line,
                    "amount",
                    line["amount_minor"],
                    "input.positive_credit",
                    N_(
                        "{file}, row {row}, column {column}: a credit note line must be "
                        "negative; write the credited amount with a minus sign."
                    ),
                )
            )
            continue
        original = invoices.get_group(line["credit_of"])
        recurring = original[original["type"] == "subscription"]
        if line["type"] == "credit_note":
            lines.at[index, "type"] = "subscription" if len(recurring) else "one_off"
        if pd.isna(line["period_start"]) and len(recurring):
            lines.at[index, "period_start"] = recurring["period_start"].min()
            lines.at[index, "period_end"] = recurring["period_end"].max()
        keep.append(index)
    return lines.loc[sorted(keep)].reset_index(drop=True), rejections


def exchange_rate(
    rates: dict, month: dt.date, currency: str, base: str
) -> Decimal | None:
    """Return base-currency units per unit of ``currency`` in ``month``."""
    if currency == base:
        return Decimal(1)
    return rates.get((month_start(month), currency))


def convert(minor: int, currency: str, rate: Decimal, base: str) -> int:
    """Convert minor units of ``currency`` to minor units of ``base``."""
    return to_minor(to_major(minor, currency) * rate, base)


def convert_lines(
    lines: pd.DataFrame, rates: dict, base: str
) -> tuple[pd.DataFrame, list[InputError]]:
    """Add ``amount_base_minor``: each line converted once, at the rate of its
    invoice month. Lines without a rate for their month are rejected."""
    converted, keep, rejections = [], [], []
    for index, date, currency, amount in zip(lines.index, lines["invoice_date"], lines["currency"],
                                             lines["amount_minor"]):  # fmt: skip
        rate = exchange_rate(rates, date, currency, base)
        if rate is None:
            line = lines.loc[index]
            month = month_start(line["invoice_date"]).strftime("%Y-%m")
            rejections.append(
                _reject(
                    line,
                    "currency",
                    line["currency"],
                    "input.missing_rate",
                    N_(
                        "{file}, row {row}, column {column}: no exchange rate for {value} "
                        "in the invoice month; add that month to the rates file."
                    ),
                )
            )
            logger.warning("no %s rate for %s", line["currency"], month)
            continue
        keep.append(index)
        converted.append(convert(int(amount), currency, rate, base))
    result = lines.loc[keep].reset_index(drop=True)
    result["amount_base_minor"] = pd.Series(converted, dtype="int64")
    return result, rejections


def _convert_spend(spend: pd.DataFrame | None, rates: dict, base: str):
    columns = ["month", "channel", "amount_base_minor"]
    if spend is None:
        return pd.DataFrame(columns=columns), []
    rows, rejections = [], []
    for _, line in spend.iterrows():
        rate = exchange_rate(rates, line["month"], line["currency"], base)
        if rate is None:
            rejections.append(
                _reject(
                    line,
                    "currency",
                    line["currency"],
                    "input.missing_rate",
                    N_(
                        "{file}, row {row}, column {column}: no exchange rate for {value} "
                        "in that month; add that month to the rates file."
                    ),
                )
            )
            continue
        rows.append({"month": line["month"], "channel": line["channel"],
                     "amount_base_minor": convert(int(line["amount_minor"]), line["currency"], rate, base)})  # fmt: skip
    return pd.DataFrame(rows, columns=columns), rejections


def save_to_store(data: BillingData, con) -> None:
    """Write the billing lines, subscriptions and rejections into the store
    as ``billing_lines``, ``billing_subscriptions`` and ``billing_rejections``.

    ``con`` is an Ibis DuckDB backend, such as ``jalon.store.Store.con``.
    """
    lines = data.lines.copy()
    for column in ("invoice_date", "period_start", "period_end"):
        lines[column] = pd.to_datetime(lines[column])
    lines["proration"] = lines["proration"].astype(bool)
    subscriptions = data.subscriptions.copy()
    for column in (
        "started_at",
        "trial_end",
        "cancelled_at",
        "ended_at",
        "pause_start",
        "pause_end",
    ):
        subscriptions[column] = pd.to_datetime(subscriptions[column])
    rejected = pd.DataFrame(
        [{"file": e.params.get("file"), "row": e.params.get("row"), "column": e.params.get("column"),
          "value": e.params.get("value"), "code": e.code, "message": e.english()}
         for e in data.rejections],
        columns=["file", "row", "column", "value", "code", "message"],
    )  # fmt: skip
    rejected["row"] = rejected["row"].astype("Int64")
    for name, frame in zip(STORE_TABLES, (lines, subscriptions, rejected)):
        con.create_table(name, frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}),
                         overwrite=True)  # fmt: skip
    logger.info("stored %s billing lines and %s rejections", len(lines), len(rejected))
