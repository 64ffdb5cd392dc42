"""Low-level helpers for the inline SVG charts: escaping, scales, ticks, ids.

Coordinates are rounded to one decimal so the same input always produces
byte-identical SVG, and so long curves stay small.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

# Typical advance width of a 13 px sans-serif character, in pixels; used to
# size legends and margins without measuring text.
CHAR_WIDTH_PX = 7.2
FONT_SIZE_PX = 13
# Colour-blind-safe palette (Okabe and Ito, 2008) without its yellow, which
# is unreadable on white.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
)
# Dash patterns distinguish series for readers who cannot tell the colours apart.
DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4", "4 2 1 2", "1 2")
DAYS_PER_WEEK = 7
MAX_WEEK_TICKS = 9
FULL_SHARE = 1.0
AXIS_COLOUR = "#555"
GRID_COLOUR = "#e3e3e3"
TEXT_COLOUR = "#222"


def esc(text: object) -> str:
    """Escape ``text`` for an SVG text node or a double-quoted attribute."""
    return escape(str(text), quote=True)


def num(value: float) -> str:
    """Format a coordinate with at most one decimal and no trailing zeros."""
    rounded = round(value, 1)
    if rounded == 0:
        rounded = 0.0
    text = f"{rounded:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str) -> float:
    """Estimate the rendered width of ``text`` at the chart font size, in px."""
    return len(text) * CHAR_WIDTH_PX


def chart_id(kind: str, *parts: object) -> str:
    """Return a stable id prefix derived from the chart's content.

    The parts should include the chart's title: two charts with the same
    title and data get the same id, and a page would then hold duplicate
    ids.
    """
    digest = hashlib.sha1(repr((kind, parts)).encode("utf-8")).hexdigest()[:8]
    return f"jc-{kind}-{digest}"


def open_svg(
    ident: str, width: float, height: float, title: str, desc: str, kind: str
) -> str:
    """Open an accessible ``<svg>`` element with its title and description."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" '
        f'id="{ident}" viewBox="0 0 {num(width)} {num(height)}" '
        f'width="{num(width)}" height="{num(height)}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{FONT_SIZE_PX}" fill="{TEXT_COLOUR}">'
        f'<title id="{ident}-title">{esc(title)}</title>'
        f'<desc id="{ident}-desc">{esc(desc)}</desc>'
    )


@dataclass(frozen=True)
class Scale:
    """Linear map from a data interval onto a pixel interval."""

    domain_low: float
    domain_high: float
    pixel_low: float
    pixel_high: float

    def __call__(self, value: float) -> float:
        span = self.domain_high - self.domain_low
        fraction = (value - self.domain_low) / span if span else 0.0
        return self.pixel_low + fraction * (self.pixel_high - self.pixel_low)


def nice_step(span: float, target_ticks: int = 5) -> float:
    """Return a step of 1, 2, 2.5 or 5 times a power of ten near ``span / target``.

    >>> nice_step(100, 5)
    20.0
    """
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = multiple * magnitude
        if step >= raw:
            return step
    return 10.0 * magnitude


def nice_ticks(low: float, high: float, target_ticks: int = 5) -> list[float]:
    """Return evenly spaced round ticks covering ``[low, high]``.

    The first tick is at or below ``low`` and the last at or above ``high``.

    >>> nice_ticks(0, 0.43)
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    """
    if high <= low:
        high = low + 1.0
    step = nice_step(high - low, target_ticks)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    count = int(round((last - first) / step))
    return [_clean(first + index * step) for index in range(count + 1)]


def day_ticks(x_max: float) -> list[float]:
    """Return ticks for a day axis from 0 to ``x_max``, never past ``x_max``.

    From 2 to 9 weeks the ticks fall on every week, and up to 18 weeks on
    every second week, because teams count onboarding time in weeks.

    >>> day_ticks(30)
    [0, 7, 14, 21, 28]
    """
    if x_max <= 0:
        return [0]
    weeks = x_max / DAYS_PER_WEEK
    if 2 <= weeks <= MAX_WEEK_TICKS * 1.0:
        return [DAYS_PER_WEEK * week for week in range(int(weeks) + 1)]
    if MAX_WEEK_TICKS < weeks <= MAX_WEEK_TICKS * 2:
        return [2 * DAYS_PER_WEEK * pair for pair in range(int(weeks / 2) + 1)]
    ticks = nice_ticks(0, x_max, 6)
    return [tick for tick in ticks if tick <= x_max + 1e-9]


def share_ceiling(values: Iterable[float]) -> tuple[float, list[float]]:
    """Return the top of a share axis and its ticks, starting at 0, at most 1.

    >>> share_ceiling([0.0, 0.43])
    (0.5, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    """
    finite = [value for value in values if math.isfinite(value)]
    top = max(finite, default=0.0)
    top = min(max(top, 0.05), FULL_SHARE)
    ticks = [tick for tick in nice_ticks(0.0, top) if tick <= FULL_SHARE + 1e-9]
    return ticks[-1], ticks


def polyline(points: Sequence[tuple[float, float]]) -> str:
    """Return SVG path data through ``points``, dropping redundant vertices.

    A vertex is redundant when it repeats the previous one after rounding or
    lies inside the straight horizontal or vertical run between its
    neighbours. A run that turns back, such as the right edge of a band, keeps
    its turning vertex.
    """
    rounded = [(num(x), num(y)) for x, y in points]
    vertices: list[tuple[str, str]] = []
    for point in rounded:
        if vertices and point == vertices[-1]:
            continue
        if len(vertices) >= 2 and _inside_run(vertices[-2], vertices[-1], point):
            vertices[-1] = point
            continue
        vertices.append(point)
    if not vertices:
        return ""
    head, *tail = vertices
    return "M" + f"{head[0]} {head[1]}" + "".join(f"L{x} {y}" for x, y in tail)


def _inside_run(
    first: tuple[str, str], middle: tuple[str, str], last: tuple[str, str]
) -> bool:
    # Equal strings are equal rounded coordinates.
    if first[0] == middle[0] == last[0]:
        return _between(first[1], middle[1], last[1])
    if first[1] == middle[1] == last[1]:
        return _between(first[0], middle[0], last[0])
    return False


def _between(first: str, middle: str, last: str) -> bool:
    low, high = sorted((float(first), float(last)))
    return low <= float(middle) <= high


def _clean(value: float) -> float:
    return round(value, 10) + 0.0
