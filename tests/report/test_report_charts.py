"""SVG charts: geometry computed by hand, labels, missing cells, determinism.

Share curve geometry with one series and no legend: the plot spans x from 52
to 624 px and y from 12 (top) to 272 (bottom) px.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree

import pandas as pd
import pytest

from jalon.i18n import Formatter
from jalon.report.charts import (
    Bar,
    CurveSeries,
    FunnelStep,
    bars,
    funnel_bars,
    heatmap,
    share_curves,
)
from jalon.report.milestone_charts import chart_days
from jalon.report.svg import day_ticks, nice_step, nice_ticks, num, polyline

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def texts(root: ElementTree.Element, selector: str) -> list[str]:
    return [node.text or "" for node in root.iterfind(selector)]


def by_class(
    root: ElementTree.Element, tag: str, name: str
) -> list[ElementTree.Element]:
    return [
        node
        for node in root.iter(f"{SVG}{tag}")
        if name in node.attrib.get("class", "").split()
    ]


def test_share_curve_path_by_hand():
    series = [CurveSeries("all", [1, 3], [0.2, 0.5])]
    root = parse(share_curves(series, "Days", "Share", x_max=4))
    curve = by_class(root, "path", "curve")[0]

    # x: 0..4 days onto 52..624 px, 143 px a day; y: 0..50% onto 272..12 px,
    # 5.2 px a point, so 20% is at 272 - 104 = 168 px. The step curve stops at
    # its last time (day 3), not at x_max.
    assert curve.attrib["d"] == "M52 272L195 272L195 168L481 168L481 12"


def test_share_curve_cut_at_x_max():
    series = [CurveSeries("all", [1, 5], [0.2, 0.6])]
    root = parse(share_curves(series, "Days", "Share", x_max=3))
    curve = by_class(root, "path", "curve")[0]

    # 0..3 days onto 52..624 px; the top of the axis is 20%, the highest share
    # shown, so 20% is at y = 12.
    assert curve.attrib["d"] == "M52 272L242.7 272L242.7 12L624 12"


def test_share_curve_percent_ticks_english():
    series = [CurveSeries("all", [1, 5], [0.2, 0.6])]
    root = parse(share_curves(series, "Days", "Share", x_max=3))
    axis = [node for node in root.iter(f"{SVG}g") if "axis-y" in node.attrib["class"]][
        0
    ]

    # nice_step(0.2) is 0.05: raw step 0.04 rounds up to 5 x 0.01.
    assert texts(axis, f"{SVG}text") == ["0%", "5%", "10%", "15%", "20%"]


def test_share_curve_french_ticks():
    series = [CurveSeries("all", [1, 30], [0.2, 0.45])]
    root = parse(share_curves(series, "Jours", "Part", formatter=Formatter("fr")))
    axis_y = [node for node in root.iter(f"{SVG}g") if "axis-y" in node.attrib["class"]]
    axis_x = [node for node in root.iter(f"{SVG}g") if "axis-x" in node.attrib["class"]]

    assert texts(axis_y[0], f"{SVG}text")[-1] == f"50{NBSP}%"
    assert texts(axis_x[0], f"{SVG}text") == ["0", "7", "14", "21", "28"]


def test_share_curve_band_outline():
    series = [CurveSeries("all", [1, 2], [0.2, 0.4], [0.1, 0.3], [0.3, 0.5])]
    root = parse(share_curves(series, "Days", "Share", x_max=2))
    band = by_class(root, "path", "band")[0]

    # 0..2 days onto 52..624 (286 px a day); 0..50% onto 272..12 (5.2 px a
    # point): 10% at 220, 30% at 116, 50% at 12. The upper bound runs forward
    # and the lower bound backward, turning at day 2.
    assert band.attrib["d"] == (
        "M52 272L338 272L338 116L624 116L624 12L624 220L338 220L338 272L52 272Z"
    )


def test_share_curve_undefined_bounds_collapse_to_curve():
    series = [CurveSeries("all", [1, 2], [0.2, 0.4], [math.nan, 0.3], [math.nan, 0.5])]
    svg = share_curves(series, "Days", "Share")

    assert re.search(r"\bnan\b", svg, flags=re.IGNORECASE) is None


def test_share_curve_legend_only_for_several_series():
    one = parse(share_curves([CurveSeries("all", [1], [0.5])], "d", "s"))
    two = parse(
        share_curves(
            [CurveSeries("pro", [1], [0.5]), CurveSeries("free", [2], [0.3])], "d", "s"
        )
    )

    assert by_class(one, "g", "legend") == []
    assert texts(by_class(two, "g", "legend")[0], f"{SVG}text") == ["pro", "free"]


def test_share_curve_is_accessible():
    root = parse(
        share_curves([CurveSeries("all", [1], [0.5])], "d", "s", title="Time to value")
    )
    title_id, desc_id = root.attrib["aria-labelledby"].split()

    assert root.attrib["role"] == "img"
    assert root.find(f"{SVG}title").attrib["id"] == title_id
    assert root.find(f"{SVG}title").text == "Time to value"
    assert root.find(f"{SVG}desc").attrib["id"] == desc_id
    assert root.find(f"{SVG}desc").text == f"all: 50.0% (1{NBSP}d)"


def test_share_curve_escapes_labels():
    svg = share_curves([CurveSeries("<b>&", [1], [0.5])], "d", "s")

    assert "<b>" not in svg
    assert parse(svg).find(f"{SVG}desc").text.startswith("<b>&")


def test_share_curve_is_deterministic():
    series = [CurveSeries("all", [1, 2], [0.2, 0.4])]
    other = [CurveSeries("all", [1, 2], [0.2, 0.5])]

    assert share_curves(series, "d", "s") == share_curves(series, "d", "s")
    assert (
        parse(share_curves(series, "d", "s")).attrib["id"]
        != parse(share_curves(other, "d", "s")).attrib["id"]
    )


MISSING = "not yet observable"
HEATMAP_VALUES = [[1.0, 0.5, None], [0.8, math.nan, None]]


def test_heatmap_missing_cells_hatched():
    root = parse(heatmap(["Jan", "Feb"], ["M0", "M1", "M2"], HEATMAP_VALUES, MISSING))
    missing = by_class(root, "g", "missing")

    # None and NaN are both missing: 3 of the 6 cells.
    assert len(missing) == 3
    assert all(cell.find(f"{SVG}title").text == MISSING for cell in missing)
    assert all(cell.find(f"{SVG}text") is None for cell in missing)
    assert all(
        cell.find(f"{SVG}rect").attrib["fill"].endswith("-hatch)") for cell in missing
    )


def test_heatmap_missing_never_zero():
    svg = heatmap(["Jan"], ["M0", "M1"], [[1.0, None]], MISSING)

    assert ">0%<" not in svg
    assert texts(by_class(parse(svg), "g", "legend")[0], f"{SVG}text") == [MISSING]


def test_heatmap_cell_labels_and_shades():
    root = parse(heatmap(["Jan", "Feb"], ["M0", "M1", "M2"], HEATMAP_VALUES, MISSING))
    cells = [
        cell
        for cell in by_class(root, "g", "cell")
        if "missing" not in cell.attrib["class"]
    ]

    assert [cell.find(f"{SVG}text").text for cell in cells] == ["100%", "50%", "80%"]
    # 100% takes the dark end of the scale, RGB (8, 69, 148).
    assert cells[0].find(f"{SVG}rect").attrib["fill"] == "#084594"


def test_heatmap_french_labels():
    root = parse(
        heatmap(
            ["janv."],
            ["M0"],
            [[0.5]],
            "pas encore observable",
            formatter=Formatter("fr"),
        )
    )

    assert by_class(root, "g", "cell")[0].find(f"{SVG}text").text == f"50{NBSP}%"


FUNNEL = [FunnelStep("Sign-up", 200), FunnelStep("Invite", 50), FunnelStep("Share", 25)]


def test_funnel_values_and_conversions():
    root = parse(funnel_bars(FUNNEL))
    values = texts(root, f".//{SVG}text[@class='value']")
    conversions = texts(root, f".//{SVG}text[@class='conversion']")

    # Shares of the first step: 50/200 = 25%, 25/200 = 12.5%; conversions
    # from the previous step: 50/200 = 25%, 25/50 = 50%.
    assert values == ["200 (100.0%)", "50 (25.0%)", "25 (12.5%)"]
    assert conversions == ["↓ 25.0%", "↓ 50.0%"]


def test_funnel_bar_widths():
    root = parse(funnel_bars(FUNNEL))
    widths = [rect.attrib["width"] for rect in root.iter(f"{SVG}rect")]

    # The full bar spans 8..530 px, 522 px; a quarter is 130.5 px and an
    # eighth 65.25 px, rounded half-even to 65.2.
    assert widths == ["522", "130.5", "65.2"]


def test_funnel_empty_first_step():
    root = parse(funnel_bars([FunnelStep("Sign-up", 0), FunnelStep("Invite", 0)]))

    assert texts(root, f".//{SVG}text[@class='value']") == ["0 (–)", "0 (–)"]


def test_bars_missing_value_draws_no_bar():
    root = parse(bars([Bar("Pro", 0.5, 0.4, 0.6), Bar("Free", None)]))
    groups = by_class(root, "g", "bar")

    assert groups[0].find(f"{SVG}rect") is not None
    assert groups[1].find(f"{SVG}rect") is None
    assert groups[1].find(f".//{SVG}text[@class='value']").text == "–"


def test_bars_negative_value_left_of_zero():
    root = parse(bars([Bar("Expansion", 0.6), Bar("Churn", -0.2)]))
    zero = float(root.find(f"{SVG}line").attrib["x1"])
    churn = by_class(root, "g", "bar")[1].find(f"{SVG}rect")

    assert float(churn.attrib["x"]) + float(churn.attrib["width"]) == pytest.approx(
        zero
    )
    assert float(churn.attrib["x"]) < zero


def test_bars_custom_value_format():
    root = parse(bars([Bar("MRR", 1234.5)], value_format=Formatter("fr").currency))

    assert texts(root, f".//{SVG}text[@class='value']") == ["1\u202f234,50\u00a0€"]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 0.43, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
        (0, 100, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]),
        (0, 1, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-0.2, 0.6, [-0.2, 0.0, 0.2, 0.4, 0.6]),
    ],
)
def test_nice_ticks(low, high, expected):
    assert nice_ticks(low, high) == expected


def test_nice_step_quarter_multiple():
    # 12 / 5 = 2.4, and the next nice step up is 2.5.
    assert nice_step(12, 5) == 2.5


@pytest.mark.parametrize(
    ("x_max", "expected"),
    [
        (10, [0, 2, 4, 6, 8, 10]),
        (30, [0, 7, 14, 21, 28]),
        (90, [0, 14, 28, 42, 56, 70, 84]),
        (365, [0, 100, 200, 300]),
    ],
)
def test_day_ticks(x_max, expected):
    assert day_ticks(x_max) == expected


def test_polyline_drops_redundant_vertices():
    points = [(0, 0), (1, 0), (2, 0), (2, 0), (2, 5), (2, 7)]

    assert polyline(points) == "M0 0L2 0L2 7"


def test_polyline_keeps_turning_vertex():
    points = [(0, 0), (0, 10), (0, 4)]

    assert polyline(points) == "M0 0L0 10L0 4"


@pytest.mark.parametrize(
    ("value", "expected"), [(1.0, "1"), (1.25, "1.2"), (-0.01, "0"), (3.96, "4")]
)
def test_num_rounds_to_one_decimal(value, expected):
    assert num(value) == expected


def test_heatmap_fits_its_legend():
    label = "not yet observable because the period has not ended"
    root = parse(heatmap(["Jan"], ["M0"], [[0.5]], label))
    legend_text = by_class(root, "g", "legend")[0].find(f"{SVG}text")

    # The label is 52 characters, estimated at 7.2 px each (374.4 px).
    text_end = float(legend_text.attrib["x"]) + len(label) * 7.2

    assert float(root.attrib["width"]) >= text_end


class CurveOnly:
    """A summary stand-in: chart_days reads only ``curve``."""

    def __init__(self, times, shares):
        self.curve = pd.DataFrame({"time": times, "share": shares})


def test_chart_days_stops_after_settling():
    # The curve reaches 99% of its final 0.5 on day 20; 20 * 1.2 = 24 days,
    # rounded up to 4 weeks.
    summary = CurveOnly([0.0, 3.0, 20.0, 400.0], [0.0, 0.3, 0.5, 0.5])

    assert chart_days([summary], (1, 7)) == (28.0, 400.0)


def test_chart_days_uses_longest_horizon():
    # Settled on day 2 but the longest horizon is 30: 36 days, so 42.
    summary = CurveOnly([0.0, 2.0, 400.0], [0.0, 0.5, 0.5])

    assert chart_days([summary], (1, 7, 30)) == (42.0, 400.0)


def test_chart_days_never_past_longest_time():
    summary = CurveOnly([0.0, 2.0, 10.0], [0.0, 0.5, 0.5])

    assert chart_days([summary], (1, 7, 30)) == (10.0, 10.0)


def test_chart_days_slowest_curve_decides():
    fast = CurveOnly([0.0, 1.0, 400.0], [0.0, 0.5, 0.5])
    slow = CurveOnly([0.0, 50.0, 400.0], [0.0, 0.5, 0.5])

    # 50 * 1.2 = 60 days, a whole number of weeks up: 63.
    assert chart_days([fast, slow], (1,)) == (63.0, 400.0)


def test_share_curve_without_points():
    root = parse(share_curves([CurveSeries("all", [], [])], "d", "s"))

    # Nothing reached: the curve stays on the zero line, from 0 to 0 px.
    assert by_class(root, "path", "curve")[0].attrib["d"] == "M52 272"
