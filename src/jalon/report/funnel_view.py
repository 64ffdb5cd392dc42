"""Turn a :class:`jalon.funnels.result.FunnelResult` into report text and a chart.

Only the figures the funnel analysis computed are shown; nothing is
recomputed here except the formatting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from jalon.report.charts import FunnelStep, funnel_bars
from jalon.report.describe import describe_duration
from jalon.report.milestone_view import Cell
from jalon.report.text import ALL_GROUP, Text

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class FunnelStepRow:
    """One step of a funnel: its number, name, figures and friction flags."""

    number: int
    name: str
    cells: tuple[Cell, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class FunnelSegmentRow:
    """Overall conversion of one segment value, from the first to the last step."""

    segment: str
    value: str
    started: str
    finished: str
    conversion: str


@dataclass(frozen=True)
class FunnelView:
    """Everything the report shows for one funnel."""

    id: str
    name: str
    population: str
    rules: str
    chart: Markup
    headers: tuple[str, ...]
    rows: tuple[FunnelStepRow, ...]
    segments: tuple[FunnelSegmentRow, ...]
    exclusions: tuple[tuple[str, str], ...]
    caveats: tuple[str, ...]


def funnel_view(result: Any, text: Text) -> FunnelView:
    """Build the view of one funnel result.

    Parameters
    ----------
    result
        A :class:`jalon.funnels.result.FunnelResult`.
    text
        Translations and formatter of the report language.
    """
    _ = text._
    overall = _overall_steps(result.steps)
    chart = funnel_bars(
        [FunnelStep(str(row.step_name), int(row.n_reached)) for row in overall],
        title=_("Funnel {name}: accounts or users at each step").format(
            name=result.name
        ),
        formatter=text.fmt,
    )
    excluded = {**result.excluded, **result.excluded_events}
    return FunnelView(
        id=result.funnel_id,
        name=result.name,
        population=_population(result, text),
        rules=_rules(result, text),
        chart=Markup(chart),
        headers=(
            _("Step"),
            _("Reached"),
            _("From previous step"),
            _("From first step"),
            _("Still in window"),
            _("Drop-off"),
            _("Median time from previous step"),
            _("90th percentile time from previous step"),
        ),
        rows=tuple(_step_row(row, text) for row in overall),
        segments=_segment_rows(result.by_segment, text),
        exclusions=tuple(
            (text.reason(code), text.fmt.integer(count))
            for code, count in sorted(excluded.items())
            if count
        ),
        caveats=tuple(dict.fromkeys(_(caveat) for caveat in result.caveats)),
    )


def _overall_steps(steps: Any) -> list[Any]:
    rows = steps
    if "segment" in getattr(steps, "columns", ()):
        rows = steps[steps["segment"] == ALL_GROUP]
    return list(rows.sort_values("step").itertuples(index=False))


def _population(result: Any, text: Text) -> str:
    count = int(result.n_persons)
    if result.level == "user":
        template = text.ngettext(
            "{n} user entered the funnel.", "{n} users entered the funnel.", count
        )
    else:
        template = text.ngettext(
            "{n} account entered the funnel.", "{n} accounts entered the funnel.", count
        )
    return template.format(n=text.fmt.integer(count))


def _rules(result: Any, text: Text) -> str:
    _ = text._
    if result.order == "strict":
        order = _("Steps in strict order.")
    elif result.order == "any":
        order = _("Steps in any order.")
    else:
        order = _("Steps in order.")
    window_days = result.window_seconds / SECONDS_PER_DAY
    window = describe_duration(window_days, _, text.lang)
    rules = _("Conversion window: {window}. {order}").format(window=window, order=order)
    observed = _("Observed until {end}.").format(
        end=text.fmt.date(result.observation_end)
    )
    return f"{rules} {observed}"


def _step_row(row: Any, text: Text) -> FunnelStepRow:
    fmt = text.fmt
    cells = (
        Cell("n_reached", fmt.integer(int(row.n_reached))),
        Cell(
            "conversion_from_previous",
            fmt.percent(_number(row.conversion_from_previous)),
        ),
        Cell("conversion_from_first", fmt.percent(_number(row.conversion_from_first))),
        Cell("n_still_in_window", fmt.integer(int(row.n_still_in_window))),
        Cell("drop_off", fmt.percent(_number(row.drop_off))),
        Cell(
            "median_days",
            fmt.days(_number(row.median_days)),
            _interval(row.median_lower, row.median_upper, text),
        ),
        Cell(
            "p90_days",
            fmt.days(_number(row.p90_days)),
            _interval(row.p90_lower, row.p90_upper, text),
        ),
    )
    flags = []
    if bool(row.largest_drop_off):
        flags.append(text._("largest drop-off"))
    if bool(row.slowest):
        flags.append(text._("slowest step"))
    return FunnelStepRow(int(row.step), str(row.step_name), cells, tuple(flags))


def _interval(lower: Any, upper: Any, text: Text) -> str:
    if _number(lower) is None:
        return ""
    return text.fmt.days_range(_number(lower), _number(upper))


def _segment_rows(by_segment: Any, text: Text) -> tuple[FunnelSegmentRow, ...]:
    if by_segment is None or len(by_segment) == 0:
        return ()
    rows = []
    for (segment, value), group in by_segment.groupby(
        ["segment", "segment_value"], sort=True
    ):
        ordered = group.sort_values("step")
        first, last = ordered.iloc[0], ordered.iloc[-1]
        rows.append(
            FunnelSegmentRow(
                segment=str(segment),
                value=text.group_label(str(value)),
                started=text.fmt.integer(int(first.n_reached)),
                finished=text.fmt.integer(int(last.n_reached)),
                conversion=text.fmt.percent(_number(last.conversion_from_first)),
            )
        )
    return tuple(rows)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def funnel_views(results: Sequence[Any], text: Text) -> tuple[FunnelView, ...]:
    """Build the views of every funnel, in the analysis order."""
    return tuple(funnel_view(result, text) for result in results)
