"""Simulation checks with no effect of value on churn planted.

The naive comparison of accounts that ever reached value against the others
finds a large effect anyway (immortal-time bias), while the landmark and
time-varying Cox models do not.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from churn_link_demo import SEGMENTS, load_demo
from lifelines import CoxPHFitter

from jalon.churn_link import landmark_comparison, time_varying_cox
from jalon.demo import DemoEffects

NO_EFFECT = 1.0


@pytest.fixture(scope="module")
def null_demo(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = load_demo(
            tmp_path_factory.mktemp("null"),
            DemoEffects(churn_hr_after_value=NO_EFFECT, aha_effect=NO_EFFECT),
        )
    yield demo
    demo.store.close()


def test_naive_comparison_shows_spurious_effect(null_demo):
    frame = null_demo.frame
    data = pd.DataFrame(
        {
            "time": frame["churn_days"],
            "event": frame["churn_status"],
            "ever_reached": (frame["m_basic_value_status"] == 1).astype(int),
        }
    )
    summary = CoxPHFitter().fit(data, "time", "event").summary.loc["ever_reached"]
    # The whole interval lies below 1 although value has no effect on churn.
    assert summary["exp(coef) upper 95%"] < NO_EFFECT


def test_cox_finds_no_effect(null_demo):
    result = time_varying_cox(null_demo.frame, "basic_value", SEGMENTS)
    assert result.reached.lower <= NO_EFFECT <= result.reached.upper


@pytest.mark.parametrize("day", [7.0, 14.0, 30.0])
def test_landmark_finds_no_effect(null_demo, day):
    result = landmark_comparison(null_demo.frame, "basic_value", day, 90.0, SEGMENTS)
    estimate = result.adjusted_hazard_ratio
    assert estimate.lower <= NO_EFFECT <= estimate.upper
