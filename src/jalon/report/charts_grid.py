"""Heatmap, funnel and bar charts as inline SVG; see :mod:`jalon.report.charts`.

A heatmap cell without a value is drawn hatched and labelled with the
caller's "not yet observable" text, never as 0, because a cohort that has not
lived long enough has no retention figure yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jalon.i18n.format import Formatter
from jalon.report.svg import (
    AXIS_COLOUR,
    PALETTE,
    Scale,
    chart_id,
    esc,
    num,
    open_svg,
    text_width,
)

CELL_WIDTH_PX = 52
CELL_HEIGHT_PX = 28
HEATMAP_HEADER_PX = 30
HEATMAP_LEGEND_PX = 40
LABEL_PADDING_PX = 12
# Light and dark ends of the sequential colour scale (RGB).
SCALE_LIGHT = (239, 245, 251)
SCALE_DARK = (8, 69, 148)
# Above this fraction of the scale, cell text switches to white for contrast.
DARK_TEXT_LIMIT = 0.55
# The legend text starts this far right of the legend swatch's left edge.
LEGEND_TEXT_OFFSET_PX = 24
HATCH_COLOUR = "#9a9a9a"
MISSING_FILL = "#f7f7f7"

CHART_WIDTH_PX = 640
FUNNEL_ROW_PX = 50
FUNNEL_BAR_PX = 22
BAR_ROW_PX = 30
BAR_HEIGHT_PX = 18
VALUE_ROOM_PX = 110


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: its translated label and the accounts that reached it."""

    label: str
    count: int


@dataclass(frozen=True)
class Bar:
    """One bar: label, value and an optional confidence interval."""

    label: str
    value: float | None
    lower: float | None = None
    upper: float | None = None


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float | None]],
    missing_label: str,
    *,
    title: str | None = None,
    formatter: Formatter | None = None,
    value_format: Callable[[float], str] | None = None,
    scale_max: float = 1.0,
) -> str:
    """Draw a grid of shades, one row per cohort and one column per period.

    Parameters
    ----------
    rows, cols
        Row and column labels, already formatted.
    values
        ``values[i][j]`` for row ``i`` and column ``j``; ``None`` or NaN when
        the cell cannot be observed yet.
    missing_label
        Translated text for cells without a value, shown in the legend and
        as each such cell's tooltip.
    title
        Accessible title.
    formatter
        Formats the default cell labels (percentages, no decimals).
    value_format
        Formats one value into its cell label; overrides ``formatter``.
    scale_max
        Value drawn in the darkest shade; 1 for shares.

    Examples
    --------
    >>> svg = heatmap(["Jan"], ["M0", "M1"], [[1.0, None]], "not yet observable")
    >>> svg.count('class="cell missing"')
    1
    """
    fmt = formatter or Formatter("en")
    label_cell = value_format or (lambda value: fmt.percent(value, 0))
    left = max((text_width(row) for row in rows), default=0) + LABEL_PADDING_PX
    top = HEATMAP_HEADER_PX
    legend_width = LEGEND_TEXT_OFFSET_PX + text_width(missing_label)
    width = left + max(CELL_WIDTH_PX * len(cols), legend_width) + LABEL_PADDING_PX
    height = top + CELL_HEIGHT_PX * len(rows) + HEATMAP_LEGEND_PX
    ident = chart_id("heatmap", title, rows, cols, values, missing_label)
    n_missing = sum(1 for row in values for value in row if _absent(value))
    desc = f"{len(rows)} × {len(cols)}; {missing_label}: {n_missing}"
    parts = [open_svg(ident, width, height, title or desc, desc, "heatmap")]
    parts.append(_hatch_pattern(ident))
    for col_index, col in enumerate(cols):
        x = left + CELL_WIDTH_PX * (col_index + 0.5)
        parts.append(
            f'<text class="col-label" x="{num(x)}" y="{num(top - 10)}" '
            f'text-anchor="middle">{esc(col)}</text>'
        )
    for row_index, row in enumerate(rows):
        y = top + CELL_HEIGHT_PX * row_index
        parts.append(
            f'<text class="row-label" x="{num(left - LABEL_PADDING_PX / 2)}" '
            f'y="{num(y + CELL_HEIGHT_PX / 2)}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(row)}</text>'
        )
        for col_index, value in enumerate(values[row_index]):
            x = left + CELL_WIDTH_PX * col_index
            parts.append(
                _cell(x, y, value, scale_max, label_cell, missing_label, ident)
            )
    legend_y = top + CELL_HEIGHT_PX * len(rows) + 12
    parts.append(_missing_legend(left, legend_y, missing_label, ident))
    parts.append("</svg>")
    return "".join(parts)


def _absent(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def _hatch_pattern(ident: str) -> str:
    return (
        f'<defs><pattern id="{ident}-hatch" patternUnits="userSpaceOnUse" '
        f'width="6" height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{MISSING_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_COLOUR}" '
        f'stroke-width="2"/></pattern></defs>'
    )


def _cell(
    x: float,
    y: float,
    value: float | None,
    scale_max: float,
    label_cell: Callable[[float], str],
    missing_label: str,
    ident: str,
) -> str:
    box = (
        f'x="{num(x)}" y="{num(y)}" width="{CELL_WIDTH_PX - 2}" '
        f'height="{CELL_HEIGHT_PX - 2}"'
    )
    if _absent(value):
        return (
            f'<g class="cell missing"><title>{esc(missing_label)}</title>'
            f'<rect {box} fill="url(#{ident}-hatch)"/></g>'
        )
    fraction = min(max(value / scale_max, 0.0), 1.0) if scale_max else 0.0
    text_colour = "#fff" if fraction > DARK_TEXT_LIMIT else "#111"
    label = label_cell(value)
    return (
        f'<g class="cell" data-value="{value!r}"><title>{esc(label)}</title>'
        f'<rect {box} fill="{_shade(fraction)}"/>'
        f'<text x="{num(x + (CELL_WIDTH_PX - 2) / 2)}" '
        f'y="{num(y + (CELL_HEIGHT_PX - 2) / 2)}" text-anchor="middle" '
        f'dominant-baseline="middle" fill="{text_colour}">{esc(label)}</text></g>'
    )


def _shade(fraction: float) -> str:
    channels = (
        round(light + (dark - light) * fraction)
        for light, dark in zip(SCALE_LIGHT, SCALE_DARK)
    )
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def _missing_legend(x: float, y: float, missing_label: str, ident: str) -> str:
    return (
        f'<g class="legend"><rect x="{num(x)}" y="{num(y)}" width="18" height="14" '
        f'fill="url(#{ident}-hatch)" stroke="{HATCH_COLOUR}"/>'
        f'<text x="{num(x + LEGEND_TEXT_OFFSET_PX)}" y="{num(y + 7)}" '
        f'dominant-baseline="middle">'
        f"{esc(missing_label)}</text></g>"
    )


def funnel_bars(
    steps: Sequence[FunnelStep],
    *,
    title: str | None = None,
    formatter: Formatter | None = None,
) -> str:
    """Draw funnel steps as bars sized by their share of the first step.

    Each bar carries its count and its share of the first step; between two
    bars, ``↓`` gives the conversion from the previous step.

    Examples
    --------
    >>> svg = funnel_bars([FunnelStep("Sign-up", 200), FunnelStep("Invite", 50)])
    >>> "25.0%" in svg
    True
    """
    fmt = formatter or Formatter("en")
    first = steps[0].count if steps else 0
    left, right = 8, CHART_WIDTH_PX - VALUE_ROOM_PX
    height = FUNNEL_ROW_PX * len(steps) + 8
    ident = chart_id("funnel", title, [(step.label, step.count) for step in steps])
    summary = "; ".join(
        f"{step.label}: {fmt.integer(step.count)} "
        f"({fmt.percent(_ratio(step.count, first))})"
        for step in steps
    )
    parts = [
        open_svg(ident, CHART_WIDTH_PX, height, title or summary, summary, "funnel")
    ]
    scale = Scale(0.0, 1.0, left, right)
    for index, step in enumerate(steps):
        y = FUNNEL_ROW_PX * index
        share = _ratio(step.count, first)
        bar_end = scale(share if share is not None else 0.0)
        parts.append(
            f'<g class="step" data-count="{step.count}">'
            f'<text x="{num(left)}" y="{num(y + 14)}">{esc(step.label)}</text>'
            f'<rect x="{num(left)}" y="{num(y + 20)}" width="{num(bar_end - left)}" '
            f'height="{FUNNEL_BAR_PX}" fill="{PALETTE[0]}" rx="2"/>'
            f'<text class="value" x="{num(bar_end + 6)}" '
            f'y="{num(y + 20 + FUNNEL_BAR_PX / 2)}" dominant-baseline="middle">'
            f"{esc(fmt.integer(step.count))} ({esc(fmt.percent(share))})</text>"
        )
        if index > 0:
            conversion = _ratio(step.count, steps[index - 1].count)
            parts.append(
                f'<text class="conversion" x="{num(right + VALUE_ROOM_PX - 8)}" '
                f'y="{num(y + 14)}" text-anchor="end" fill="{AXIS_COLOUR}">'
                f"\u2193 {esc(fmt.percent(conversion))}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def bars(
    items: Sequence[Bar],
    *,
    title: str | None = None,
    formatter: Formatter | None = None,
    value_format: Callable[[float], str] | None = None,
) -> str:
    """Draw horizontal bars with optional confidence whiskers.

    Values may be negative (revenue lost, for instance): bars then grow left
    of a zero line. A value of ``None`` draws no bar and prints a dash.

    Parameters
    ----------
    items
        Bars in display order.
    title
        Accessible title.
    formatter
        Formats the default value labels (percentages with one decimal).
    value_format
        Formats one value into its label; overrides ``formatter``.

    Examples
    --------
    >>> svg = bars([Bar("Pro", 0.5, 0.4, 0.6), Bar("Free", None)])
    >>> svg.count('class="bar"')
    2
    """
    fmt = formatter or Formatter("en")
    label_value = value_format or (lambda value: fmt.percent(value))
    label_room = max((text_width(item.label) for item in items), default=0)
    left = label_room + LABEL_PADDING_PX
    width = max(CHART_WIDTH_PX, left + 200 + VALUE_ROOM_PX)
    right = width - VALUE_ROOM_PX
    height = BAR_ROW_PX * len(items) + 8
    low, high = _bar_domain(items)
    scale = Scale(low, high, left, right)
    ident = chart_id(
        "bars",
        title,
        [(item.label, item.value, item.lower, item.upper) for item in items],
    )
    summary = "; ".join(
        f"{item.label}: {label_value(item.value) if item.value is not None else '–'}"
        for item in items
    )
    parts = [open_svg(ident, width, height, title or summary, summary, "bars")]
    zero = scale(0.0)
    parts.append(
        f'<line x1="{num(zero)}" x2="{num(zero)}" y1="0" y2="{num(height - 8)}" '
        f'stroke="{AXIS_COLOUR}"/>'
    )
    for index, item in enumerate(items):
        parts.append(_bar_row(item, index, scale, left, label_value))
    parts.append("</svg>")
    return "".join(parts)


def _bar_domain(items: Sequence[Bar]) -> tuple[float, float]:
    values = [
        value
        for item in items
        for value in (item.value, item.lower, item.upper)
        if value is not None and math.isfinite(value)
    ]
    low = min([0.0, *values])
    high = max([0.0, *values])
    if low == high:
        high = low + 1.0
    return low, high


def _bar_row(
    item: Bar,
    index: int,
    scale: Scale,
    left: float,
    label_value: Callable[[float], str],
) -> str:
    y = BAR_ROW_PX * index + 4
    middle = y + BAR_HEIGHT_PX / 2
    parts = [
        f'<g class="bar" data-label="{esc(item.label)}">'
        f'<text x="{num(left - LABEL_PADDING_PX / 2)}" y="{num(middle)}" '
        f'text-anchor="end" dominant-baseline="middle">{esc(item.label)}</text>'
    ]
    if item.value is None or not math.isfinite(item.value):
        parts.append(
            f'<text class="value" x="{num(scale(0.0) + 6)}" y="{num(middle)}" '
            f'dominant-baseline="middle">–</text></g>'
        )
        return "".join(parts)
    start, end = sorted((scale(0.0), scale(item.value)))
    parts.append(
        f'<rect x="{num(start)}" y="{num(y)}" width="{num(end - start)}" '
        f'height="{BAR_HEIGHT_PX}" fill="{PALETTE[0]}" fill-opacity="0.85"/>'
    )
    if item.lower is not None and item.upper is not None:
        parts.append(
            f'<line class="ci" x1="{num(scale(item.lower))}" '
            f'x2="{num(scale(item.upper))}" y1="{num(middle)}" y2="{num(middle)}" '
            f'stroke="#222" stroke-width="1.5"/>'
        )
    text_x = max(end, scale(item.upper) if item.upper is not None else end) + 6
    parts.append(
        f'<text class="value" x="{num(text_x)}" y="{num(middle)}" '
        f'dominant-baseline="middle">{esc(label_value(item.value))}</text></g>'
    )
    return "".join(parts)
