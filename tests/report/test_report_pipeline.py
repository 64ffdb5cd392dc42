"""The report of a whole pipeline run on the synthetic demo company.

The demo generator writes events, accounts, billing files and a jalon.toml.
The test loads them into a DuckDB store in a temporary folder and runs the
analysis and the revenue analysis. It then checks that the report shows
their figures formatted per locale.
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest
from report_support import parse_html

from jalon.analysis import run_analysis
from jalon.config import load_config
from jalon.demo import generate_demo
from jalon.errors import FewAtRiskWarning
from jalon.i18n import Formatter
from jalon.ingest import load_project
from jalon.report import render_report
from jalon.revenue.result import run_revenue
from jalon.store import Store

pytestmark = pytest.mark.slow

DEMO_SEED = 11
DEMO_ACCOUNTS = 80


@pytest.fixture(scope="module")
def demo_analysis(tmp_path_factory):
    """Return the analysis of a small demo company, with its revenue result."""
    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder, seed=DEMO_SEED, n_accounts=DEMO_ACCOUNTS)
    config = load_config(folder / "jalon.toml")
    with Store.open(config.store_path) as store, warnings.catch_warnings():
        # Segments of an 80-account company are small by design; the
        # summaries store the few_at_risk caveat.
        warnings.simplefilter("ignore", FewAtRiskWarning)
        ingest = load_project(
            store,
            config.events,
            config.accounts,
            base_dir=config.base_dir,
            timezone=config.timezone,
        )
        analysis = run_analysis(config, store, synthetic=True, ingest=ingest)
    revenue = run_revenue(config.revenue, synthetic=True)
    return dataclasses.replace(analysis, revenue=revenue)


@pytest.fixture(scope="module")
def demo_pages(demo_analysis):
    return {
        lang: parse_html(render_report(demo_analysis, lang)) for lang in ("en", "fr")
    }


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pipeline_report_has_every_milestone(demo_analysis, demo_pages, lang):
    sections = demo_pages[lang].find_all("section", **{"class": "section milestone"})

    assert [node.attrs["data-milestone"] for node in sections] == [
        result.id for result in demo_analysis.milestones
    ]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pipeline_report_key_figures(demo_analysis, demo_pages, lang):
    fmt = Formatter(lang)
    for result in demo_analysis.milestones:
        row = demo_pages[lang].find("tr", data_milestone=result.id)
        shares = [cell.text() for cell in row.find_all("td", data_field="share")]

        assert shares == [fmt.percent(share.share) for share in result.overall.horizons]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pipeline_report_lists_files_read(demo_analysis, demo_pages, lang):
    table = demo_pages[lang].find("table", **{"class": "figures files"})
    paths = [cell.text() for cell in table.find_all("td", **{"class": "path"})]

    assert paths == [str(item.path) for item in demo_analysis.ingest.files]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pipeline_report_revenue_mrr(demo_analysis, demo_pages, lang):
    revenue = demo_analysis.revenue
    expected = Formatter(lang).currency(
        revenue.money(revenue.headline()["mrr_minor"]), revenue.base_currency
    )
    section = demo_pages[lang].find("section", id="revenue")

    assert section.find("td", data_field="mrr").text() == expected


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pipeline_report_has_no_external_url(demo_pages, lang):
    links = [
        node.attrs[name]
        for node in demo_pages[lang].iter()
        for name in ("src", "href")
        if name in node.attrs
    ]

    assert [link for link in links if "http" in link or link.startswith("//")] == []
