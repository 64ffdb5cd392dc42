"""Helpers for the revenue tests: write billing files and analyse them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jalon.revenue.config import parse_revenue_config
from jalon.revenue.load import load_billing
from jalon.revenue.result import analyse

LINE_HEADER = (
    "invoice_id,customer_id,invoice_date,period_start,period_end,amount,discount,"
    "currency,status,type,plan,quantity,credit_note_for,proration"
)


def month(text: str) -> dt.date:
    """Return the first day of month ``YYYY-MM``."""
    return dt.date.fromisoformat(text + "-01")


def monthly_lines(
    invoice: str, account: str, amounts: dict[str, str], plan: str = "basic"
) -> list[str]:
    """Return one paid monthly subscription line per ``{"2024-01": "100.00"}`` entry."""
    rows = []
    for key, amount in amounts.items():
        start = month(key)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(
            day=1
        ) - dt.timedelta(days=1)
        rows.append(
            f"{invoice}-{key},{account},{start},{start},{end},{amount},0,EUR,paid,"
            f"subscription,{plan},1,,"
        )
    return rows


def write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text, encoding="utf-8")
    return name


def analyse_lines(folder: Path, lines: list[str], **config):
    """Write ``lines`` under LINE_HEADER, analyse them with ``config`` and
    return the RevenueResult."""
    write(folder, "lines.csv", LINE_HEADER + "\n" + "\n".join(lines) + "\n")
    spec = parse_revenue_config({"invoices": "lines.csv", **config}, folder)
    return analyse(load_billing(spec), spec)


def mrr_of(result, account: str, key: str) -> int:
    rows = result.mrr[
        (result.mrr["account_id"] == account) & (result.mrr["month"] == month(key))
    ]
    return int(rows["mrr_minor"].sum())


def total(result, key: str, column: str):
    return result.totals.loc[result.totals["month"] == month(key), column].iloc[0]


def row_of(frame, **where):
    """Return the single row of ``frame`` matching every ``column=value``."""
    mask = True
    for column, value in where.items():
        mask = mask & (frame[column] == value)
    rows = frame[mask]
    assert len(rows) == 1, f"{len(rows)} rows match {where}"
    return rows.iloc[0]
