"""Read the subscriptions, customers and invoices CSV files of a Stripe
dashboard export (one folder) into the canonical line and subscription tables.

Headers are matched after normalisation with a trailing ``(UTC)`` removed, so
``Current Period End (UTC)`` matches ``current_period_end``. Amounts are in
major units unless ``stripe_amounts = "minor"``.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pandas as pd

from jalon.errors import N_, InputError
from jalon.revenue.config import RevenueSpec
from jalon.revenue.extras import SUBSCRIPTION_COLUMNS
from jalon.revenue.generic import LINE_COLUMNS
from jalon.revenue.money import add_months, to_minor
from jalon.revenue.parse import (
    CellError,
    normalise_header,
    parse_amount,
    parse_date,
    parse_flag,
)
from jalon.revenue.tables import RowReader, find_columns, iter_rows, read_table

logger = logging.getLogger(__name__)

FILE_NAMES = {"subscriptions": "subscriptions.csv", "customers": "customers.csv",
              "invoices": "invoices.csv"}  # fmt: skip
INTERVAL_MONTHS = {"month": 1, "year": 12}
STRIPE_STATUSES = {"paid": "paid", "open": "open", "void": "void",
                   "uncollectible": "uncollectible"}  # fmt: skip

SUBSCRIPTION_SYNONYMS = {
    "subscription_id": ("id", "subscription_id"),
    "account_id": ("customer_id", "customer"),
    "plan": ("plan", "plan_id", "price", "price_id", "product"),
    "quantity": ("quantity",),
    "currency": ("currency", "plan_currency"),
    "interval": ("interval", "plan_interval"),
    "interval_count": ("interval_count", "plan_interval_count"),
    "amount": ("amount", "plan_amount", "unit_amount"),
    "started_at": ("start_date", "start", "created"),
    "trial_end": ("trial_end",),
    "cancelled_at": ("canceled_at", "cancelled_at"),
    "ended_at": ("ended_at",),
    "pause_start": ("pause_start", "paused_at"),
    "pause_end": ("pause_end", "resumes_at"),
}
INVOICE_SYNONYMS = {
    "invoice_id": ("id", "invoice_id"),
    "account_id": ("customer", "customer_id"),
    "subscription_id": ("subscription", "subscription_id"),
    "invoice_date": ("date", "created", "finalized_at"),
    "currency": ("currency",),
    "subtotal": ("subtotal",),
    "discount": ("discount", "discount_amount", "total_discount_amounts"),
    "tax": ("tax", "tax_amount"),
    "total": ("total",),
    "status": ("status",),
    "paid": ("paid",),
    "forgiven": ("forgiven",),
}
CUSTOMER_SYNONYMS = {
    "account_id": ("id", "customer_id"),
    "segment": ("segment_metadata", "segment"),
    "channel": ("channel_metadata", "channel"),
    "country": ("address_country", "card_address_country", "country"),
}


def _read(folder: Path, kind: str, synonyms, required, spec: RevenueSpec):
    path = folder / FILE_NAMES[kind]
    frame = read_table(path)
    frame.columns = [_strip_utc(header) for header in frame.columns]
    return path, frame, find_columns(frame, synonyms, required, {}, path)


def _strip_utc(header: str) -> str:
    normal = normalise_header(header)
    return normal.removesuffix("_utc")


def read_stripe(
    folder: Path, spec: RevenueSpec
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[InputError]]:
    """Read a Stripe export folder.

    Returns
    -------
    lines, subscriptions, attributes, rejections
        The canonical invoice lines, subscriptions, account attributes from
        customer metadata, and every rejected row.

    Notes
    -----
    The dashboard's invoice export has one row per invoice, not per line, so
    each subscription invoice becomes one line whose service period runs one
    billing interval of its subscription from the invoice date.
    """
    subscriptions, rejections = _subscriptions(folder, spec)
    lines, line_rejections = _invoices(folder, spec, subscriptions)
    attributes = _customers(folder, spec)
    return lines, subscriptions, attributes, rejections + line_rejections


def _money(spec: RevenueSpec):
    def parse(value: object) -> Decimal:
        amount = parse_amount(value, ".")
        return amount / 100 if spec.stripe_amounts == "minor" else amount

    return parse


def _interval(reader: RowReader) -> int:
    unit = reader.text("interval", "month").lower()
    count = int(
        reader.get("interval_count", lambda v: parse_amount(v, "."), Decimal(1))
    )
    if unit not in INTERVAL_MONTHS or count < 1:
        raise reader.error(
            "interval",
            "input.invalid_interval",
            N_(
                "{file}, row {row}, column {column}: billing interval '{value}' is not "
                "supported; jalon reads month and year intervals."
            ),
        )
    return INTERVAL_MONTHS[unit] * count


def _subscriptions(folder: Path, spec: RevenueSpec):
    required = ("subscription_id", "account_id", "started_at")
    path, frame, columns = _read(
        folder, "subscriptions", SUBSCRIPTION_SYNONYMS, required, spec
    )
    rows, rejections = [], []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            currency = reader.text("currency", spec.base_currency).upper()
            rows.append({
                "file": str(path), "row": number,
                "subscription_id": reader.text("subscription_id"),
                "account_id": reader.text("account_id"), "plan": reader.text("plan", ""),
                "started_at": reader.get("started_at", parse_date, ...),
                "trial_end": reader.get("trial_end", parse_date),
                "cancelled_at": reader.get("cancelled_at", parse_date),
                "ended_at": reader.get("ended_at", parse_date),
                "interval_months": _interval(reader),
                "quantity": int(reader.get("quantity", _money(spec), Decimal(1))),
                "price_minor": to_minor(reader.get("amount", _money(spec), Decimal(0)), currency),
                "currency": currency,
                "pause_start": reader.get("pause_start", parse_date),
                "pause_end": reader.get("pause_end", parse_date),
            })  # fmt: skip
        except InputError as error:
            rejections.append(error)
    return pd.DataFrame(rows, columns=list(SUBSCRIPTION_COLUMNS)), rejections


def _invoices(folder: Path, spec: RevenueSpec, subscriptions: pd.DataFrame):
    required = ("invoice_id", "account_id", "invoice_date")
    path, frame, columns = _read(folder, "invoices", INVOICE_SYNONYMS, required, spec)
    by_id = subscriptions.set_index("subscription_id").to_dict("index")
    rows, rejections = [], []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            rows.append(_invoice_line(reader, spec, by_id))
        except InputError as error:
            rejections.append(error)
    return pd.DataFrame(rows, columns=list(LINE_COLUMNS)), rejections


def _status(value: object) -> str:
    text = str(value).strip().lower()
    if text not in STRIPE_STATUSES:
        raise CellError(
            "input.invalid_status",
            N_(
                "{file}, row {row}, column {column}: invoice status '{value}' is not "
                "paid, open, void or uncollectible; drafts cannot be analysed."
            ),
        )
    return STRIPE_STATUSES[text]


def _invoice_status(reader: RowReader) -> str:
    """Read the invoice status; older exports without one give ``Paid`` and
    ``Forgiven`` flags instead (forgiven means written off, so uncollectible)."""
    if "status" in reader.columns or "paid" not in reader.columns:
        return reader.get("status", _status, ...)
    if reader.get("forgiven", parse_flag, False):
        return "uncollectible"
    return "paid" if reader.get("paid", parse_flag, ...) else "open"


def _invoice_line(reader: RowReader, spec: RevenueSpec, subscriptions: dict) -> dict:
    money = _money(spec)
    currency = reader.text("currency", spec.base_currency).upper()
    tax = reader.get("tax", money, Decimal(0))
    if reader.has("total"):
        net = reader.get("total", money) - tax
    else:
        net = reader.get("subtotal", money, ...) - reader.get(
            "discount", money, Decimal(0)
        )

    # The service period is one interval of the subscription from the invoice date.
    # NOTE: a mid-period upgrade invoice therefore counts as a full new interval,
    # because the dashboard export has no line items or proration periods.
    invoice_date: dt.date = reader.get("invoice_date", parse_date, ...)
    subscription_id = reader.text("subscription_id", None)
    subscription = subscriptions.get(subscription_id) if subscription_id else None
    if subscription_id and subscription is None:
        raise reader.error(
            "subscription_id",
            "input.unknown_subscription",
            N_(
                "{file}, row {row}, column {column}: subscription '{value}' is not in "
                "subscriptions.csv; export subscriptions and invoices together."
            ),
        )
    start = end = None
    if subscription is not None:
        start = invoice_date
        end = add_months(invoice_date, int(subscription["interval_months"]))

    invoice_id = reader.text("invoice_id")
    return {
        "file": str(reader.path), "row": reader.row, "line_id": f"{invoice_id}#1",
        "account_id": reader.text("account_id"), "invoice_id": invoice_id,
        "invoice_date": invoice_date, "period_start": start, "period_end": end,
        "currency": currency, "amount_minor": to_minor(net, currency),
        "tax_minor": to_minor(tax, currency),
        "discount_minor": to_minor(reader.get("discount", money, Decimal(0)), currency),
        "status": _invoice_status(reader),
        "type": "subscription" if subscription is not None else "one_off",
        "plan": subscription["plan"] if subscription is not None else "",
        "quantity": int(subscription["quantity"]) if subscription is not None else 1,
        "credit_of": None, "proration": False, "subscription_id": subscription_id,
    }  # fmt: skip


def _customers(folder: Path, spec: RevenueSpec) -> pd.DataFrame:
    columns_out = ["account_id", "segment", "channel", "country"]
    if not (folder / FILE_NAMES["customers"]).exists():
        return pd.DataFrame(columns=columns_out)
    path, frame, columns = _read(
        folder, "customers", CUSTOMER_SYNONYMS, ("account_id",), spec
    )
    rows = []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        rows.append({"account_id": reader.text("account_id"),
                     **{key: reader.text(key, "(unknown)") for key in columns_out[1:]}})  # fmt: skip
    return pd.DataFrame(rows, columns=columns_out).drop_duplicates("account_id")
