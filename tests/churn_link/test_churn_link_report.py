"""The churn link analysis end to end on a small demo, and its report partial in both languages."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from jalon.churn_link import Finding
from jalon.demo import generate_demo
from jalon.i18n import Formatter, translations
from jalon.report.churn_link_view import churn_link_view, findings_text
from jalon.report.render import environment

N_ACCOUNTS = 600
ANALYSIS = {
    "landmarks": [7, 30],
    "n_boot": 100,
    "value_by_segment": {
        "column": "plan",
        "values": {"starter": 15, "team": 29, "enterprise": 59},
    },
}


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    """run_analysis on a small demo; it runs the churn link since churn is set."""
    from jalon.analysis import run_analysis
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    folder = tmp_path_factory.mktemp("report_demo")
    generate_demo(folder, seed=8, n_accounts=N_ACCOUNTS)
    config = dataclasses.replace(load_config(folder / "jalon.toml"), analysis=ANALYSIS)
    with Store.open(config.store_path) as store, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_project(
            store,
            config.events,
            config.accounts,
            base_dir=config.base_dir,
            timezone=config.timezone,
        )
        return run_analysis(config, store)


def test_landmarks_cover_every_milestone_and_day(analysis):
    result = analysis.churn_link
    pairs = {(item.milestone, item.landmark_days) for item in result.landmarks}
    assert pairs == {
        (milestone.id, day) for milestone in analysis.milestones for day in (7.0, 30.0)
    }


def test_findings_ranked_by_effect(analysis):
    ranked = [
        item for item in analysis.churn_link.findings if item.code != "ltv_sooner"
    ]
    effects = [item.effect for item in ranked]
    assert effects == sorted(effects, reverse=True)


def test_ltv_uses_the_plan_prices(analysis):
    ltv = analysis.churn_link.ltv
    assert ltv.value_source == "segment"
    assert ltv.n_accounts == sum(bucket.n_accounts for bucket in ltv.buckets)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_partial_renders(analysis, lang):
    view = churn_link_view(analysis, lang)
    html = (
        environment(lang)
        .get_template("_churn_link.html.j2")
        .render(
            churn_link=analysis.churn_link, fmt=Formatter(lang), churn_link_view=view
        )
    )
    heading = translations(lang).gettext("Time to value and churn")
    assert f"<h2>{heading}</h2>" in html
    assert html.count('data-table="landmarks"') == 1
    assert html.count("<svg") == len(view.landmark_charts) + len(view.retention_charts)
    for sentence in view.findings:
        assert sentence.replace("'", "&#39;").replace('"', "&#34;") in html


def test_partial_renders_from_result_alone(analysis):
    html = (
        environment("en")
        .get_template("_churn_link.html.j2")
        .render(churn_link=analysis.churn_link, fmt=Formatter("en"))
    )
    assert 'data-table="cox"' in html
    assert "Main findings" not in html


def test_competing_rows_come_from_summaries(analysis):
    view = churn_link_view(analysis, "en")
    first = analysis.milestones[0].overall
    rows = [row for row in view.competing if row.milestone == analysis.milestones[0].id]
    assert [row.aalen_johansen for row in rows] == [
        Formatter("en").percent(share.share) for share in first.horizons
    ]


def test_french_finding_sentence():
    # 1 of 4 accounts churned first: 25 %.
    finding = Finding(
        "churned_before_value",
        {"milestone": "a", "share": 0.25, "n_churned": 1, "n_accounts": 4},
        0.29,
    )
    result = type("Result", (), {"findings": (finding,)})()
    fmt = Formatter("fr")
    text = findings_text(
        result, translations("fr").gettext, fmt, {"a": "Premier rapport"}
    )
    expected = (
        f"{fmt.percent(0.25)} des comptes (1 sur 4) sont partis avant d'atteindre "
        "« Premier rapport »."
    )
    assert text == [expected]
