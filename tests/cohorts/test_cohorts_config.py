"""Parsing of the [cohorts] table."""

from __future__ import annotations

import pytest

from jalon.cohorts import CohortSpec, parse_cohorts
from jalon.errors import ConfigError


def test_parse_defaults():
    assert parse_cohorts({}, "cohorts") == CohortSpec(
        period="week", activity=None, periods=12, anchor="calendar"
    )


def test_parse_full_table():
    spec = parse_cohorts(
        {
            "period": "month",
            "activity": ["login", "post"],
            "periods": 6,
            "anchor": "start",
        },
        "cohorts",
    )

    assert spec == CohortSpec(
        period="month", activity=("login", "post"), periods=6, anchor="start"
    )


@pytest.mark.parametrize(
    ("raw", "code", "path"),
    [
        ({"period": "year"}, "config.bad_choice", "cohorts.period"),
        ({"anchor": "signup"}, "config.bad_choice", "cohorts.anchor"),
        ({"periods": 0}, "config.not_positive_int", "cohorts.periods"),
        ({"activity": []}, "config.bad_event", "cohorts.activity"),
        ({"perod": "week"}, "config.unknown_key", "cohorts.perod"),
    ],
)
def test_parse_errors_name_path(raw, code, path):
    with pytest.raises(ConfigError) as caught:
        parse_cohorts(raw, "cohorts")

    assert caught.value.code == code
    assert caught.value.params["path"] == path
