"""Turn one milestone result into formatted table rows, notes and charts.

The view holds only text ready for the template: every number is formatted
here by the report's :class:`jalon.i18n.Formatter`, so the template cannot
format a figure differently from the tables the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from jalon.i18n.labels import caveat_label, tier_label
from jalon.report.milestone_charts import (
    SegmentChart,
    chart_days,
    overall_chart,
    range_note,
    segment_chart,
)
from jalon.report.text import Text

MEDIAN_Q = 0.5
AALEN_JOHANSEN = "aalen_johansen"


@dataclass(frozen=True)
class Cell:
    """One table cell: the value, an optional second line, a test hook."""

    field: str
    text: str
    detail: str = ""


@dataclass(frozen=True)
class SummaryRow:
    """One group of one milestone: counts, shares by horizon, percentiles."""

    group: str
    segment: str
    counts: tuple[Cell, ...]
    shares: tuple[Cell, ...]
    times: tuple[Cell, ...]


@dataclass(frozen=True)
class MilestoneView:
    """Everything the milestone section of the report displays."""

    id: str
    name: str
    tier: str
    population: str
    chart: Markup
    chart_note: str
    segment_charts: tuple[SegmentChart, ...]
    horizon_headers: tuple[str, ...]
    percentile_headers: tuple[str, ...]
    rows: tuple[SummaryRow, ...]
    median_note: str
    naive_note: str
    competing_note: str
    caveats: tuple[str, ...]


def milestone_view(result: Any, window_text: str, text: Text) -> MilestoneView:
    """Build the view of a :class:`jalon.analysis.MilestoneResult`.

    Parameters
    ----------
    result
        The milestone result, with ``overall`` and ``by_segment`` summaries.
    window_text
        The formatted observation window, used in the population sentence.
    text
        Translations and formatter of the report language.
    """
    _ = text._
    overall = result.overall
    rows = [_summary_row(overall, "", text)]
    for segment, summaries in result.by_segment.items():
        rows += [_summary_row(summary, segment, text) for summary in summaries]
    population = text.ngettext(
        "{n} account, {window}.", "{n} accounts, {window}.", overall.n_accounts
    ).format(n=text.fmt.integer(overall.n_accounts), window=window_text)
    caveats = dict.fromkeys(caveat_label(code, _) for code in overall.caveats)
    groups = [
        summary for summaries in result.by_segment.values() for summary in summaries
    ]
    x_max, longest = chart_days([overall, *groups], [h.days for h in overall.horizons])
    return MilestoneView(
        id=result.id,
        name=result.name,
        tier=tier_label(result.tier, _),
        population=population,
        chart=overall_chart(overall, result.name, x_max, text),
        chart_note=range_note(x_max, longest, text),
        segment_charts=tuple(
            segment_chart(segment, summaries, result.name, x_max, text)
            for segment, summaries in result.by_segment.items()
        ),
        horizon_headers=tuple(
            _horizon_header(share.days, text) for share in overall.horizons
        ),
        percentile_headers=tuple(
            _percentile_header(p.q, text) for p in overall.percentiles
        ),
        rows=tuple(rows),
        median_note=_median_note(overall, text),
        naive_note=_naive_note(overall, text),
        competing_note=_competing_note(overall, text),
        caveats=tuple(caveats),
    )


def _horizon_header(days: float, text: Text) -> str:
    return text._("Reached by day {days}").format(
        days=text.fmt.number(days, _digits(days))
    )


def _percentile_header(q: float, text: Text) -> str:
    if q == MEDIAN_Q:
        return text._("Median time")
    return text._("Time for {share} to reach it").format(share=text.fmt.percent(q, 0))


def _digits(value: float) -> int:
    return 0 if float(value).is_integer() else 1


def _summary_row(summary: Any, segment: str, text: Text) -> SummaryRow:
    fmt = text.fmt
    counts = (
        Cell("n_accounts", fmt.integer(summary.n_accounts)),
        Cell("n_reached", fmt.integer(summary.n_reached)),
        Cell("n_churned_first", fmt.integer(summary.n_churned_first)),
        Cell("n_censored", fmt.integer(summary.n_censored)),
    )
    shares = tuple(
        Cell(
            f"share_{fmt.number(share.days, _digits(share.days))}",
            fmt.percent(share.share),
            fmt.percent_range(share.lower, share.upper),
        )
        for share in summary.horizons
    )
    times = [_percentile_cell(p, text) for p in summary.percentiles]
    times.append(Cell("plateau", fmt.percent(summary.plateau)))
    times.append(Cell("naive_mean", fmt.days(summary.naive_mean_days)))
    times.append(Cell("naive_median", fmt.days(summary.naive_median_days)))
    return SummaryRow(
        group=text.group_label(summary.group),
        segment=segment,
        counts=counts,
        shares=shares,
        times=tuple(times),
    )


def _percentile_cell(percentile: Any, text: Text) -> Cell:
    fmt = text.fmt
    field = f"p{round(percentile.q * 100)}"
    if percentile.days is None:
        if percentile.q == MEDIAN_Q:
            message = text._("not reached by half of accounts within the window")
        else:
            message = text._("not reached within the window")
        # Only the lower confidence limit can exist: it prints as "≥ 2.0 d".
        detail = (
            "" if percentile.lower is None else fmt.days_range(percentile.lower, None)
        )
        return Cell(field, message, detail)
    detail = fmt.days_range(percentile.lower, percentile.upper)
    return Cell(field, fmt.days(percentile.days), detail)


def _median_note(summary: Any, text: Text) -> str:
    median = next((p for p in summary.percentiles if p.q == MEDIAN_Q), None)
    if median is None or median.days is not None:
        return ""
    return text._(
        "Not reached by half of accounts within the window: by its end, "
        "{plateau} of accounts had reached this milestone, so the median time "
        "is not defined and the plateau is shown instead."
    ).format(plateau=text.fmt.percent(summary.plateau))


def _naive_note(summary: Any, text: Text) -> str:
    if summary.naive_mean_days is None:
        return ""
    fmt = text.fmt
    return text._(
        "Over the accounts that reached the milestone only, the mean is {mean} "
        "and the median {median}. These naive figures mislead: they leave out "
        "the accounts that have not reached it yet ({censored}) and those that "
        "churned first ({churned}), so they usually understate the time to value."
    ).format(
        mean=fmt.days(summary.naive_mean_days),
        median=fmt.days(summary.naive_median_days),
        censored=fmt.integer(summary.n_censored),
        churned=fmt.integer(summary.n_churned_first),
    )


def _competing_note(summary: Any, text: Text) -> str:
    if summary.n_churned_first == 0 or not summary.horizons:
        return ""
    share = summary.horizons[-1]
    km = next((item for item in summary.km_horizons if item.days == share.days), None)
    if share.method != AALEN_JOHANSEN or km is None:
        return ""
    fmt = text.fmt
    return text._(
        "Churn before the milestone is a competing risk. Counting churned "
        "accounts as if they were still observed (one minus Kaplan-Meier) would "
        "give {km} by day {days} instead of {share}."
    ).format(
        km=fmt.percent(km.share),
        days=fmt.number(share.days, _digits(share.days)),
        share=fmt.percent(share.share),
    ) + " " + text._(
        "The median and percentiles come from Kaplan-Meier: they describe the time "
        "to value of accounts while they stay, so the curve above, which counts "
        "churn, reaches the same shares later or not at all."
    )
