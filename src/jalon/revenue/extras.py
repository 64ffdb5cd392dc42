"""Read the optional inputs: subscriptions, exchange rates, acquisition spend
and account attributes. Each reader returns a table and its rejections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd

from jalon.errors import N_, InputError
from jalon.revenue.config import RevenueSpec
from jalon.revenue.money import month_start, to_minor
from jalon.revenue.parse import CellError, parse_amount, parse_date, parse_quantity
from jalon.revenue.tables import RowReader, find_columns, iter_rows, read_table

SUBSCRIPTION_COLUMNS = (
    "file", "row", "subscription_id", "account_id", "plan", "started_at",
    "trial_end", "cancelled_at", "ended_at", "interval_months", "quantity",
    "price_minor", "currency", "pause_start", "pause_end",
)  # fmt: skip
SUBSCRIPTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "subscription_id": ("subscription_id", "id", "abonnement", "id_abonnement"),
    "account_id": ("customer_id", "account_id", "customer", "client", "id_client"),
    "plan": ("plan", "offre", "formule", "product", "produit"),
    "started_at": ("started_at", "start", "start_date", "debut", "date_debut"),
    "trial_end": ("trial_end", "fin_essai", "fin_d_essai"),
    "cancelled_at": ("cancelled_at", "canceled_at", "cancellation_date", "resiliation",
                     "date_resiliation", "annule_le"),
    "ended_at": ("ended_at", "end", "end_date", "fin", "date_fin"),
    "interval_months": ("interval_months", "term_months", "duree_mois", "periodicite_mois"),
    "quantity": ("quantity", "qty", "quantite", "seats", "sieges"),
    "price": ("price", "unit_price", "prix", "prix_unitaire", "amount", "montant_ht"),
    "currency": ("currency", "devise"),
    "pause_start": ("pause_start", "debut_pause"),
    "pause_end": ("pause_end", "fin_pause"),
}  # fmt: skip
RATE_SYNONYMS = {
    "month": ("month", "mois", "date"),
    "currency": ("currency", "devise"),
    "rate": ("rate", "taux", "exchange_rate", "taux_de_change"),
}
SPEND_SYNONYMS = {
    "month": ("month", "mois", "date"),
    "channel": ("channel", "canal", "source"),
    "amount": ("amount", "spend", "montant", "depense", "depenses", "cout"),
    "currency": ("currency", "devise"),
}
ATTRIBUTE_SYNONYMS = {
    "account_id": ("account_id", "customer_id", "customer", "client", "id_client"),
    "segment": ("segment", "plan_segment", "taille"),
    "channel": ("channel", "canal", "acquisition_channel", "source"),
    "country": ("country", "pays"),
}


def _dates(spec: RevenueSpec):
    return lambda value: parse_date(value, spec.date_order)


def _month(value: object) -> dt.date:
    text = str(value).strip()
    if len(text) == 7 and text[4] in "-/":
        text = f"{text[:4]}-{text[5:7]}-01"
    elif len(text) == 7 and text[2] in "-/":
        text = f"{text[3:]}-{text[:2]}-01"
    return month_start(parse_date(text))


def read_subscriptions(
    path: Path, spec: RevenueSpec
) -> tuple[pd.DataFrame, list[InputError]]:
    """Read a subscriptions file: one row per subscription, prices per seat and
    per interval excluding tax. Dates are day precision; ``ended_at`` is the
    first day without service."""
    frame = read_table(path)
    required = ("subscription_id", "account_id", "started_at")
    columns = find_columns(frame, SUBSCRIPTION_SYNONYMS, required, spec.columns, path)
    rows, rejections = [], []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            currency = reader.text("currency", spec.base_currency).upper()
            price = reader.get(
                "price", lambda v: parse_amount(v, spec.decimal), Decimal(0)
            )
            rows.append({
                "file": str(path), "row": number,
                "subscription_id": reader.text("subscription_id"),
                "account_id": reader.text("account_id"), "plan": reader.text("plan", ""),
                "started_at": reader.get("started_at", _dates(spec), ...),
                "trial_end": reader.get("trial_end", _dates(spec)),
                "cancelled_at": reader.get("cancelled_at", _dates(spec)),
                "ended_at": reader.get("ended_at", _dates(spec)),
                "interval_months": reader.get("interval_months", parse_quantity, 1),
                "quantity": reader.get("quantity", parse_quantity, 1),
                "price_minor": to_minor(price, currency), "currency": currency,
                "pause_start": reader.get("pause_start", _dates(spec)),
                "pause_end": reader.get("pause_end", _dates(spec)),
            })  # fmt: skip
        except InputError as error:
            rejections.append(error)
    return pd.DataFrame(rows, columns=list(SUBSCRIPTION_COLUMNS)), rejections


def read_rates(path: Path, spec: RevenueSpec) -> tuple[dict, list[InputError]]:
    """Read monthly exchange rates: ``rate`` base-currency units per unit of
    ``currency`` in ``month`` (``2024-01`` or a date in the month)."""
    frame = read_table(path)
    columns = find_columns(
        frame, RATE_SYNONYMS, tuple(RATE_SYNONYMS), spec.columns, path
    )
    rates: dict[tuple[dt.date, str], Decimal] = {}
    rejections = []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            month = reader.get("month", _cell_month(reader), ...)
            rate = reader.get("rate", lambda v: parse_amount(v, spec.decimal), ...)
            if rate <= 0:
                raise reader.error(
                    "rate",
                    "input.invalid_rate",
                    N_(
                        "{file}, row {row}, column {column}: exchange rate '{value}' must "
                        "be above 0; write base-currency units per unit of the currency."
                    ),
                )
            rates[(month, reader.text("currency").upper())] = rate
        except InputError as error:
            rejections.append(error)
    return rates, rejections


def _cell_month(reader: RowReader):
    def parse(value: object) -> dt.date:
        try:
            return _month(value)
        except CellError:
            raise CellError(
                "input.invalid_month",
                N_(
                    "{file}, row {row}, column {column}: '{value}' is not a month; "
                    "write 2024-01."
                ),
            ) from None

    return parse


def read_spend(path: Path, spec: RevenueSpec) -> tuple[pd.DataFrame, list[InputError]]:
    """Read acquisition spend by month and channel (excluding tax)."""
    frame = read_table(path)
    required = ("month", "amount")
    columns = find_columns(frame, SPEND_SYNONYMS, required, spec.columns, path)
    rows, rejections = [], []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            currency = reader.text("currency", spec.base_currency).upper()
            amount = reader.get("amount", lambda v: parse_amount(v, spec.decimal), ...)
            rows.append({
                "file": str(path), "row": number,
                "month": reader.get("month", _cell_month(reader), ...),
                "channel": reader.text("channel", "(unknown)"),
                "currency": currency, "amount_minor": to_minor(amount, currency),
            })  # fmt: skip
        except InputError as error:
            rejections.append(error)
    columns_out = ["file", "row", "month", "channel", "currency", "amount_minor"]
    return pd.DataFrame(rows, columns=columns_out), rejections


def read_attributes(
    path: Path, spec: RevenueSpec
) -> tuple[pd.DataFrame, list[InputError]]:
    """Read account attributes: segment, channel and country per account."""
    frame = read_table(path)
    columns = find_columns(
        frame, ATTRIBUTE_SYNONYMS, ("account_id",), spec.columns, path
    )
    rows, rejections = [], []
    seen: set[str] = set()
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            account = reader.text("account_id")
            if account in seen:
                raise reader.error(
                    "account_id",
                    "input.duplicate_account",
                    N_(
                        "{file}, row {row}, column {column}: account '{value}' is listed "
                        "twice; keep one row per account."
                    ),
                )
            seen.add(account)
            rows.append({
                "account_id": account,
                **{key: reader.text(key, "(unknown)") for key in ("segment", "channel", "country")},
            })  # fmt: skip
        except InputError as error:
            rejections.append(error)
    columns_out = ["account_id", "segment", "channel", "country"]
    return pd.DataFrame(rows, columns=columns_out), rejections
