"""Funnel steps per person, hand-computed for each order and edge case.

Times are hours after 2024-01-01 00:00 UTC. Each test lists every person's
events and the expected step table.
"""

from __future__ import annotations

import math

import pytest
from funnel_helpers import at

from jalon.errors import FewAtRiskWarning
from jalon.funnels import compute_funnel, parse_funnel
from jalon.funnels.result import CAVEAT_FEW_AT_RISK

HOUR_DAYS = 1 / 24
LATE_END = at(24 * 20)


def funnel(steps, window="1d", **extra):
    raw = {"id": "onboarding", "window": window, "steps": [{"event": e} for e in steps]}
    raw.update(extra)
    return parse_funnel(raw, "funnels[0]")


def column(result, name):
    return result.steps[name].tolist()


def test_ordered_repeated_attempts_furthest_counts(store):
    events = store(
        [
            # a: attempt at 0h reaches s2 only (s3 at 40h is past its window);
            # the attempt at 30h reaches s3 at 40h (10h after its start).
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 1),
            ("a", "u1", "s1", 30),
            ("a", "u1", "s2", 31),
            ("a", "u1", "s3", 40),
            # b: s1 then s2 two hours later.
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 2),
            # c: s1 only.
            ("c", "u3", "s1", 0),
            # d: never does step 1, so it is not in the funnel.
            ("d", "u4", "s2", 0),
            ("d", "u4", "s3", 1),
        ]
    )
    result = compute_funnel(
        events, funnel(["s1", "s2", "s3"]), observation_end=LATE_END
    )

    assert result.n_persons == 3
    assert column(result, "n_reached") == [3, 2, 1]
    assert column(result, "n_dropped") == [0, 1, 1]
    # step 2: 2 of 3; step 3: 1 of 2, and 1 of 3 from the first step.
    assert column(result, "conversion_from_previous")[1:] == [2 / 3, 1 / 2]
    assert column(result, "conversion_from_first") == [1.0, 2 / 3, 1 / 3]
    assert column(result, "drop_off")[1:] == [1 / 3, 1 / 2]
    # Times from step 1 to 2: a 31h - 30h = 1h, b 2h - 0h = 2h; KM without
    # censoring: S(1h) = 1/2, so the median is 1h; S(2h) = 0, so p90 is 2h.
    assert result.steps.median_days[1] == pytest.approx(1 * HOUR_DAYS)
    assert result.steps.p90_days[1] == pytest.approx(2 * HOUR_DAYS)
    # Step 2 to 3 for a's attempt at 30h: 40h - 31h = 9h.
    assert result.steps.median_days[2] == pytest.approx(9 * HOUR_DAYS)


def test_ordered_friction_flags(store):
    events = store(
        [
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 1),
            ("a", "u1", "s1", 30),
            ("a", "u1", "s2", 31),
            ("a", "u1", "s3", 40),
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 2),
            ("c", "u3", "s1", 0),
        ]
    )
    result = compute_funnel(
        events, funnel(["s1", "s2", "s3"]), observation_end=LATE_END
    )

    # Drop-off 1/3 at step 2 and 1/2 at step 3; median 1h at step 2, 9h at step 3.
    assert column(result, "largest_drop_off") == [False, False, True]
    assert column(result, "slowest") == [False, False, True]
    assert result.friction.largest_drop_off_step.tolist() == [3]
    assert result.friction.slowest_step.tolist() == [3]


def test_strict_order_broken_by_other_event(store):
    events = store(
        [
            # a: "other" between s1 and s2 breaks the strict chain.
            ("a", "u1", "s1", 0),
            ("a", "u1", "other", 1),
            ("a", "u1", "s2", 2),
            # b: s1, s2, s3 back to back.
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 1),
            ("b", "u2", "s3", 2),
            # c: the first attempt is broken, the second (s1 at 2h) is not.
            ("c", "u3", "s1", 0),
            ("c", "u3", "other", 1),
            ("c", "u3", "s1", 2),
            ("c", "u3", "s2", 3),
        ]
    )
    strict = compute_funnel(
        events, funnel(["s1", "s2", "s3"], order="strict"), observation_end=LATE_END
    )
    ordered = compute_funnel(
        events, funnel(["s1", "s2", "s3"]), observation_end=LATE_END
    )

    # strict: a stops at 1, b reaches 3, c reaches 2 -> [3, 2, 1].
    assert column(strict, "n_reached") == [3, 2, 1]
    # ordered: a reaches 2 as well -> [3, 3, 1].
    assert column(ordered, "n_reached") == [3, 3, 1]
    # strict times from s1 to s2: b 1h, c 3h - 2h = 1h, so the median is 1h.
    assert strict.steps.median_days[1] == pytest.approx(HOUR_DAYS)


def test_any_order_counts_distinct_steps(store):
    events = store(
        [
            # a: c, a, b within 2 hours: three distinct steps.
            ("a", "u1", "c", 0),
            ("a", "u1", "a", 1),
            ("a", "u1", "b", 2),
            # b: b then c 30h later, outside the 24h window: one step.
            ("b", "u2", "b", 0),
            ("b", "u2", "c", 30),
            # c: a twice then b at 5h: two distinct steps.
            ("c", "u3", "a", 0),
            ("c", "u3", "a", 1),
            ("c", "u3", "b", 5),
        ]
    )
    result = compute_funnel(
        events, funnel(["a", "b", "c"], order="any"), observation_end=LATE_END
    )

    assert column(result, "n_reached") == [3, 2, 1]
    # Time from the 1st to the 2nd distinct step: a 1h, c 5h; median 1h.
    assert result.steps.median_days[1] == pytest.approx(HOUR_DAYS)
    assert result.steps.p90_days[1] == pytest.approx(5 * HOUR_DAYS)
    # From the 2nd to the 3rd: a 2h - 1h = 1h.
    assert result.steps.median_days[2] == pytest.approx(HOUR_DAYS)


def test_exclusion_event_inside_attempt(store):
    events = store(
        [
            # a: x between s1 and its furthest step s2 -> excluded.
            ("a", "u1", "s1", 0),
            ("a", "u1", "x", 1),
            ("a", "u1", "s2", 2),
            # b: x after its furthest step -> kept.
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 1),
            ("b", "u2", "x", 3),
            # c: x before step 1 -> kept.
            ("c", "u3", "x", 0),
            ("c", "u3", "s1", 1),
        ]
    )
    spec = funnel(["s1", "s2", "s3"], exclude=[{"event": "x"}])
    result = compute_funnel(events, spec, observation_end=LATE_END)

    assert result.n_persons == 2
    assert result.excluded == {"exclusion_event": 1}
    assert column(result, "n_reached") == [2, 1, 0]


def test_step_at_window_edge_counts(store):
    events = store(
        [
            # a: s2 exactly 24h after s1 -> inside the inclusive window.
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 24),
            # b: s2 one second after the window's end -> not counted.
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 24 + 1 / 3600),
        ]
    )
    result = compute_funnel(events, funnel(["s1", "s2"]), observation_end=LATE_END)

    assert column(result, "n_reached") == [2, 1]
    assert result.steps.median_days[1] == pytest.approx(1.0)


def test_ties_at_same_timestamp_use_seq(store):
    events = store(
        [
            # a: s1 and s2 at the same time, s1 first in file order -> counts.
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 0),
            # b: s2 first in file order, then s1 -> s2 is not after s1.
            ("b", "u2", "s2", 0),
            ("b", "u2", "s1", 0),
        ]
    )
    result = compute_funnel(events, funnel(["s1", "s2"]), observation_end=LATE_END)

    assert column(result, "n_reached") == [2, 1]
    assert result.steps.median_days[1] == pytest.approx(0.0)


def test_same_event_for_two_steps_needs_two_occurrences(store):
    events = store(
        [
            ("a", "u1", "e", 0),
            ("b", "u2", "e", 0),
            ("b", "u2", "e", 3),
        ]
    )
    result = compute_funnel(events, funnel(["e", "e"]), observation_end=LATE_END)

    # a did "e" once: step 1 only; b did it twice: 3h apart.
    assert column(result, "n_reached") == [2, 1]
    assert result.steps.median_days[1] == pytest.approx(3 * HOUR_DAYS)


def test_person_still_in_window_is_not_lost(store):
    events = store(
        [
            # a: converts 6h after step 1.
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 6),
            # b: window ends at 24h, before the observation end at 48h: dropped.
            ("b", "u2", "s1", 0),
            # c: step 1 at 36h, window ends at 60h, after the end: still in window.
            ("c", "u3", "s1", 36),
        ]
    )
    result = compute_funnel(events, funnel(["s1", "s2"]), observation_end=at(48))
    step = result.steps.iloc[1]

    assert step.n_reached == 1
    assert step.n_still_in_window == 1
    assert step.n_dropped == 1
    assert step.conversion_from_previous == pytest.approx(1 / 3)
    # 1 converted of 2 whose outcome is known.
    assert step.conversion_decided == pytest.approx(1 / 2)
    assert step.drop_off == pytest.approx(1 / 3)
    assert step.still_in_window == pytest.approx(1 / 3)
    # a: event at 6h; c: censored at 48h - 36h = 12h. At 6h, 2 at risk and
    # 1 event: S = 1/2, so the median is 6h. S never reaches 0.1: no p90.
    assert step.median_days == pytest.approx(6 * HOUR_DAYS)
    assert math.isnan(step.p90_days)
    assert step.n_censored == 1


def test_user_level_counts_each_user(store):
    events = store(
        [
            # account a has two users; u1 converts, u2 does not.
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 1),
            ("a", "u2", "s1", 0),
            # an event without a user is left out and counted.
            ("a", None, "s2", 2),
        ]
    )
    result = compute_funnel(
        events, funnel(["s1", "s2"], level="user"), observation_end=LATE_END
    )

    assert column(result, "n_reached") == [2, 1]
    assert result.excluded_events == {"missing_user_id": 1}


def test_few_at_risk_flagged(store):
    events = store(
        [
            ("a", "u1", "s1", 0),
            ("a", "u1", "s2", 1),
            ("b", "u2", "s1", 0),
            ("b", "u2", "s2", 2),
        ]
    )
    with pytest.warns(FewAtRiskWarning):
        result = compute_funnel(events, funnel(["s1", "s2"]), observation_end=LATE_END)

    # At the median (1h) only 2 people were still waiting, fewer than 10.
    assert column(result, "few_at_risk") == [False, True]
    assert CAVEAT_FEW_AT_RISK in result.caveats
