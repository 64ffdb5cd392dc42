"""Read the generic billing layout: one row per invoice line, CSV or Excel.

The result is the canonical line table (see ``LINE_COLUMNS``). Its amounts
are integer minor units of the line's currency, excluding tax and after
discount. Its service periods are ``[period_start, period_end)``, with an
exclusive end. Rejected rows are returned as InputError objects.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pandas as pd

from jalon.errors import N_, InputError
from jalon.revenue.config import RevenueSpec
from jalon.revenue.money import to_minor
from jalon.revenue.parse import (
    LINE_TYPES,
    STATUSES,
    parse_amount,
    parse_choice,
    parse_date,
    parse_flag,
    parse_quantity,
    parse_rate,
)  # fmt: skip
from jalon.revenue.tables import RowReader, find_columns, iter_rows, read_table

logger = logging.getLogger(__name__)

LINE_COLUMNS = (
    "file", "row", "line_id", "account_id", "invoice_id", "invoice_date",
    "period_start", "period_end", "currency", "amount_minor", "tax_minor",
    "discount_minor", "status", "type", "plan", "quantity", "credit_of",
    "proration", "subscription_id",
)  # fmt: skip

INVOICE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_id": ("customer_id", "account_id", "customer", "client", "id_client",
                   "client_id", "code_client", "numero_client"),
    "invoice_id": ("invoice_id", "invoice", "invoice_number", "facture", "id_facture",
                   "numero_facture", "numero_de_facture", "n_facture", "no_facture"),
    "invoice_date": ("invoice_date", "date", "date_facture", "date_de_facture"),
    "period_start": ("period_start", "service_start", "service_period_start",
                     "debut_periode", "debut_de_periode", "date_debut", "debut"),
    "period_end": ("period_end", "service_end", "service_period_end", "fin_periode",
                   "fin_de_periode", "date_fin", "fin"),
    "amount": ("amount", "amount_excl_tax", "amount_excluding_tax", "net_amount",
               "montant_ht", "total_ht", "montant"),
    "amount_incl_tax": ("amount_incl_tax", "amount_including_tax", "gross_amount",
                        "montant_ttc", "total_ttc"),
    "tax": ("tax", "tax_amount", "vat", "vat_amount", "tva", "montant_tva"),
    "tax_rate": ("tax_rate", "vat_rate", "taux_tva", "taux_de_tva", "tva_taux"),
    "discount": ("discount", "discount_amount", "remise", "montant_remise"),
    "currency": ("currency", "devise", "monnaie"),
    "status": ("status", "statut", "etat"),
    "type": ("type", "line_type", "type_ligne", "type_de_ligne", "nature"),
    "plan": ("plan", "offre", "formule", "product", "produit"),
    "quantity": ("quantity", "qty", "quantite", "qte", "seats", "sieges", "licences"),
    "credit_of": ("credit_note_for", "credits_invoice", "original_invoice",
                  "facture_origine", "facture_d_origine", "avoir_sur", "avoir_de"),
    "proration": ("proration", "prorata", "is_proration"),
    "subscription_id": ("subscription_id", "subscription", "abonnement",
                        "id_abonnement"),
}  # fmt: skip
REQUIRED = ("account_id", "invoice_id", "invoice_date")


def read_invoice_lines(
    path: Path, spec: RevenueSpec
) -> tuple[pd.DataFrame, list[InputError]]:
    """Read a generic invoice-line file into the canonical line table.

    Parameters
    ----------
    path
        CSV or Excel file, one row per invoice line.
    spec
        Gives the decimal mark, date order, whether amounts include tax,
        whether period ends are inclusive, header overrides and the currency
        used when the file has no currency column.

    Returns
    -------
    lines, rejections
        Canonical lines (``LINE_COLUMNS``) and one InputError per rejected row.
    """
    frame = read_table(path)
    amount_key = "amount_incl_tax" if spec.amounts_include_tax else "amount"
    columns = find_columns(frame, INVOICE_SYNONYMS, REQUIRED, spec.columns, path)
    if amount_key not in columns and "amount" not in columns:
        raise InputError(
            "input.missing_column",
            N_("{file}: no column for '{column}'; name a column {allowed} "
               "or map it under [revenue.columns]."),
            file=str(path), column=amount_key,
            allowed=" / ".join(INVOICE_SYNONYMS[amount_key]),
        )  # fmt: skip
    rows, rejections = [], []
    for number, record in iter_rows(frame):
        reader = RowReader(path, number, record, columns)
        try:
            rows.append(_read_line(reader, spec, amount_key))
        except InputError as error:
            rejections.append(error)
    lines = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
    logger.info("read %s invoice lines from %s", len(lines), path)
    if rejections:
        logger.warning("rejected %s rows of %s", len(rejections), path)
    return lines, rejections


def _read_line(reader: RowReader, spec: RevenueSpec, amount_key: str) -> dict:
    def date(name: str, default: object = None) -> dt.date | None:
        return reader.get(
            name, lambda value: parse_date(value, spec.date_order), default
        )

    def amount(name: str, default: object = None) -> Decimal | None:
        return reader.get(
            name, lambda value: parse_amount(value, spec.decimal), default
        )

    currency = reader.text("currency", spec.base_currency).upper()
    key = amount_key if amount_key in reader.columns else "amount"
    net, tax = _net_and_tax(reader, spec, key, amount(key, ...), amount)
    status = reader.get(
        "status", lambda v: parse_choice(v, STATUSES, "input.invalid_status"), "paid"
    )
    credit_of = reader.text("credit_of", None)
    start, end = date("period_start"), date("period_end")
    has_period = start is not None and end is not None
    default_type = "subscription" if has_period else "one_off"
    line_type = reader.get(
        "type",
        lambda v: parse_choice(v, LINE_TYPES, "input.invalid_type"),
        default_type,
    )
    if has_period and spec.period_end == "inclusive":
        end = end + dt.timedelta(days=1)
    _check_period(reader, line_type, credit_of, start, end)
    invoice_id = reader.text("invoice_id")
    return {
        "file": str(reader.path), "row": reader.row,
        "line_id": f"{invoice_id}#{reader.row}",
        "account_id": reader.text("account_id"), "invoice_id": invoice_id,
        "invoice_date": date("invoice_date", ...),
        "period_start": start if has_period else None,
        "period_end": end if has_period else None,
        "currency": currency,
        "amount_minor": to_minor(net, currency), "tax_minor": to_minor(tax, currency),
        "discount_minor": to_minor(amount("discount", Decimal(0)), currency),
        "status": status, "type": line_type,
        "plan": reader.text("plan", ""), "quantity": reader.get("quantity", parse_quantity, 1),
        "credit_of": credit_of,
        "proration": reader.get("proration", parse_flag, False),
        "subscription_id": reader.text("subscription_id", None),
    }  # fmt: skip


def _net_and_tax(reader, spec, key, value, amount) -> tuple[Decimal, Decimal]:
    """Return (amount excluding tax, tax); amounts including tax are split with
    the row's tax rate, else with its tax amount."""
    if key != "amount_incl_tax":
        return value, amount("tax", Decimal(0))
    if reader.has("tax_rate"):
        rate = reader.get("tax_rate", lambda v: parse_rate(v, spec.decimal))
        net = value / (1 + rate)
        return net, value - net
    if reader.has("tax"):
        tax = amount("tax")
        return value - tax, tax
    raise reader.error(
        "tax_rate",
        "input.missing_tax_rate",
        N_(
            "{file}, row {row}, column {column}: amounts include tax but the tax rate "
            "is missing; add a VAT rate column (e.g. 20) or a tax amount column."
        ),
    )


def _check_period(reader, line_type, credit_of, start, end) -> None:
    needs_period = line_type in ("subscription", "discount") and credit_of is None
    if needs_period and (start is None or end is None):
        raise reader.error(
            "period_start",
            "input.missing_period",
            N_(
                "{file}, row {row}, column {column}: a subscription line needs a service "
                "period start and end; fill both or set the type to one_off."
            ),
        )
    if start is not None and end is not None and end <= start:
        raise reader.error(
            "period_end",
            "input.period_reversed",
            N_(
                "{file}, row {row}, column {column}: the service period ends on or before "
                "it starts ({value}); check the start and end dates."
            ),
        )
