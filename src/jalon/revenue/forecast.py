"""Renewals due by month and MRR forecast scenarios, compared with actuals.

Forecast rule, from the MRR of the start month, each month:
``MRR(t) = MRR(t-1) x (1 - churn_rate + expansion_rate) + new_mrr``,
rounded to minor units. Assumptions not set in ``[revenue.forecast]`` come
from the trailing window up to the start month. New MRR is the monthly
average of new and reactivation MRR. The churn rate is churned plus
contraction MRR over the MRR at the start of each month, and the expansion
rate is expansion MRR over the same base. The optimistic and pessimistic
defaults move each trailing value by ``SCENARIO_SPREAD`` in the favourable
or unfavourable direction.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pandas as pd

from jalon.revenue.config import ForecastSpec, Scenario
from jalon.revenue.money import add_months, month_start, round_fraction, term_months

SCENARIO_SPREAD = Decimal("0.2")
DIRECTIONS = {"base": 0, "optimistic": 1, "pessimistic": -1}


def renewals(lines: pd.DataFrame, mrr: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return renewals due by month: full-price subscription lines grouped by
    the month their period ends, with the MRR at stake. For past months,
    ``renewed_mrr_minor`` is the MRR those accounts still had that month."""
    due = lines[(lines["type"] == "subscription") & (lines["status"] != "void")
                & lines["period_start"].notna() & (lines["amount_minor"] > 0)
                & ~lines["proration"].astype(bool) & lines["credit_of"].isna()].copy()  # fmt: skip
    columns = ["month", "renewals", "mrr_at_stake_minor", "renewed_mrr_minor"]
    if due.empty:
        return pd.DataFrame(columns=columns)
    due["month"] = due["period_end"].map(month_start)
    due["rate"] = [round_fraction(Fraction(int(a)) / term_months(s, e))
                   for a, s, e in zip(due["amount_base_minor"], due["period_start"], due["period_end"])]  # fmt: skip
    by_month = mrr.set_index(["account_id", "month"])["mrr_minor"].to_dict()
    rows = []
    for month, group in due.groupby("month"):
        renewed = None
        if month <= month_start(as_of):
            renewed = sum(
                by_month.get((account, month), 0)
                for account in set(group["account_id"])
            )
        rows.append((month, len(group), int(group["rate"].sum()), renewed))
    return pd.DataFrame(rows, columns=columns)


def trailing_assumptions(totals: pd.DataFrame, start: dt.date, months: int) -> Scenario:
    """Return monthly new MRR, churn rate and expansion rate observed over the
    ``months`` months up to ``start``."""
    window = totals[
        (totals["month"] <= start) & (totals["month"] > add_months(start, -months))
    ]
    previous = totals.set_index("month")["mrr_minor"]
    start_mrr = sum(int(previous.get(add_months(m, -1), 0)) for m in window["month"])
    new = Decimal(int(window["new"].sum() + window["reactivation"].sum()))
    lost = Decimal(-int(window["churn"].sum() + window["contraction"].sum()))
    gained = Decimal(int(window["expansion"].sum()))
    return Scenario(
        new_mrr=(new / len(window)) if len(window) else Decimal(0),
        churn_rate=(lost / start_mrr) if start_mrr else Decimal(0),
        expansion_rate=(gained / start_mrr) if start_mrr else Decimal(0),
    )


def scenario_assumptions(
    spec: ForecastSpec, trailing: Scenario, minor_digits: int = 2
) -> dict[str, tuple[Scenario, dict]]:
    """Return each scenario's assumptions, new MRR in minor units, and, per
    value, whether it came from the config or from the trailing window.

    ``new_mrr`` in the config is in major units of the base currency, so it
    is scaled by ``10 ** minor_digits``.
    """
    result = {}
    for name, direction in DIRECTIONS.items():
        configured = spec.scenarios.get(name, Scenario())
        shift = SCENARIO_SPREAD * direction
        defaults = {
            "new_mrr": trailing.new_mrr * (1 + shift),
            "churn_rate": trailing.churn_rate * (1 - shift),
            "expansion_rate": trailing.expansion_rate * (1 + shift),
        }
        values, sources = {}, {}
        for key, default in defaults.items():
            given = getattr(configured, key)
            if given is not None and key == "new_mrr":
                given = given.scaleb(minor_digits)
            values[key] = default if given is None else given
            sources[key] = "trailing" if given is None else "config"
        result[name] = (Scenario(**values), sources)
    return result


def forecast(
    totals: pd.DataFrame,
    spec: ForecastSpec,
    trailing_months: int,
    base_minor_digits: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Project MRR under the three scenarios and set actuals beside them.

    Returns
    -------
    projections, assumptions
        ``projections``: scenario, month, forecast_mrr_minor, actual_mrr_minor
        (``None`` for months not observed yet), difference_minor.
        ``assumptions``: scenario, new_mrr_minor, churn_rate, expansion_rate
        and the source of each.
    """
    observed = totals.set_index("month")["mrr_minor"]
    start = spec.from_month or totals["month"].iloc[-1]
    start = min(start, totals["month"].iloc[-1])
    trailing = trailing_assumptions(totals, start, trailing_months)
    rows, assumption_rows = [], []
    for name, (scenario, sources) in scenario_assumptions(
        spec, trailing, base_minor_digits
    ).items():
        assumption_rows.append({
            "scenario": name, "new_mrr_minor": float(scenario.new_mrr),
            "churn_rate": float(scenario.churn_rate), "expansion_rate": float(scenario.expansion_rate),
            **{f"{key}_source": source for key, source in sources.items()},
        })  # fmt: skip
        value = Decimal(int(observed.get(start, 0)))
        factor = 1 - scenario.churn_rate + scenario.expansion_rate
        for step in range(1, spec.horizon_months + 1):
            value = (value * factor + scenario.new_mrr).quantize(
                Decimal(1), rounding=ROUND_HALF_EVEN
            )
            month = add_months(start, step)
            actual = int(observed[month]) if month in observed.index else None
            rows.append({"scenario": name, "month": month, "forecast_mrr_minor": int(value),
                         "actual_mrr_minor": actual,
                         "difference_minor": None if actual is None else actual - int(value)})  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(assumption_rows)
