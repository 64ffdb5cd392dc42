"""Share curves of one milestone: overall with churn, and one chart per segment.

Every chart of a milestone shares one day range. When the curves settle
long before the end of the window, the range stops shortly after, so the
early rise stays readable. A note under the chart then states that the
tables cover the whole window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from jalon.report.charts import CurveSeries, share_curves
from jalon.report.text import Text

# Above this many groups, a segment chart shows the largest ones only.
MAX_CURVES_PER_CHART = 7
# A curve has settled once it reaches this fraction of its final share.
SETTLED_FRACTION = 0.99
# The range runs this much past the later of the settling time and the
# longest horizon.
RANGE_MARGIN = 1.2
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class SegmentChart:
    """The curves of one segment column, one series per value."""

    segment: str
    svg: Markup
    note: str


def chart_days(
    summaries: Iterable[Any], horizons_days: Sequence[float]
) -> tuple[float, float]:
    """Return the last day to draw and the longest time observed, in days.

    The range ends at 1.2 times the later of two days: the longest horizon,
    and the day the slowest curve reaches 99% of its final share. It is
    rounded up to a whole day, or a whole week past 14 days, and never goes
    past the longest time.

    >>> import pandas as pd
    >>> class Summary:
    ...     curve = pd.DataFrame({"time": [0.0, 5.0, 100.0], "share": [0.0, 0.5, 0.5]})
    >>> chart_days([Summary()], (1, 7))
    (9.0, 100.0)
    """
    longest = 0.0
    settled = max(horizons_days, default=0.0)
    for summary in summaries:
        times = [float(value) for value in summary.curve["time"]]
        shares = [float(value) for value in summary.curve["share"]]
        if not times:
            continue
        longest = max(longest, times[-1])
        settled = max(settled, _settling_day(times, shares))
    if longest <= 0:
        return 1.0, 0.0
    end = settled * RANGE_MARGIN
    step = DAYS_PER_WEEK if end >= 2 * DAYS_PER_WEEK else 1
    end = math.ceil(end / step - 1e-9) * step
    return float(min(end, longest)), longest


def _settling_day(times: Sequence[float], shares: Sequence[float]) -> float:
    final = next((share for share in reversed(shares) if math.isfinite(share)), 0.0)
    if final <= 0:
        return 0.0
    for time, share in zip(times, shares):
        if math.isfinite(share) and share >= SETTLED_FRACTION * final:
            return time
    return times[-1]


def overall_chart(summary: Any, name: str, x_max: float, text: Text) -> Markup:
    """Draw the overall curve with its band, and churn before the milestone."""
    _ = text._
    series = [CurveSeries.from_frame(text.group_label(summary.group), summary.curve)]
    if summary.churn_curve is not None and summary.n_churned_first > 0:
        series.append(
            CurveSeries.from_frame(_("Churned before reaching it"), summary.churn_curve)
        )
    svg = share_curves(
        series,
        _("Days since the start"),
        _("Share of accounts"),
        x_max,
        title=_("{milestone}: share of accounts that reached it by day").format(
            milestone=name
        ),
        formatter=text.fmt,
    )
    return Markup(svg)


def segment_chart(
    segment: str, summaries: Sequence[Any], name: str, x_max: float, text: Text
) -> SegmentChart:
    """Draw one curve per value of ``segment``, the largest groups first."""
    _ = text._
    largest = sorted(summaries, key=lambda item: (-item.n_accounts, str(item.group)))
    largest = largest[:MAX_CURVES_PER_CHART]
    note = ""
    if len(summaries) > MAX_CURVES_PER_CHART:
        note = _("The chart shows the {shown} largest of {total} groups.").format(
            shown=len(largest), total=len(summaries)
        )
    series = [
        CurveSeries.from_frame(text.group_label(item.group), item.curve)
        for item in largest
    ]
    svg = share_curves(
        series,
        _("Days since the start"),
        _("Share of accounts"),
        x_max,
        title=_("{milestone} by {segment}").format(milestone=name, segment=segment),
        formatter=text.fmt,
    )
    return SegmentChart(segment=segment, svg=Markup(svg), note=note)


def range_note(x_max: float, longest: float, text: Text) -> str:
    """Return the note for a chart cut before the longest time, or ``""``."""
    if x_max >= longest:
        return ""
    return text._(
        "The charts show days 0 to {days}, after the curves have settled; the "
        "tables cover the whole window."
    ).format(days=text.fmt.number(x_max, 0))
