"""Inline SVG charts for the report: share curves, heatmaps, funnels and bars.

Every function returns one ``<svg>`` element as a string, with a ``<title>``
and a ``<desc>`` for screen readers and text labels on the figures, so the
report needs no JavaScript library and opens offline. The output depends only
on the arguments, so tests can assert its structure and values.

Texts inside the charts (axis titles, legend labels, the missing-cell label)
arrive translated; numbers are formatted with the given
:class:`jalon.i18n.Formatter`, English by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jalon.i18n.format import Formatter
from jalon.report.charts_grid import Bar, FunnelStep, bars, funnel_bars, heatmap
from jalon.report.svg import (
    AXIS_COLOUR,
    DASHES,
    GRID_COLOUR,
    PALETTE,
    Scale,
    chart_id,
    day_ticks,
    esc,
    num,
    open_svg,
    polyline,
    share_ceiling,
    text_width,
)

__all__ = [
    "Bar",
    "CurveSeries",
    "FunnelStep",
    "bars",
    "funnel_bars",
    "heatmap",
    "share_curves",
]

CURVE_WIDTH_PX = 640
CURVE_PLOT_HEIGHT_PX = 260
CURVE_MARGIN = {"left": 52, "right": 16, "top": 12, "bottom": 44}
LEGEND_ROW_PX = 20
LEGEND_SWATCH_PX = 18
BAND_OPACITY = 0.16
LINE_WIDTH_PX = 2


@dataclass(frozen=True)
class CurveSeries:
    """One step curve of "share reached by day t", with an optional band.

    Attributes
    ----------
    label
        Legend text, already translated.
    time
        Days since the start, increasing.
    share
        Share in [0, 1] reached by each time.
    lower, upper
        Pointwise confidence bounds, same length as ``time``; ``None`` for no
        band.
    """

    label: str
    time: Sequence[float]
    share: Sequence[float]
    lower: Sequence[float] | None = None
    upper: Sequence[float] | None = None

    @classmethod
    def from_frame(cls, label: str, frame: object) -> CurveSeries:
        """Build a series from a DataFrame with ``time, share[, lower, upper]``."""
        columns = set(getattr(frame, "columns", ()))
        time = [float(value) for value in frame["time"]]  # type: ignore[index]
        share = [float(value) for value in frame["share"]]  # type: ignore[index]
        lower = upper = None
        if {"lower", "upper"} <= columns:
            lower = [float(value) for value in frame["lower"]]  # type: ignore[index]
            upper = [float(value) for value in frame["upper"]]  # type: ignore[index]
        return cls(label, time, share, lower, upper)


def share_curves(
    series: Sequence[CurveSeries],
    x_label: str,
    y_label: str,
    x_max: float | None = None,
    *,
    title: str | None = None,
    formatter: Formatter | None = None,
) -> str:
    """Draw step curves of the share reached by day t, each with its band.

    Parameters
    ----------
    series
        Curves to draw, in legend order.
    x_label, y_label
        Axis titles, already translated.
    x_max
        Last day shown; defaults to the longest time of any series. Curves
        are cut there and never extended past their own last time.
    title
        Accessible title; defaults to ``"y_label / x_label"``.
    formatter
        Formats tick labels; English when ``None``.

    Returns
    -------
    str
        One ``<svg>`` element. The y axis starts at 0 and shows percentages.

    Examples
    --------
    >>> svg = share_curves([CurveSeries("all", [1, 3], [0.2, 0.5])], "day", "share")
    >>> svg.startswith("<svg")
    True
    """
    fmt = formatter or Formatter("en")
    longest = max((max(item.time, default=0.0) for item in series), default=0.0)
    x_end = float(x_max) if x_max is not None else float(longest)
    x_end = x_end if x_end > 0 else 1.0
    y_top, y_ticks = share_ceiling(_visible_values(series, x_end))

    legend_rows = _legend_rows([item.label for item in series], CURVE_WIDTH_PX)
    legend_height = LEGEND_ROW_PX * len(legend_rows) if len(series) > 1 else 0
    top = CURVE_MARGIN["top"] + legend_height
    bottom = top + CURVE_PLOT_HEIGHT_PX
    left, right = CURVE_MARGIN["left"], CURVE_WIDTH_PX - CURVE_MARGIN["right"]
    height = bottom + CURVE_MARGIN["bottom"]
    x_scale = Scale(0.0, x_end, left, right)
    y_scale = Scale(0.0, y_top, bottom, top)

    ident = chart_id(
        "curves", title, x_label, y_label, x_end, [_series_key(s) for s in series]
    )
    label = title or f"{y_label} / {x_label}"
    desc = "; ".join(_series_summary(item, x_end, fmt) for item in series)
    parts = [open_svg(ident, CURVE_WIDTH_PX, height, label, desc, "share-curves")]
    parts.append(
        f'<clipPath id="{ident}-plot"><rect x="{num(left)}" y="{num(top)}" '
        f'width="{num(right - left)}" height="{num(bottom - top)}"/></clipPath>'
    )
    parts.append(_y_grid(y_ticks, y_scale, left, right, fmt.percent, digits=0))
    parts.append(_x_axis(day_ticks(x_end), x_scale, bottom, top, fmt))
    parts.append(_axis_titles(x_label, y_label, left, right, top, bottom, height))
    for index, item in enumerate(series):
        parts.append(_curve_group(item, index, x_end, x_scale, y_scale, ident))
    if len(series) > 1:
        parts.append(_legend(legend_rows, CURVE_MARGIN["top"], left))
    parts.append("</svg>")
    return "".join(parts)


def _visible_values(series: Sequence[CurveSeries], x_end: float) -> list[float]:
    values: list[float] = []
    for item in series:
        for column in (item.share, item.upper or item.share):
            values += [v for t, v in zip(item.time, column) if t <= x_end]
    return values


def _series_key(item: CurveSeries) -> tuple:
    return (item.label, tuple(item.time), tuple(item.share))


def _series_summary(item: CurveSeries, x_end: float, fmt: Formatter) -> str:
    value, day = _value_at(item, x_end)
    if value is None:
        return f"{item.label}: {fmt.percent(0.0)}"
    return f"{item.label}: {fmt.percent(value)} ({fmt.days(day, 0)})"


def _value_at(item: CurveSeries, day: float) -> tuple[float | None, float]:
    latest: float | None = None
    latest_day = 0.0
    for time, share in zip(item.time, item.share):
        if time > day:
            break
        if math.isfinite(share):
            latest, latest_day = share, time
    return latest, latest_day


def _y_grid(
    ticks: Sequence[float],
    scale: Scale,
    left: float,
    right: float,
    label: Callable[..., str],
    **label_options: object,
) -> str:
    lines = ['<g class="axis axis-y">']
    for tick in ticks:
        y = num(scale(tick))
        lines.append(
            f'<line x1="{num(left)}" x2="{num(right)}" y1="{y}" y2="{y}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{num(left - 6)}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(label(tick, **label_options))}</text>'
        )
    lines.append("</g>")
    return "".join(lines)


def _x_axis(
    ticks: Sequence[float], scale: Scale, bottom: float, top: float, fmt: Formatter
) -> str:
    lines = [
        '<g class="axis axis-x">',
        f'<line x1="{num(scale.pixel_low)}" x2="{num(scale.pixel_high)}" '
        f'y1="{num(bottom)}" y2="{num(bottom)}" stroke="{AXIS_COLOUR}"/>',
    ]
    for tick in ticks:
        x = num(scale(tick))
        digits = 0 if float(tick).is_integer() else 1
        lines.append(
            f'<line x1="{x}" x2="{x}" y1="{num(bottom)}" y2="{num(bottom + 5)}" '
            f'stroke="{AXIS_COLOUR}"/>'
            f'<text x="{x}" y="{num(bottom + 18)}" text-anchor="middle">'
            f"{esc(fmt.number(tick, digits))}</text>"
        )
    lines.append("</g>")
    return "".join(lines)


def _axis_titles(
    x_label: str,
    y_label: str,
    left: float,
    right: float,
    top: float,
    bottom: float,
    height: float,
) -> str:
    middle_y = (top + bottom) / 2
    return (
        f'<text class="axis-title" x="{num((left + right) / 2)}" '
        f'y="{num(height - 6)}" text-anchor="middle">{esc(x_label)}</text>'
        f'<text class="axis-title" x="14" y="{num(middle_y)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {num(middle_y)})">{esc(y_label)}</text>'
    )


def _curve_group(
    item: CurveSeries,
    index: int,
    x_end: float,
    x_scale: Scale,
    y_scale: Scale,
    ident: str,
) -> str:
    colour = PALETTE[index % len(PALETTE)]
    dash = DASHES[index % len(DASHES)]
    parts = [
        f'<g class="series" data-label="{esc(item.label)}" '
        f'clip-path="url(#{ident}-plot)">'
    ]
    if item.lower is not None and item.upper is not None:
        upper = _step_points(item.time, _filled(item.upper, item.share), x_end)
        lower = _step_points(item.time, _filled(item.lower, item.share), x_end)
        outline = [*upper, *reversed(lower)]
        pixels = [(x_scale(x), y_scale(y)) for x, y in outline]
        parts.append(
            f'<path class="band" d="{polyline(pixels)}Z" fill="{colour}" '
            f'fill-opacity="{BAND_OPACITY}" stroke="none"/>'
        )
    points = _step_points(item.time, list(item.share), x_end)
    pixels = [(x_scale(x), y_scale(y)) for x, y in points]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts.append(
        f'<path class="curve" d="{polyline(pixels)}" fill="none" '
        f'stroke="{colour}" stroke-width="{LINE_WIDTH_PX}"{dash_attr}/>'
    )
    parts.append("</g>")
    return "".join(parts)


def _filled(bounds: Sequence[float], share: Sequence[float]) -> list[float]:
    # A bound is undefined (NaN) where no interval exists; the curve itself
    # is then the best stand-in, so the band collapses onto it.
    return [
        float(bound) if bound is not None and math.isfinite(bound) else float(value)
        for bound, value in zip(bounds, share)
    ]


def _step_points(
    times: Sequence[float], values: Sequence[float], x_end: float
) -> list[tuple[float, float]]:
    """Return the vertices of a right-continuous step function from day 0."""
    points = [(0.0, 0.0)]
    current = 0.0
    last_time = 0.0
    for time, value in zip(times, values):
        time = float(time)
        if time > x_end:
            points.append((x_end, current))
            return points
        if not math.isfinite(value):
            continue
        points.append((time, current))
        points.append((time, float(value)))
        current = float(value)
        last_time = time
    points.append((min(last_time, x_end), current))
    return points


def _legend_rows(labels: Sequence[str], width: float) -> list[list[tuple[int, str]]]:
    rows: list[list[tuple[int, str]]] = [[]]
    used = CURVE_MARGIN["left"]
    for index, label in enumerate(labels):
        item_width = LEGEND_SWATCH_PX + 8 + text_width(label) + 18
        if rows[-1] and used + item_width > width - CURVE_MARGIN["right"]:
            rows.append([])
            used = CURVE_MARGIN["left"]
        rows[-1].append((index, label))
        used += item_width
    return rows


def _legend(rows: Sequence[Sequence[tuple[int, str]]], top: float, left: float) -> str:
    parts = ['<g class="legend">']
    for row_index, row in enumerate(rows):
        x = left
        y = top + row_index * LEGEND_ROW_PX + LEGEND_ROW_PX / 2
        for index, label in row:
            colour = PALETTE[index % len(PALETTE)]
            dash = DASHES[index % len(DASHES)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{num(x)}" x2="{num(x + LEGEND_SWATCH_PX)}" y1="{num(y)}" '
                f'y2="{num(y)}" stroke="{colour}" stroke-width="3"{dash_attr}/>'
                f'<text x="{num(x + LEGEND_SWATCH_PX + 6)}" y="{num(y)}" '
                f'dominant-baseline="middle">{esc(label)}</text>'
            )
            x += LEGEND_SWATCH_PX + 8 + text_width(label) + 18
    parts.append("</g>")
    return "".join(parts)
