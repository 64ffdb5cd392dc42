"""The ``[revenue]`` section of jalon.toml, validated into a frozen RevenueSpec.

Every key is documented in ``docs/en/revenue.md``. Each check below is one
small rule that raises :class:`jalon.errors.ConfigError` with the key path,
the value received and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jalon.errors import N_, ConfigError

CHURN_TIMINGS = ("period_end", "cancellation")
SAME_MONTH_RULES = ("count", "ignore")
PAUSE_RULES = ("churn", "contraction")
PERIOD_END_RULES = ("inclusive", "exclusive")
DECIMAL_MARKS = ("auto", ",", ".")
DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")
STRIPE_UNITS = ("major", "minor")
SCENARIO_NAMES = ("base", "optimistic", "pessimistic")

DEFAULT_DELINQUENT_DAYS = 30
DEFAULT_TRAILING_MONTHS = 12
DEFAULT_HORIZON_MONTHS = 12
DEFAULT_TTV_BUCKETS_DAYS = (1.0, 7.0, 30.0, 90.0)

TOP_KEYS = (
    "invoices", "stripe", "subscriptions", "rates", "spend", "accounts",
    "base_currency", "gross_margin", "churn_timing", "delinquent_days",
    "same_month_churn", "pause", "trailing_months", "as_of", "period_end",
    "amounts_include_tax", "decimal", "date_order", "stripe_amounts",
    "columns", "plans", "ttv_buckets", "forecast",
)  # fmt: skip
PLAN_KEYS = ("price", "currency", "interval_months")
FORECAST_KEYS = ("from_month", "horizon_months", "scenarios")
SCENARIO_KEYS = ("new_mrr", "churn_rate", "expansion_rate")


@dataclass(frozen=True)
class PlanPrice:
    """List price of one plan: ``price`` per seat per ``interval_months``."""

    price: Decimal
    currency: str
    interval_months: int


@dataclass(frozen=True)
class Scenario:
    """Forecast assumptions; ``None`` means "the trailing actual value"."""

    new_mrr: Decimal | None = None
    churn_rate: Decimal | None = None
    expansion_rate: Decimal | None = None


@dataclass(frozen=True)
class ForecastSpec:
    """Start month, horizon in months and the three scenarios of a forecast."""

    from_month: dt.date | None = None
    horizon_months: int = DEFAULT_HORIZON_MONTHS
    scenarios: dict[str, Scenario] = field(default_factory=dict)


@dataclass(frozen=True)
class RevenueSpec:
    """Validated ``[revenue]`` section; paths are absolute."""

    invoices: Path | None = None
    stripe: Path | None = None
    subscriptions: Path | None = None
    rates: Path | None = None
    spend: Path | None = None
    accounts: Path | None = None
    base_currency: str = "EUR"
    gross_margin: Decimal | None = None
    churn_timing: str = "period_end"
    delinquent_days: int | None = DEFAULT_DELINQUENT_DAYS
    same_month_churn: str = "count"
    pause: str = "churn"
    trailing_months: int = DEFAULT_TRAILING_MONTHS
    as_of: dt.date | None = None
    period_end: str = "inclusive"
    amounts_include_tax: bool = False
    decimal: str = "auto"
    date_order: str = "auto"
    stripe_amounts: str = "major"
    columns: dict[str, str] = field(default_factory=dict)
    plans: dict[str, PlanPrice] = field(default_factory=dict)
    ttv_buckets: tuple[float, ...] = DEFAULT_TTV_BUCKETS_DAYS
    forecast: ForecastSpec = field(default_factory=ForecastSpec)


def parse_revenue_config(
    raw: dict[str, Any], base_dir: Path, path: str = "revenue"
) -> RevenueSpec:
    """Validate the ``[revenue]`` table of jalon.toml into a RevenueSpec.

    Parameters
    ----------
    raw
        The table as read by ``tomllib``.
    base_dir
        Folder of jalon.toml; relative file paths are resolved against it.
    path
        Key path of the table, used in error messages.

    Raises
    ------
    ConfigError
        On an unknown key, a value of the wrong type or outside its choices.

    Examples
    --------
    >>> spec = parse_revenue_config({"invoices": "lines.csv", "base_currency": "usd"}, Path("/tmp"))
    >>> spec.base_currency
    'USD'
    """
    _check_table(raw, path)
    _reject_unknown(raw, TOP_KEYS, path)
    if "invoices" not in raw and "stripe" not in raw:
        raise ConfigError(
            "config.revenue_no_input",
            N_("{path}: set either 'invoices' (a file) or 'stripe' (a folder)."),
            path=path, value="", allowed="invoices, stripe",
        )  # fmt: skip
    files = {
        key: _path(raw, key, base_dir, path)
        for key in ("invoices", "stripe", "subscriptions", "rates", "spend", "accounts")
    }
    return RevenueSpec(
        **files,
        base_currency=_currency(raw.get("base_currency", "EUR"), f"{path}.base_currency"),
        gross_margin=_share(raw, "gross_margin", path),
        churn_timing=_choice(raw, "churn_timing", CHURN_TIMINGS, path),
        delinquent_days=_delinquent_days(raw, path),
        same_month_churn=_choice(raw, "same_month_churn", SAME_MONTH_RULES, path),
        pause=_choice(raw, "pause", PAUSE_RULES, path),
        trailing_months=_positive_int(raw, "trailing_months", DEFAULT_TRAILING_MONTHS, path),
        as_of=_date(raw.get("as_of"), f"{path}.as_of"),
        period_end=_choice(raw, "period_end", PERIOD_END_RULES, path),
        amounts_include_tax=_bool(raw, "amounts_include_tax", path),
        decimal=_choice(raw, "decimal", DECIMAL_MARKS, path),
        date_order=_choice(raw, "date_order", DATE_ORDERS, path),
        stripe_amounts=_choice(raw, "stripe_amounts", STRIPE_UNITS, path),
        columns=_columns(raw.get("columns", {}), f"{path}.columns"),
        plans=_plans(raw.get("plans", {}), f"{path}.plans"),
        ttv_buckets=_buckets(raw.get("ttv_buckets"), f"{path}.ttv_buckets"),
        forecast=_forecast(raw.get("forecast", {}), f"{path}.forecast"),
    )  # fmt: skip


def _check_table(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(
            "config.not_a_table",
            N_("{path} must be a table, got {value}."),
            path=path, value=repr(value), allowed="table",
        )  # fmt: skip


def _reject_unknown(raw: dict[str, Any], known: tuple[str, ...], path: str) -> None:
    for key in raw:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        raise ConfigError(
            "config.unknown_key",
            N_("Unknown key {path}; did you mean '{suggestion}'? Allowed: {allowed}."),
            path=f"{path}.{key}", value=key, allowed=", ".join(known),
            suggestion=close[0] if close else "",
        )  # fmt: skip


def _invalid(path: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(
        "config.invalid_value",
        N_("Invalid value {value} for {path}; expected {allowed}."),
        path=path, value=repr(value), allowed=allowed,
    )  # fmt: skip


def _path(raw: dict[str, Any], key: str, base_dir: Path, path: str) -> Path | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"{path}.{key}", value, "a file path")
    return (base_dir / value).resolve()


def _currency(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise _invalid(path, value, "a three-letter ISO 4217 code such as EUR")
    return value.upper()


def _choice(raw: dict[str, Any], key: str, allowed: tuple[str, ...], path: str) -> str:
    value = raw.get(key, allowed[0])
    if value not in allowed:
        raise _invalid(f"{path}.{key}", value, " | ".join(allowed))
    return value


def _bool(raw: dict[str, Any], key: str, path: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise _invalid(f"{path}.{key}", value, "true or false")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _invalid(path, value, "a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _invalid(path, value, "a number") from None


def _share(raw: dict[str, Any], key: str, path: str) -> Decimal | None:
    if raw.get(key) is None:
        return None
    value = _decimal(raw[key], f"{path}.{key}")
    if not Decimal(0) <= value <= Decimal(1):
        raise _invalid(f"{path}.{key}", raw[key], "a share between 0 and 1, e.g. 0.8")
    return value


def _positive_int(raw: dict[str, Any], key: str, default: int, path: str) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(f"{path}.{key}", value, "a whole number of at least 1")
    return value


def _delinquent_days(raw: dict[str, Any], path: str) -> int | None:
    value = raw.get("delinquent_days", DEFAULT_DELINQUENT_DAYS)
    if value == "never":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"{path}.delinquent_days", value, 'days (0 or more) or "never"')
    return value


def _date(value: Any, path: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(path, value, "a date such as 2025-06-30") from None


def _month(value: Any, path: str) -> dt.date | None:
    if value is None:
        return None
    text = str(value)
    try:
        return dt.date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(
            day=1
        )
    except ValueError:
        raise _invalid(path, value, "a month such as 2025-06") from None


def _columns(raw: Any, path: str) -> dict[str, str]:
    _check_table(raw, path)
    for key, value in raw.items():
        if not isinstance(value, str):
            raise _invalid(f"{path}.{key}", value, "a column header")
    return dict(raw)


def _plans(raw: Any, path: str) -> dict[str, PlanPrice]:
    _check_table(raw, path)
    plans = {}
    for name, table in raw.items():
        plan_path = f"{path}.{name}"
        _check_table(table, plan_path)
        _reject_unknown(table, PLAN_KEYS, plan_path)
        if "price" not in table:
            raise _invalid(f"{plan_path}.price", None, "the list price per seat")
        plans[name] = PlanPrice(
            price=_decimal(table["price"], f"{plan_path}.price"),
            currency=_currency(table.get("currency", "EUR"), f"{plan_path}.currency"),
            interval_months=_positive_int(table, "interval_months", 1, plan_path),
        )
    return plans


def _buckets(raw: Any, path: str) -> tuple[float, ...]:
    if raw is None:
        return DEFAULT_TTV_BUCKETS_DAYS
    valid = (
        isinstance(raw, list)
        and raw
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
            for v in raw
        )
    )
    if not valid or sorted(raw) != raw or len(set(raw)) != len(raw):
        raise _invalid(path, raw, "increasing positive day limits, e.g. [1, 7, 30]")
    return tuple(float(v) for v in raw)


def _forecast(raw: Any, path: str) -> ForecastSpec:
    _check_table(raw, path)
    _reject_unknown(raw, FORECAST_KEYS, path)
    scenarios_raw = raw.get("scenarios", {})
    _check_table(scenarios_raw, f"{path}.scenarios")
    _reject_unknown(scenarios_raw, SCENARIO_NAMES, f"{path}.scenarios")
    scenarios = {}
    for name in SCENARIO_NAMES:
        table = scenarios_raw.get(name, {})
        scenario_path = f"{path}.scenarios.{name}"
        _check_table(table, scenario_path)
        _reject_unknown(table, SCENARIO_KEYS, scenario_path)
        values = {
            key: _decimal(table[key], f"{scenario_path}.{key}")
            if key in table
            else None
            for key in SCENARIO_KEYS
        }
        for key in ("churn_rate", "expansion_rate"):
            if values[key] is not None and not Decimal(0) <= values[key] <= Decimal(1):
                raise _invalid(
                    f"{scenario_path}.{key}", table[key], "a monthly share 0-1"
                )
        scenarios[name] = Scenario(**values)
    return ForecastSpec(
        from_month=_month(raw.get("from_month"), f"{path}.from_month"),
        horizon_months=_positive_int(
            raw, "horizon_months", DEFAULT_HORIZON_MONTHS, path
        ),
        scenarios=scenarios,
    )
