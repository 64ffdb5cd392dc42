"""Simulation checks: the methods recover effects planted in the demo company.

The demo plants a churn hazard ratio of 0.5 once basic value is reached, a
time-varying effect. Enterprise accounts take 1.5 times as long to reach
value. An aha behaviour (at least 2 ``teammate_invited`` in the first 3 days)
cuts the churn hazard to 0.35 from day 3.
"""

from __future__ import annotations

import warnings

import ibis
import pytest
from churn_link_demo import SEGMENTS, load_demo

from jalon.churn_link import (
    compare_table,
    discover_aha,
    landmark_comparison,
    parse_settings,
    time_varying_cox,
)
from jalon.demo import DemoEffects
from jalon.survival import life_table

PLANTED_HR = 0.5
PLANTED_RATIO = 1.5


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = load_demo(
            tmp_path_factory.mktemp("planted"),
            DemoEffects(
                churn_hr_after_value=PLANTED_HR, segment_ttv_ratio=PLANTED_RATIO
            ),
        )
    yield demo
    demo.store.close()


def test_cox_recovers_planted_hazard_ratio(planted):
    result = time_varying_cox(planted.frame, "basic_value", SEGMENTS)
    assert result.reached.lower <= PLANTED_HR <= result.reached.upper


@pytest.mark.parametrize("day", [7.0, 14.0])
def test_landmark_recovers_planted_hazard_ratio(planted, day):
    result = landmark_comparison(planted.frame, "basic_value", day, 90.0, SEGMENTS)
    estimate = result.adjusted_hazard_ratio
    assert estimate.lower <= PLANTED_HR <= estimate.upper


def test_landmark_unadjusted_shows_less_churn(planted):
    # The plain landmark ratio is diluted (later reachers sit in the "not
    # reached" group), but still below 1.
    result = landmark_comparison(planted.frame, "basic_value", 7.0, 90.0)
    assert result.hazard_ratio.upper < 1.0


def test_segment_ratio_covers_planted_ratio(planted):
    # The per-account frame goes back through Ibis, as the analysis does.
    table = life_table(
        ibis.memtable(planted.frame),
        "m_basic_value_days",
        "m_basic_value_status",
        "plan",
    )
    comparison = compare_table(table, "basic_value", "plan", (0.5,), 300, 1)
    enterprise = next(item for item in comparison.ratios if item.group == "enterprise")
    truth = planted.truth
    expected = truth.quantile(
        "basic_value", "p50", "plan", "enterprise", "empirical"
    ) / (truth.quantile("basic_value", "p50", "plan", "starter", "empirical"))
    assert enterprise.reference == "starter"
    assert enterprise.ratio.lower <= expected <= enterprise.ratio.upper


def test_discovery_ranks_planted_behaviour_first(planted):
    settings = parse_settings({"aha_window": 3, "aha_horizon": 90, "seed": 3})
    result = discover_aha(
        planted.frame,
        planted.events,
        settings,
        planted.properties,
        planted.store.execute,
        ("subscription_cancelled",),
    )
    best = result.candidates[0]
    assert (best.kind, best.name, best.min_count) == ("event", "teammate_invited", 2)
    assert best.held_out.lift > 1.0
