"""Funnel and cohort sections of the report, from hand-made results.

The funnel and cohort figures are in ``report_support``; the report only
formats them, so each expected string is the hand value formatted per locale.
"""

from __future__ import annotations

import dataclasses

import pytest
from report_support import build_analysis, build_cohorts, parse_html

from jalon.report import render_report

NBSP = "\u00a0"
SVG_TITLE = "title"


@pytest.fixture(scope="module")
def pages():
    analysis = build_analysis(funnels=True, cohorts=True)
    return {lang: parse_html(render_report(analysis, lang)) for lang in ("en", "fr")}


def step_cell(page, step, field):
    line = page.find("tr", data_step=str(step))
    return line.find("td", data_field=field).find("span", **{"class": "value"}).text()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", ["25.0%", "50.0%"]), ("fr", [f"25,0{NBSP}%", f"50,0{NBSP}%"])],
)
def test_funnel_conversion_from_previous(pages, lang, expected):
    page = pages[lang]

    # 50/200 and 25/50.
    assert [
        step_cell(page, step, "conversion_from_previous") for step in (2, 3)
    ] == expected


def test_funnel_first_step_has_no_conversion(pages):
    assert step_cell(pages["en"], 1, "conversion_from_previous") == "–"


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", f"1.5{NBSP}d"), ("fr", f"1,5{NBSP}j")]
)
def test_funnel_median_time(pages, lang, expected):
    assert step_cell(pages[lang], 2, "median_days") == expected


def test_funnel_flags_friction_steps(pages):
    page = pages["en"]

    assert page.find("tr", data_step="2").find("span", **{"class": "flag"}).text() == (
        "largest drop-off"
    )
    assert page.find("tr", data_step="3").find("span", **{"class": "flag"}).text() == (
        "slowest step"
    )


def test_funnel_population_and_rules(pages):
    text = (
        pages["fr"]
        .find("section", data_funnel="activation")
        .find("p", **{"class": "population"})
        .text()
    )

    assert text == (
        f"200 comptes sont entrés dans l'entonnoir. Fenêtre de conversion{NBSP}: "
        "14 jours. Étapes dans l'ordre. Observé jusqu'au 04/12/2026."
    )


def test_funnel_chart_counts(pages):
    chart = pages["en"].find("section", data_funnel="activation").find("svg")
    values = [node.text() for node in chart.find_all("text", **{"class": "value"})]

    assert values == ["200 (100.0%)", "50 (25.0%)", "25 (12.5%)"]


def test_funnel_lists_exclusions(pages):
    section = pages["en"].find("section", data_funnel="activation")
    notes = [node.text() for node in section.find_all("p", **{"class": "table-note"})]

    assert "Left out: exclusion event during the attempt (3)" in notes


@pytest.mark.parametrize(
    ("lang", "missing"), [("en", "not yet observable"), ("fr", "pas encore observable")]
)
def test_cohort_unobservable_cell_is_hatched(pages, lang, missing):
    retention = pages[lang].find("section", id="cohorts").find_all("svg")[0]
    hatched = retention.find_all("g", **{"class": "cell missing"})

    assert len(hatched) == 1
    assert hatched[0].find(SVG_TITLE).text() == missing


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["100%", "50%", "30%", "100%", "25%"]),
        ("fr", [f"{value}{NBSP}%" for value in (100, 50, 30, 100, 25)]),
    ],
)
def test_cohort_retention_labels(pages, lang, expected):
    retention = pages[lang].find("section", id="cohorts").find_all("svg")[0]
    cells = retention.find_all("g", **{"class": "cell"})

    assert [cell.find("text").text() for cell in cells] == expected


@pytest.mark.parametrize(
    ("lang", "rows"),
    [
        ("en", ["2026-01-05 (10)", "2026-01-12 (8)"]),
        ("fr", ["05/01/2026 (10)", "12/01/2026 (8)"]),
    ],
)
def test_cohort_row_labels(pages, lang, rows):
    retention = pages[lang].find("section", id="cohorts").find_all("svg")[0]

    assert [
        node.text() for node in retention.find_all("text", **{"class": "row-label"})
    ] == rows


@pytest.mark.parametrize(
    ("lang", "columns"), [("en", ["W0", "W1", "W2"]), ("fr", ["S0", "S1", "S2"])]
)
def test_cohort_period_labels(pages, lang, columns):
    retention = pages[lang].find("section", id="cohorts").find_all("svg")[0]

    assert [
        node.text() for node in retention.find_all("text", **{"class": "col-label"})
    ] == columns


def test_cohort_median_time_table(pages):
    table = pages["en"].find("table", data_table="cohort-ttv")
    medians = [
        row.find("td", data_field="median").find("span", **{"class": "value"}).text()
        for row in table.find_all("tr")
        if "data-cohort" in row.attrs
    ]

    assert medians == [
        f"2.0{NBSP}d",
        "not reached by half of accounts within the window",
    ]


def test_sections_absent_without_results():
    page = parse_html(render_report(build_analysis(), "en"))

    assert page.find_all("section", id="cohorts") == []
    assert page.find_all("section", data_funnel="activation") == []


def test_cohort_churn_shade_scales_to_largest(pages):
    churn = pages["en"].find("section", id="cohorts").find_all("svg")[1]
    cells = {
        cell.find("text").text(): cell.find("rect").attrs["fill"]
        for cell in churn.find_all("g", **{"class": "cell"})
    }

    # The largest churn share, 1/8 (printed 12% by half-even rounding of
    # 12.5), takes the darkest shade, RGB (8, 69, 148).
    assert cells["12%"] == "#084594"


def churn_captions(analysis, lang):
    page = parse_html(render_report(analysis, lang))
    return [node.text() for node in page.find("section", id="cohorts").find_all("figcaption")]


def test_cohort_churn_note_when_churn_known_later():
    cohorts = build_cohorts()
    # Churn of the first cohort's period 2 is not known yet, though the
    # period has ended: inactivity churn needs the inactivity to pass.
    later = cohorts.observable.copy()
    later.iloc[0, 2] = False
    delayed = dataclasses.replace(cohorts, churn_observable=later)
    analysis = dataclasses.replace(build_analysis(), cohorts=delayed)

    english = churn_captions(analysis, "en")[1]
    french = churn_captions(analysis, "fr")[1]
    assert "Churn after inactivity is known only once" in english
    assert "Un churn après inactivité n'est connu qu'une fois" in french
    same = dataclasses.replace(build_analysis(), cohorts=cohorts)
    assert "inactivity" not in churn_captions(same, "en")[1]


def test_cohort_monthly_labels_name_the_month():
    cohorts = dataclasses.replace(build_cohorts(), period="month")
    analysis = dataclasses.replace(build_analysis(), cohorts=cohorts)
    page = parse_html(render_report(analysis, "fr"))
    retention = page.find("section", id="cohorts").find_all("svg")[0]
    labels = [
        node.text() for node in retention.find_all("text", **{"class": "row-label"})
    ]

    assert labels == ["janv. 2026 (10)", "janv. 2026 (8)"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "Shared a report: later cohorts reach it sooner (log-rank test for "
            "trend, z = 2.50, p = 0.012).",
        ),
        (
            "fr",
            f"Shared a report{NBSP}: les cohortes plus récentes l'atteignent plus "
            "tôt (test du log-rank de tendance, z = 2,50, p = 0,012).",
        ),
    ],
)
def test_cohort_trend_sentence(pages, lang, expected):
    assert pages[lang].find("p", data_note="trend").text() == expected
