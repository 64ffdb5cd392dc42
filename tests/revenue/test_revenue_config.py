"""Validation of the [revenue] section and the exact money helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from jalon.errors import ConfigError
from jalon.revenue.config import parse_revenue_config
from jalon.revenue.money import add_months, term_months, to_minor
from jalon.revenue.parse import parse_amount, parse_date, parse_rate

BASE = Path("/project")


def config_error(raw: dict) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_revenue_config(raw, BASE)
    return caught.value


def test_paths_resolved():
    spec = parse_revenue_config({"invoices": "billing/lines.csv"}, BASE)
    assert spec.invoices == Path("/project/billing/lines.csv")


def test_defaults():
    spec = parse_revenue_config({"invoices": "x.csv"}, BASE)
    assert spec.churn_timing == "period_end"
    assert spec.delinquent_days == 30
    assert spec.trailing_months == 12


def test_unknown_key_suggests():
    error = config_error({"invoices": "x.csv", "gross_margn": 0.8})
    assert error.code == "config.unknown_key"
    assert error.params["path"] == "revenue.gross_margn"
    assert error.params["suggestion"] == "gross_margin"


def test_input_required():
    assert config_error({"base_currency": "EUR"}).code == "config.revenue_no_input"


def test_bad_choice_lists_allowed():
    error = config_error({"invoices": "x.csv", "churn_timing": "whenever"})
    assert error.params["path"] == "revenue.churn_timing"
    assert "cancellation" in error.params["allowed"]


def test_gross_margin_range():
    error = config_error({"invoices": "x.csv", "gross_margin": 80})
    assert error.params["path"] == "revenue.gross_margin"


def test_delinquent_never():
    spec = parse_revenue_config({"invoices": "x.csv", "delinquent_days": "never"}, BASE)
    assert spec.delinquent_days is None


def test_scenario_key_checked():
    error = config_error(
        {"invoices": "x.csv", "forecast": {"scenarios": {"base": {"churn": 0.1}}}}
    )
    assert error.params["path"] == "revenue.forecast.scenarios.base.churn"
    assert error.params["suggestion"] == "churn_rate"


def test_forecast_month():
    spec = parse_revenue_config(
        {"invoices": "x.csv", "forecast": {"from_month": "2026-01"}}, BASE
    )
    assert spec.forecast.from_month == dt.date(2026, 1, 1)


def test_plan_price():
    spec = parse_revenue_config(
        {
            "invoices": "x.csv",
            "plans": {"team": {"price": "29.90", "interval_months": 12}},
        },
        BASE,
    )
    assert spec.plans["team"].price == Decimal("29.90")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (dt.date(2024, 1, 1), dt.date(2024, 2, 1), Fraction(1)),
        (dt.date(2024, 1, 15), dt.date(2024, 2, 1), Fraction(17, 31)),
        (dt.date(2024, 1, 1), dt.date(2025, 1, 1), Fraction(12)),
        (dt.date(2024, 2, 10), dt.date(2026, 2, 10), Fraction(24)),
        # 31 January + 1 month is 29 February 2024, then 2 more days of the 31 to 31 March
        (dt.date(2024, 1, 31), dt.date(2024, 3, 2), 1 + Fraction(2, 31)),
    ],
)
def test_term_months(start, end, months):
    assert term_months(start, end) == months


def test_add_months_clamps():
    assert add_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("-12,5", Decimal("-12.5")),
        ("12.50-", Decimal("-12.50")),
        ("1\u202f234,00 €", Decimal("1234.00")),
    ],
)
def test_parse_amount(text, value):
    assert parse_amount(text) == value


def test_parse_rate_forms():
    assert parse_rate("20 %") == Decimal("0.2")
    assert parse_rate("0,055") == Decimal("0.055")


def test_parse_date_orders():
    assert parse_date("31/01/2024") == dt.date(2024, 1, 31)
    assert parse_date("01/31/2024") == dt.date(2024, 1, 31)
    assert parse_date("02/03/2024", "mdy") == dt.date(2024, 2, 3)
    assert parse_date("2024-01-31T10:00:00Z") == dt.date(2024, 1, 31)


def test_to_minor_yen_has_no_cents():
    assert to_minor(Decimal("1234.5"), "JPY") == 1234


@pytest.mark.parametrize("module", ["money", "parse", "config", "ttv"])
def test_docstring_examples(module):
    import doctest
    import importlib

    outcome = doctest.testmod(importlib.import_module(f"jalon.revenue.{module}"))
    assert outcome.attempted > 0
    assert outcome.failed == 0
