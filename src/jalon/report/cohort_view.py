"""Turn a :class:`jalon.cohorts.result.CohortResult` into heatmaps and a table.

Cells of periods that have not ended for every account of a cohort are
drawn hatched as "not yet observable", never as 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from jalon.report.charts import heatmap
from jalon.report.milestone_view import Cell
from jalon.report.text import Text

# Two-sided p-values below this read as a trend across cohorts.
SIGNIFICANCE_LEVEL = 0.05
# Smaller p-values print as "< 0.001".
SMALLEST_P_SHOWN = 0.001


@dataclass(frozen=True)
class CohortTtvRow:
    """Median time to one milestone for one cohort."""

    milestone: str
    cohort: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class CohortView:
    """Everything the report shows about start cohorts."""

    population: str
    retention_chart: Markup
    churn_chart: Markup
    ttv_rows: tuple[CohortTtvRow, ...]
    trends: tuple[str, ...]
    caveats: tuple[str, ...]
    churn_note: str = ""


def cohort_view(result: Any, milestone_names: dict[str, str], text: Text) -> CohortView:
    """Build the view of a cohort result.

    Parameters
    ----------
    result
        A :class:`jalon.cohorts.result.CohortResult`.
    milestone_names
        Display name of each milestone id, for the time-to-value table.
    text
        Translations and formatter of the report language.
    """
    _ = text._
    rows = [
        _("{cohort} ({accounts})").format(
            cohort=_cohort_label(cohort, result.period, text),
            accounts=text.fmt.integer(int(size)),
        )
        for cohort, size in result.cohort_sizes.items()
    ]
    columns = [
        _period_label(result.period, int(column), text)
        for column in result.retention.columns
    ]
    missing = _("not yet observable")
    retention = heatmap(
        rows,
        columns,
        _observable_values(result.retention, result.observable),
        missing,
        title=_("Share of each cohort active in each period"),
        formatter=text.fmt,
    )
    churn_values = _observable_values(result.churn, result.churn_observable)
    churn = heatmap(
        rows,
        columns,
        churn_values,
        missing,
        title=_("Share of each cohort that churned in each period"),
        formatter=text.fmt,
        scale_max=_largest(churn_values),
    )
    population = text.ngettext(
        "{n} account in {cohorts} cohorts, observed until {end}.",
        "{n} accounts in {cohorts} cohorts, observed until {end}.",
        int(result.n_accounts),
    ).format(
        n=text.fmt.integer(int(result.n_accounts)),
        cohorts=text.fmt.integer(len(result.cohort_sizes)),
        end=text.fmt.date(result.observation_end),
    )
    return CohortView(
        population=population,
        retention_chart=Markup(retention),
        churn_chart=Markup(churn),
        ttv_rows=_ttv_rows(result.median_ttv, milestone_names, result.period, text),
        trends=_trends(getattr(result, "ttv_trend", None), milestone_names, text),
        caveats=tuple(dict.fromkeys(_(caveat) for caveat in result.caveats)),
        churn_note=_churn_note(result, text),
    )


def _churn_note(result: Any, text: Text) -> str:
    """Return the note on churn cells hatched after their period ended, or "" if none."""
    observable = getattr(result, "churn_observable", result.observable)
    if not (result.observable & ~observable).to_numpy().any():
        return ""
    return text._(
        "Churn after inactivity is known only once the inactivity period has "
        "passed, so the last periods stay hatched here longer than in retention."
    )


def _cohort_label(cohort: Any, period: str, text: Text) -> str:
    if period == "month":
        return text.fmt.month(_timestamp(cohort))
    return text.fmt.date(_timestamp(cohort))


def _largest(grid: list[list[float | None]]) -> float:
    # Churn shares are small, so the darkest shade goes to the largest one.
    values = [value for row in grid for value in row if value is not None]
    return max(values, default=0.0) or 1.0


def _period_label(period: str, index: int, text: Text) -> str:
    _ = text._
    if period == "day":
        return _("D{n}").format(n=index)
    if period == "month":
        return _("M{n}").format(n=index)
    return _("W{n}").format(n=index)


def _observable_values(values: Any, observable: Any) -> list[list[float | None]]:
    grid: list[list[float | None]] = []
    for cohort in values.index:
        row: list[float | None] = []
        for column in values.columns:
            value = values.at[cohort, column]
            seen = bool(observable.at[cohort, column])
            row.append(float(value) if seen and not _is_nan(value) else None)
        grid.append(row)
    return grid


def _ttv_rows(
    table: Any, milestone_names: dict[str, str], period: str, text: Text
) -> tuple[CohortTtvRow, ...]:
    if table is None or len(table) == 0:
        return ()
    fmt = text.fmt
    rows = []
    for item in table.itertuples(index=False):
        if _is_nan(item.median_days):
            median = Cell(
                "median", text._("not reached by half of accounts within the window")
            )
        else:
            median = Cell(
                "median",
                fmt.days(float(item.median_days)),
                fmt.days_range(_float(item.median_lower), _float(item.median_upper)),
            )
        cells = (
            Cell("n_accounts", fmt.integer(int(item.n_accounts))),
            Cell("n_reached", fmt.integer(int(item.n_reached))),
            Cell("n_churned_first", fmt.integer(int(item.n_churned_first))),
            Cell("n_censored", fmt.integer(int(item.n_censored))),
            median,
        )
        name = milestone_names.get(str(item.milestone), str(item.milestone))
        cohort = _cohort_label(item.cohort, period, text)
        rows.append(CohortTtvRow(name, cohort, cells))
    return tuple(rows)


def _trends(table: Any, milestone_names: dict[str, str], text: Text) -> tuple[str, ...]:
    if table is None or len(table) == 0:
        return ()
    _ = text._
    sentences = []
    for item in table.itertuples(index=False):
        if _is_nan(item.z) or _is_nan(item.p_value):
            continue
        if item.p_value >= SIGNIFICANCE_LEVEL:
            template = _(
                "{milestone}: no clear trend across cohorts (log-rank test for "
                "trend, z = {z}, {p})."
            )
        elif item.z > 0:
            template = _(
                "{milestone}: later cohorts reach it sooner (log-rank test for "
                "trend, z = {z}, {p})."
            )
        else:
            template = _(
                "{milestone}: later cohorts reach it later (log-rank test for "
                "trend, z = {z}, {p})."
            )
        sentences.append(
            template.format(
                milestone=milestone_names.get(str(item.milestone), str(item.milestone)),
                z=text.fmt.number(float(item.z), 2),
                p=_p_value(float(item.p_value), text),
            )
        )
    return tuple(sentences)


def _p_value(value: float, text: Text) -> str:
    if value < SMALLEST_P_SHOWN:
        return "p <\u00a0" + text.fmt.number(SMALLEST_P_SHOWN, 3)
    return "p = " + text.fmt.number(value, 3)


def _timestamp(value: Any) -> Any:
    # pandas Timestamps are datetimes, which the Formatter accepts as they are.
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value


def _is_nan(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _float(value: Any) -> float | None:
    return None if _is_nan(value) else float(value)
