"""Milestone parsing: durations, the parsed shapes, and errors with their key paths."""

from __future__ import annotations

import pytest

from jalon.errors import ConfigError
from jalon.milestones.spec import (
    AllFilter,
    AnyFilter,
    Compare,
    EventCondition,
    Sequence,
    parse_duration,
)
from milestone_harness import make_config

DURATION_CASES = [
    ("90m", 90 * 60),
    ("36h", 36 * 3600),
    ("7d", 7 * 86400),
    ("2w", 14 * 86400),
    ("1.5d", 1.5 * 86400),
    # A bare number is a number of days.
    (3, 3 * 86400),
    (0.5, 43200),
]


@pytest.mark.parametrize("text, seconds", DURATION_CASES, ids=[str(c[0]) for c in DURATION_CASES])
def test_duration_in_seconds(text, seconds):
    assert parse_duration(text, "within") == seconds


@pytest.mark.parametrize("text", ["7x", "d7", "", -1, True, "-2d"])
def test_invalid_duration_raises(text):
    with pytest.raises(ConfigError) as raised:
        parse_duration(text, "milestones[0].within")

    assert raised.value.code == "config.bad_duration"
    assert raised.value.params["path"] == "milestones[0].within"


def test_where_shapes_parse_to_filters():
    where = {"plan": ["free", "pro"], "score": {"gt": 1}, "any": [{"plan": "team"}]}

    config = make_config([{"id": "m", "event": "x", "where": where}])

    condition = config.milestones[0].condition
    assert isinstance(condition, EventCondition)
    assert condition.where == AllFilter(
        (
            Compare("plan", "in", ("free", "pro")),
            Compare("score", "gt", 1),
            AnyFilter((Compare("plan", "eq", "team"),)),
        )
    )


def test_sequence_parses_steps_and_gap():
    milestone = {"id": "m", "sequence": [{"event": "a"}, {"event": "b"}], "gap": "2h"}

    condition = make_config([milestone]).milestones[0].condition

    assert isinstance(condition, Sequence)
    assert [step.events for step in condition.steps] == [("a",), ("b",)]
    assert condition.gap == 7200


# (milestone table, expected error code, expected key path)
ERROR_CASES = [
    ({"id": "m", "event": "x", "all_of": [{"event": "y"}]}, "config.mixed_condition", "milestones[0]"),
    ({"id": "m", "event": "x", "gap": "1d"}, "config.gap_without_sequence", "milestones[0]"),
    (
        {"id": "m", "sequence": [{"event": "a"}, {"event": "b", "count": 2}]},
        "config.bad_sequence_step",
        "milestones[0].sequence[1]",
    ),
    ({"id": "m", "sequence": [{"event": "a"}]}, "config.bad_condition_list", "milestones[0].sequence"),
    ({"id": "m", "evnt": "x"}, "config.unknown_key", "milestones[0].evnt"),
    (
        {"id": "m", "event": "x", "where": {"plan": {"in": "pro"}}},
        "config.bad_filter_value",
        "milestones[0].where.plan.in",
    ),
    (
        {"id": "m", "event": "x", "where": {"score": {"gt": "high"}}},
        "config.bad_filter_value",
        "milestones[0].where.score.gt",
    ),
    (
        {"id": "m", "event": "x", "where": {"plan": {"is_set": "yes"}}},
        "config.bad_filter_value",
        "milestones[0].where.plan.is_set",
    ),
    (
        {"id": "m", "event": "x", "where": {"score": {"gte": 1}}},
        "config.unknown_key",
        "milestones[0].where.score.gte",
    ),
    ({"id": "m"}, "config.empty_condition", "milestones[0]"),
    ({"id": "m", "event": "x", "count": 0}, "config.not_positive_int", "milestones[0].count"),
    (
        {"id": "m", "event": "x", "distinct": "plan", "active_days": 2},
        "config.mixed_condition",
        "milestones[0]",
    ),
    ({"id": "m", "event": "x", "count": 2, "active_days": 2}, "config.mixed_condition", "milestones[0]"),
    ({"id": "m", "event": "x", "start": "trial"}, "config.unknown_start", "milestones[0].start"),
    ({"id": "First", "event": "x"}, "config.bad_identifier", "milestones[0].id"),
    ({"id": "m", "event": "x", "tier": "basics"}, "config.bad_choice", "milestones[0].tier"),
    ({"id": "m", "event": []}, "config.bad_event", "milestones[0].event"),
]


@pytest.mark.parametrize(
    "milestone, code, path", ERROR_CASES, ids=[case[1] + ":" + case[2] for case in ERROR_CASES]
)
def test_invalid_milestone_raises(milestone, code, path):
    with pytest.raises(ConfigError) as raised:
        make_config([milestone])

    assert raised.value.code == code
    assert raised.value.params["path"] == path


def test_unknown_key_suggests_spelling():
    with pytest.raises(ConfigError) as raised:
        make_config([{"id": "m", "evnt": "x"}])

    assert raised.value.params["suggestion"] == "event"


def test_duplicate_milestone_id_raises():
    milestones = [{"id": "m", "event": "x"}, {"id": "m", "event": "y"}]

    with pytest.raises(ConfigError) as raised:
        make_config(milestones)

    assert raised.value.code == "config.duplicate_id"
    assert raised.value.params["path"] == "milestones[1].id"
