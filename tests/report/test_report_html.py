"""The HTML report of a small hand-made analysis, in English and French.

Accounts and hand computations are in ``report_support``. Overall, with churn
as a competing risk (Aalen-Johansen), all-cause survival S and incidence:

* day 1: 12 at risk, 1 reached, 1 churned: CIF = 1/12 = 8.3%, S = 10/12
* day 2: 10 at risk, 2 reached: CIF += 10/12 * 2/10, so 3/12; S = 8/12
* day 3: 8 at risk, 1 churned: S = 7/12
* day 4: 7 at risk, 1 reached: CIF += 7/12 * 1/7, so 4/12; S = 6/12
* day 5: 6 at risk, 1 reached: CIF += 6/12 * 1/6, so 5/12 = 41.7%

so the shares by day 1, 7 and 30 are 8.3%, 41.7% and 41.7%. The naive mean
over the 5 accounts that reached it is (1 + 2 + 2 + 4 + 5) / 5 = 2.8 days,
the naive median 2 days.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from report_support import build_analysis, parse_html, unbalanced_tags

from jalon.i18n import Formatter
from jalon.report import render_report, write_report

LANGS = ("en", "fr")
NBSP = "\u00a0"
SHARE_FIELDS = ("share_1", "share_7", "share_30")


@pytest.fixture(scope="module")
def pages():
    """Return the report of the synthetic analysis, parsed, in each language."""
    analysis = build_analysis()
    return {lang: parse_html(render_report(analysis, lang)) for lang in LANGS}


def row(page, table, group):
    section = page.find("section", data_milestone="shared_report")
    rows = section.find("table", data_table=table).find_all("tr")
    matches = [item for item in rows if item.attrs.get("data-group") == group]
    assert len(matches) == 1, f"expected one row for {group!r}"
    return matches[0]


def cell_value(row_node, field):
    cell = row_node.find("td", data_field=field)
    values = cell.find_all("span", **{"class": "value"})
    return values[0].text() if values else cell.text()


def cell_interval(row_node, field):
    return row_node.find("td", data_field=field).find("span", **{"class": "ci"}).text()


def all_groups_label(lang):
    return {"en": "All accounts", "fr": "Tous les comptes"}[lang]


@pytest.mark.parametrize("lang", LANGS)
def test_report_has_no_external_url(pages, lang):
    page = pages[lang]
    links = [
        node.attrs[name]
        for node in page.iter()
        for name in ("src", "href")
        if name in node.attrs
    ]

    assert [link for link in links if "http" in link or link.startswith("//")] == []
    assert page.find_all("link") == []
    assert [node for node in page.find_all("script") if "src" in node.attrs] == []


@pytest.mark.parametrize("lang", LANGS)
def test_report_inlines_its_styles(pages, lang):
    style = pages[lang].find("style")

    assert "font-family" in style.text()
    assert "@import" not in style.text()


@pytest.mark.parametrize("lang", LANGS)
def test_report_declares_its_language(pages, lang):
    assert pages[lang].find("html").attrs["lang"] == lang


@pytest.mark.parametrize("lang", LANGS)
def test_report_shares_equal_summary(pages, lang):
    summary = build_analysis().milestones[0].overall
    fmt = Formatter(lang)
    line = row(pages[lang], "shares", all_groups_label(lang))

    for field, share in zip(SHARE_FIELDS, summary.horizons, strict=True):
        assert cell_value(line, field) == fmt.percent(share.share)
        assert cell_interval(line, field) == fmt.percent_range(share.lower, share.upper)


def test_report_shares_equal_hand_values():
    summary = build_analysis().milestones[0].overall

    assert summary.horizons[0].share == pytest.approx(1 / 12, abs=1e-12)
    assert summary.horizons[1].share == pytest.approx(5 / 12, abs=1e-12)
    assert summary.horizons[2].share == pytest.approx(5 / 12, abs=1e-12)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["8.3%", "41.7%", "41.7%"]),
        ("fr", [f"8,3{NBSP}%", f"41,7{NBSP}%", f"41,7{NBSP}%"]),
    ],
)
def test_report_shares_printed_per_locale(pages, lang, expected):
    line = row(pages[lang], "shares", all_groups_label(lang))

    assert [cell_value(line, field) for field in SHARE_FIELDS] == expected


@pytest.mark.parametrize("lang", LANGS)
def test_report_counts_equal_summary(pages, lang):
    line = row(pages[lang], "shares", all_groups_label(lang))

    # 12 accounts: 5 reached, 3 churned first, 4 still observed on day 10.
    assert cell_value(line, "n_accounts") == "12"
    assert cell_value(line, "n_reached") == "5"
    assert cell_value(line, "n_churned_first") == "3"
    assert cell_value(line, "n_censored") == "4"


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", f"2.0{NBSP}d"), ("fr", f"2,0{NBSP}j")]
)
def test_report_group_median_per_locale(pages, lang, expected):
    # Pro: S(2) = 5/6 * 3/5 = 0.5, so its median is 2 days.
    assert cell_value(row(pages[lang], "times", "pro"), "p50") == expected


@pytest.mark.parametrize(
    ("lang", "cell", "sentence"),
    [
        (
            "en",
            "not reached by half of accounts within the window",
            "Not reached by half of accounts within the window: by its end, 41.7% of "
            "accounts had reached this milestone",
        ),
        (
            "fr",
            "pas atteint par la moitié des comptes dans la fenêtre d'observation",
            "Pas atteint par la moitié des comptes dans la fenêtre "
            f"d'observation{NBSP}: à sa fin, 41,7{NBSP}% des comptes avaient "
            "atteint ce jalon",
        ),
    ],
)
def test_report_median_not_reached_shows_plateau(pages, lang, cell, sentence):
    page = pages[lang]
    line = row(page, "times", all_groups_label(lang))
    note = page.find("p", data_note="median").text()

    assert cell_value(line, "p50") == cell
    assert note.startswith(sentence)
    assert cell_value(line, "plateau") == Formatter(lang).percent(5 / 12)


@pytest.mark.parametrize(
    ("lang", "mean", "median"),
    [("en", f"2.8{NBSP}d", f"2.0{NBSP}d"), ("fr", f"2,8{NBSP}j", f"2,0{NBSP}j")],
)
def test_report_naive_figures_with_warning(pages, lang, mean, median):
    page = pages[lang]
    line = row(page, "times", all_groups_label(lang))
    note = page.find("p", data_note="naive").text()

    assert cell_value(line, "naive_mean") == mean
    assert cell_value(line, "naive_median") == median
    assert mean in note
    assert "(4)" in note  # not reached yet
    assert "(3)" in note  # churned first


def test_report_competing_note_gives_kaplan_meier():
    # 1 - S_KM(7) = 1 - 11/12 * 8/10 * 6/7 * 5/6 = 1 - 0.5238 = 47.6%.
    note = parse_html(render_report(build_analysis(), "en")).find(
        "p", data_note="competing"
    )

    assert "would give 47.6% by day 30 instead of 41.7%" in note.text()


@pytest.mark.parametrize(
    ("lang", "banner"),
    [("en", "Synthetic data."), ("fr", "Données synthétiques.")],
)
def test_report_synthetic_banner(pages, lang, banner):
    assert pages[lang].find("p", data_banner="synthetic").text().startswith(banner)


def test_report_real_data_has_no_banner():
    page = parse_html(render_report(build_analysis(synthetic=False), "en"))

    assert page.find_all("p", data_banner="synthetic") == []


def test_report_french_uses_decimal_comma(pages):
    page = pages["fr"]
    figures = [
        cell.text()
        for table in page.find_all("table")
        for cell in table.find_all("td")
        if "num" in cell.attrs.get("class", "")
    ]

    assert [text for text in figures if re.search(r"\d\.\d", text)] == []
    assert any(re.search(r"\d,\d", text) for text in figures)


def test_report_escapes_project_name(pages):
    page = pages["en"]

    assert page.find("h1").text() == "Acme <Analytics>"
    assert page.find_all("analytics") == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "3rd report_shared event with plan = pro, within 7 days of the start",
        ),
        (
            "fr",
            "3e événement report_shared avec plan = pro, "
            "au plus 7 jours après le point de départ",
        ),
    ],
)
def test_report_describes_milestone(pages, lang, expected):
    definition = pages[lang].find("dd", data_milestone="shared_report")

    assert definition.text() == expected
    assert [code.text() for code in definition.find_all("code")] == [
        "report_shared",
        "plan",
    ]


@pytest.mark.parametrize(
    ("lang", "label", "count"),
    [
        ("en", "account without a start", "1,234"),
        ("fr", "compte sans point de départ", "1\u202f234"),
    ],
)
def test_report_lists_exclusions(pages, lang, label, count):
    cells = pages[lang].find("tr", data_reason="no_start").find_all("td")

    assert cells[1].text() == label
    assert cells[2].text() == count


@pytest.mark.parametrize("lang", LANGS)
def test_report_key_figures_match(pages, lang):
    summary = build_analysis().milestones[0].overall
    fmt = Formatter(lang)
    line = (
        pages[lang]
        .find("section", id="key-figures")
        .find("tr", data_milestone="shared_report")
    )
    shares = [cell.text() for cell in line.find_all("td", data_field="share")]

    assert shares == [fmt.percent(share.share) for share in summary.horizons]
    assert line.find("td", data_field="n_accounts").text() == "12"


@pytest.mark.parametrize("lang", LANGS)
def test_report_milestone_has_accessible_charts(pages, lang):
    section = pages[lang].find("section", data_milestone="shared_report")
    charts = section.find_all("svg")

    # The overall curve and one chart for the plan segment.
    assert len(charts) == 2
    assert all(chart.attrs.get("role") == "img" for chart in charts)
    assert all(chart.find_all("title") for chart in charts)


def test_report_hides_empty_sections():
    analysis = dataclasses.replace(build_analysis(), milestones=())
    page = parse_html(render_report(analysis, "en"))

    assert page.find_all("section", id="key-figures") == []
    assert page.find_all("section", **{"class": "section milestone"}) == []
    assert len(page.find_all("section", id="definitions")) == 1


def test_report_rendering_is_deterministic(analysis):
    assert render_report(analysis, "fr") == render_report(analysis, "fr")


def test_write_report_creates_folders(analysis, tmp_path):
    target = tmp_path / "out" / "nested" / "report.html"

    written = write_report(analysis, target, "fr")

    assert written == target.resolve()
    assert written.read_text(encoding="utf-8") == render_report(analysis, "fr")


def test_report_ids_are_unique():
    # Two milestones with the same curves must still get distinct chart ids.
    analysis = build_analysis(funnels=True, cohorts=True)
    twin = dataclasses.replace(analysis.milestones[0], id="twin", name="Twin")
    analysis = dataclasses.replace(analysis, milestones=(analysis.milestones[0], twin))
    page = parse_html(render_report(analysis, "en"))
    ids = [node.attrs["id"] for node in page.iter() if "id" in node.attrs]

    assert sorted(id_ for id_ in ids if ids.count(id_) > 1) == []


def test_report_aria_labels_point_to_ids():
    page = parse_html(render_report(build_analysis(funnels=True, cohorts=True), "fr"))
    ids = {node.attrs["id"] for node in page.iter() if "id" in node.attrs}
    references = [
        reference
        for node in page.iter()
        for reference in node.attrs.get("aria-labelledby", "").split()
    ]

    assert references != []
    assert [reference for reference in references if reference not in ids] == []


@pytest.mark.parametrize("lang", LANGS)
def test_report_tags_are_balanced(lang):
    html = render_report(build_analysis(funnels=True, cohorts=True), lang)

    assert unbalanced_tags(html) == []


def test_unbalanced_tags_helper_reports_problems():
    assert unbalanced_tags("<div><p>text</div>") == ["</div> closes <p>"]
    assert unbalanced_tags("<section><p>text</p>") == ["<section> not closed"]
