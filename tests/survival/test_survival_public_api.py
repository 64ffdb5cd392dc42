"""Public names and result fields that the report and CLI are written against."""

from __future__ import annotations

import dataclasses

from jalon import survival


def field_names(cls) -> list[str]:
    return [field.name for field in dataclasses.fields(cls)]


def test_all_names_exist():
    missing = [name for name in survival.__all__ if not hasattr(survival, name)]
    assert missing == []


def test_all_lists_public_api():
    expected = {
        "AalenJohansen",
        "HorizonShare",
        "KaplanMeier",
        "LogRankResult",
        "MilestoneSummary",
        "PairwiseResult",
        "Percentile",
        "RatioResult",
        "life_table",
        "life_table_expr",
        "logrank_test",
        "pairwise_logrank",
        "percentile_ratio",
        "summarize",
        "summarize_groups",
    }
    assert expected <= set(survival.__all__)


def test_milestone_summary_fields():
    assert field_names(survival.MilestoneSummary) == [
        "group",
        "n_accounts",
        "n_reached",
        "n_churned_first",
        "n_censored",
        "horizons",
        "km_horizons",
        "percentiles",
        "plateau",
        "naive_mean_days",
        "naive_median_days",
        "curve",
        "km_curve",
        "churn_curve",
        "caveats",
    ]


def test_horizon_share_fields():
    expected = ["days", "share", "lower", "upper", "method"]
    assert field_names(survival.HorizonShare) == expected


def test_percentile_fields():
    assert field_names(survival.Percentile) == ["q", "days", "lower", "upper"]


def test_pairwise_result_fields():
    expected = ["group_a", "group_b", "statistic", "p_value", "p_adjusted"]
    assert field_names(survival.PairwiseResult) == expected


def test_ratio_result_leading_fields():
    expected = ["q", "ratio", "lower", "upper", "method"]
    assert field_names(survival.RatioResult)[:5] == expected


def test_results_are_frozen():
    for cls in (survival.MilestoneSummary, survival.HorizonShare, survival.Percentile):
        assert cls.__dataclass_params__.frozen
