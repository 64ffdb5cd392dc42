"""The revenue analysis runner and its frozen result object."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from jalon.errors import N_, AnalysisError, InputError
from jalon.revenue.checks import billing_checks
from jalon.revenue.config import RevenueSpec
from jalon.revenue.forecast import forecast, renewals
from jalon.revenue.load import BillingData, load_billing, save_to_store
from jalon.revenue.metrics import arpa, churn_rates, cohort_retention, retention
from jalon.revenue.money import minor_digits
from jalon.revenue.mrr import compute_mrr, default_as_of
from jalon.revenue.recognition import recognition_schedule, recognition_summary
from jalon.revenue.ttv import revenue_by_ttv
from jalon.revenue.unit_economics import (
    CAC_FORMULA,
    LTV_FORMULA,
    PAYBACK_FORMULA,
    unit_economics,
)

logger = logging.getLogger(__name__)

CAVEAT_MESSAGES = {
    "revenue.synthetic": N_(
        "The billing data is synthetic: generated for the demo, not real."
    ),
    "revenue.rejected_rows": N_(
        "Some billing rows were rejected; see the rejected rows table."
    ),
    "revenue.no_subscriptions": N_(
        "No subscriptions table: omissions and invoices after cancellation were not checked."
    ),
    "revenue.no_gross_margin": N_(
        "No gross margin configured: LTV and payback are not computed."
    ),
    "revenue.no_spend": N_(
        "No acquisition spend file: CAC, LTV/CAC and payback are not computed."
    ),
    "revenue.cac_by_channel_only": N_(
        "Spend is given by channel, so CAC is shown overall and by channel only."
    ),
    "revenue.discount_floored": N_(
        "Discounts larger than the price were counted as zero MRR, not negative."
    ),
    "revenue.short_history": N_(
        "Less than 12 months of history: 12-month NRR and GRR are not available."
    ),
}


@dataclass(frozen=True)
class RevenueResult:
    """Recurring-revenue analysis of one billing history.

    Every money column ends in ``_minor``: integer (or, for averages, float)
    minor units of ``base_currency``. Months are the first day of the month.
    """

    base_currency: str
    as_of: dt.date
    months: tuple[dt.date, ...]
    rules: dict[str, object]
    mrr: pd.DataFrame
    movements: pd.DataFrame
    totals: pd.DataFrame
    churn: pd.DataFrame
    retention: pd.DataFrame
    cohorts: pd.DataFrame
    arpa: pd.DataFrame
    unit_economics: pd.DataFrame
    recognition: pd.DataFrame
    recognition_schedule: pd.DataFrame
    checks: pd.DataFrame
    renewals: pd.DataFrame
    forecast: pd.DataFrame
    forecast_assumptions: pd.DataFrame
    n_accounts: int
    excluded: dict[str, int]
    rejections: tuple[InputError, ...]
    caveats: tuple[str, ...]
    formulas: dict[str, str] = field(default_factory=dict)
    ttv: pd.DataFrame | None = None
    synthetic: bool = False

    def __repr__(self) -> str:
        window = (
            f"{self.months[0]:%Y-%m} to {self.months[-1]:%Y-%m}"
            if self.months
            else "empty"
        )
        excluded = sum(self.excluded.values())
        return (f"RevenueResult({self.n_accounts} paying accounts, {window}, as of {self.as_of}, "
                f"{len(self.rejections)} rows rejected, {excluded} items excluded)")  # fmt: skip

    @property
    def minor_digits(self) -> int:
        """Decimal digits of the base currency's minor unit."""
        return minor_digits(self.base_currency)

    def money(self, minor: float | None) -> float | None:
        """Return minor units of the base currency as major units, for display."""
        if minor is None or pd.isna(minor):
            return None
        return float(Decimal(str(minor)).scaleb(-self.minor_digits))

    def headline(self) -> dict[str, object]:
        """Return the figures of the last observed month: MRR, ARR, paying
        accounts, ARPA, churn rates of the month and NRR/GRR over 1 and 12
        months (``None`` where undefined)."""
        if self.totals.empty:
            return {}
        last = self.totals.iloc[-1]
        figures: dict[str, object] = {
            "month": last["month"], "mrr_minor": int(last["mrr_minor"]),
            "arr_minor": int(last["arr_minor"]), "customers": int(last["customers"]),
            "arpa_minor": self.arpa.iloc[-1]["arpa_minor"],
        }  # fmt: skip
        if not self.churn.empty:
            rates = self.churn.iloc[-1]
            for key in (
                "logo_churn",
                "revenue_churn",
                "gross_mrr_churn",
                "net_mrr_churn",
            ):
                figures[key] = rates[key]
        for horizon in (1, 12):
            rows = self.retention[(self.retention["month"] == last["month"])
                                  & (self.retention["horizon_months"] == horizon)]  # fmt: skip
            figures[f"nrr_{horizon}"] = None if rows.empty else rows.iloc[0]["nrr"]
            figures[f"grr_{horizon}"] = None if rows.empty else rows.iloc[0]["grr"]
        return figures

    @property
    def labels(self) -> dict[str, dict]:
        """English labels (gettext msgids) of columns, values, rules, caveats."""
        from jalon.revenue import labels

        return {
            "columns": labels.COLUMN_LABELS, "values": labels.VALUE_LABELS,
            "exclusions": labels.EXCLUSION_LABELS, "rules": labels.RULE_LABELS,
            "rule_values": labels.RULE_VALUE_LABELS, "caveats": CAVEAT_MESSAGES,
        }  # fmt: skip

    def with_ttv(self, accounts: pd.DataFrame) -> RevenueResult:
        """Return a copy with ``ttv`` filled from the per-account milestone table."""
        table = revenue_by_ttv(self.mrr, self.movements, accounts, self.months,
                               tuple(self.rules["ttv_buckets"]), int(self.rules["trailing_months"]),
                               self.rules["gross_margin"])  # fmt: skip
        return dataclasses.replace(self, ttv=table)


def run_revenue(
    spec: RevenueSpec,
    store=None,
    synthetic: bool = False,
    accounts: pd.DataFrame | None = None,
) -> RevenueResult:
    """Load the billing inputs of ``spec`` and compute every revenue figure.

    Parameters
    ----------
    spec
        The validated ``[revenue]`` section.
    store
        An open ``jalon.store.Store`` (or an Ibis DuckDB backend); when
        given, the billing tables are saved in it.
    synthetic
        Marks the result (and the report) as built on generated data.
    accounts
        Optional per-account milestone table (pandas) for the TTV link.
    """
    data = load_billing(spec)
    if store is not None:
        save_to_store(data, getattr(store, "con", store))
    result = analyse(data, spec, synthetic)
    return result if accounts is None else result.with_ttv(accounts)


def analyse(
    data: BillingData, spec: RevenueSpec, synthetic: bool = False
) -> RevenueResult:
    """Compute the revenue result from already loaded billing data."""
    if data.lines.empty:
        raise AnalysisError(
            "analysis.no_billing_lines",
            N_(
                "No usable invoice line was read; check the rejected rows and the "
                "[revenue] input files."
            ),
        )
    as_of = spec.as_of or default_as_of(data.lines)
    tables = compute_mrr(data.lines, data.subscriptions, spec, as_of)
    months = tables.months
    forecast_table, assumptions = forecast(
        tables.totals,
        spec.forecast,
        spec.trailing_months,
        minor_digits(spec.base_currency),
    )
    schedule = recognition_schedule(data.lines)
    excluded = {**data.rejected_by_reason(), **{f"line_{k}": v for k, v in tables.excluded_lines.items()},
                **tables.excluded_accounts}  # fmt: skip
    result = RevenueResult(
        base_currency=spec.base_currency, as_of=as_of, months=months,
        rules=_rules(spec),
        mrr=tables.mrr, movements=tables.movements, totals=tables.totals,
        churn=churn_rates(tables.mrr, tables.movements, months),
        retention=retention(tables.mrr, months),
        cohorts=cohort_retention(tables.mrr, months),
        arpa=arpa(tables.totals),
        unit_economics=unit_economics(tables.mrr, tables.movements, data.spend, data.attributes,
                                      months, spec.trailing_months, spec.gross_margin),
        recognition=recognition_summary(data.lines, schedule), recognition_schedule=schedule,
        checks=billing_checks(data.lines, data.subscriptions, spec, data.rates, as_of),
        renewals=renewals(data.lines, tables.mrr, as_of),
        forecast=forecast_table, forecast_assumptions=assumptions,
        n_accounts=int(tables.mrr.loc[tables.mrr["mrr_minor"] > 0, "account_id"].nunique()),
        excluded=excluded, rejections=data.rejections,
        caveats=_caveats(data, spec, tables.floored, months, synthetic),
        formulas={"ltv": LTV_FORMULA, "cac": CAC_FORMULA, "payback": PAYBACK_FORMULA},
        synthetic=synthetic,
    )  # fmt: skip
    logger.info("%r", result)
    return result


def _rules(spec: RevenueSpec) -> dict[str, object]:
    return {
        "churn_timing": spec.churn_timing, "delinquent_days": spec.delinquent_days,
        "same_month_churn": spec.same_month_churn, "pause": spec.pause,
        "trailing_months": spec.trailing_months, "gross_margin": spec.gross_margin,
        "ttv_buckets": spec.ttv_buckets,
    }  # fmt: skip


def _caveats(
    data: BillingData, spec: RevenueSpec, floored: int, months, synthetic: bool
) -> tuple[str, ...]:
    found = []
    conditions = {
        "revenue.synthetic": synthetic,
        "revenue.rejected_rows": bool(data.rejections),
        "revenue.no_subscriptions": data.subscriptions.empty,
        "revenue.no_gross_margin": spec.gross_margin is None,
        "revenue.no_spend": data.spend.empty,
        "revenue.cac_by_channel_only": not data.spend.empty,
        "revenue.discount_floored": floored > 0,
        "revenue.short_history": len(months) <= 12,
    }
    for code, applies in conditions.items():
        if applies:
            found.append(code)
    return tuple(found)
