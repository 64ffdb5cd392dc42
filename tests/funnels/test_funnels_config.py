"""Parsing of [[funnels]] tables and property filters on steps."""

from __future__ import annotations

import pandas as pd
import pytest
from funnel_helpers import at

from jalon.errors import ConfigError
from jalon.funnels import FunnelSpec, StepSpec, compute_funnel, parse_funnel
from jalon.milestones.spec import Compare


def test_parse_full_table():
    spec = parse_funnel(
        {
            "id": "onboarding",
            "name": "Onboarding",
            "steps": [
                {"name": "Signed up", "event": "signed_up"},
                {"event": ["question_posted", "answer_posted"]},
                {
                    "name": "Scored",
                    "event": "answer_posted",
                    "where": {"score": {"gt": 0}},
                },
            ],
            "window": "36h",
            "order": "strict",
            "exclude": [{"event": "deleted"}],
            "level": "user",
            "start_anchor": "account_start",
        },
        "funnels[0]",
    )

    assert spec == FunnelSpec(
        id="onboarding",
        name="Onboarding",
        steps=(
            StepSpec("Signed up", "signed_up"),
            StepSpec(
                "question_posted | answer_posted", ("question_posted", "answer_posted")
            ),
            StepSpec("Scored", "answer_posted", Compare("score", "gt", 0)),
        ),
        # 36 hours * 3600 seconds
        window_seconds=129600.0,
        order="strict",
        exclusions=(StepSpec("deleted", "deleted"),),
        level="user",
        start_anchor="account_start",
    )


def test_parse_defaults_and_number_of_days():
    spec = parse_funnel(
        {"id": "f", "window": 2, "steps": [{"event": "a"}, {"event": "b"}]},
        "funnels[0]",
    )

    assert spec.window_seconds == 2 * 86400.0
    assert (spec.order, spec.level, spec.start_anchor) == (
        "ordered",
        "account",
        "first_step",
    )
    assert spec.name == "f"


@pytest.mark.parametrize(
    ("raw", "code", "path"),
    [
        (
            {"id": "f", "window": "1d", "steps": [{"event": "a"}]},
            "config.funnel_steps",
            "funnels[3].steps",
        ),
        (
            {"id": "f", "steps": [{"event": "a"}, {"event": "b"}]},
            "config.missing_key",
            "funnels[3].window",
        ),
        (
            {"id": "f", "window": "0d", "steps": [{"event": "a"}, {"event": "b"}]},
            "config.bad_duration",
            "funnels[3].window",
        ),
        (
            {
                "id": "f",
                "window": "1d",
                "order": "strikt",
                "steps": [{"event": "a"}, {"event": "b"}],
            },
            "config.bad_choice",
            "funnels[3].order",
        ),
        (
            {"id": "f", "window": "1d", "steps": [{"event": "a"}, {"evnt": "b"}]},
            "config.unknown_key",
            "funnels[3].steps[1].evnt",
        ),
        (
            {"id": "F-1", "window": "1d", "steps": [{"event": "a"}, {"event": "b"}]},
            "config.bad_id",
            "funnels[3].id",
        ),
        (
            {"id": "f", "window": "1d", "steps": [{"event": "a"}, {"event": 3}]},
            "config.bad_event",
            "funnels[3].steps[1].event",
        ),
        (
            {
                "id": "f",
                "window": "1d",
                "steps": [{"event": "a"}, {"event": "b"}],
                "exclude": {"event": "x"},
            },
            "config.bad_section",
            "funnels[3].exclude",
        ),
    ],
)
def test_parse_errors_name_path(raw, code, path):
    with pytest.raises(ConfigError) as caught:
        parse_funnel(raw, "funnels[3]")

    assert caught.value.code == code
    assert caught.value.params["path"] == path


def test_unknown_key_suggests_spelling():
    with pytest.raises(ConfigError) as caught:
        parse_funnel(
            {"id": "f", "windw": "1d", "steps": [{"event": "a"}, {"event": "b"}]},
            "funnels[0]",
        )

    assert caught.value.params["suggestion"] == "window"


def test_where_filter_on_step(store):
    con = store.con
    frame = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "b"],
            "user_id": ["u", "u", "v", "v"],
            "event": ["s1", "s2", "s1", "s2"],
            "ts": [at(0), at(1), at(0), at(1)],
            "_seq": [1, 2, 3, 4],
            "p_score": [None, 5.0, None, 0.0],
        }
    )
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    con.create_table("events", frame, overwrite=True)
    spec = parse_funnel(
        {
            "id": "f",
            "window": "1d",
            "steps": [{"event": "s1"}, {"event": "s2", "where": {"score": {"gt": 0}}}],
        },
        "funnels[0]",
    )
    result = compute_funnel(
        con.table("events"),
        spec,
        properties={"score": "p_score"},
        observation_end=at(48),
    )

    # a's s2 has score 5 > 0; b's has 0.
    assert result.steps.n_reached.tolist() == [2, 1]
