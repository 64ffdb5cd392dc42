"""Furthest steps from the engine against a direct per-person search in Python.

The direct search tries every attempt of every person and walks it step by
step; it shares no code with the window-function implementation.
"""

from __future__ import annotations

import numpy as np
import pytest
from funnel_helpers import at

from jalon.funnels import compute_funnel, parse_funnel

SEED = 7
N_PERSONS = 40
EVENTS_PER_PERSON = 9
NAMES = ["a", "b", "c", "z"]
STEPS = ["a", "b", "c"]
WINDOW_HOURS = 6
WINDOW_SECONDS = WINDOW_HOURS * 3600
END_HOURS = 24 * 10


def random_rows(seed=SEED):
    """Return rows with times on a coarse grid, so ties in ts are frequent."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(N_PERSONS):
        hours = np.sort(rng.integers(0, 12, EVENTS_PER_PERSON))
        names = rng.choice(NAMES, EVENTS_PER_PERSON)
        # Shuffle file order within the person so _seq does not follow ts.
        for index in rng.permutation(EVENTS_PER_PERSON):
            rows.append((f"p{person:02d}", "u", str(names[index]), float(hours[index])))
    return rows


def ordered_events(rows):
    """Group rows by person, each sorted by (ts, _seq) with _seq = row order + 1."""
    persons = {}
    for seq, (person, _, name, hours) in enumerate(rows, start=1):
        persons.setdefault(person, []).append((hours * 3600, seq, name))
    return {person: sorted(events) for person, events in persons.items()}


def walk_attempt(events, start, strict):
    """Return the positions of the steps one attempt reaches, taking each earliest."""
    start_time = events[start][0]
    positions = [start]
    while len(positions) < len(STEPS):
        following = range(positions[-1] + 1, len(events))
        if strict:
            following = following[:1]
        matches = [
            index
            for index in following
            if events[index][2] == STEPS[len(positions)]
            and events[index][0] - start_time <= WINDOW_SECONDS
        ]
        if not matches:
            break
        positions.append(matches[0])
    return positions


def chosen_attempt(events, strict):
    """Return the step positions of the attempt that goes furthest.

    Among attempts that go equally far, the one that reaches that step first
    wins, then the one that started last.
    """
    attempts = [
        walk_attempt(events, start, strict)
        for start, (_, _, name) in enumerate(events)
        if name == STEPS[0]
    ]
    if not attempts:
        return []
    return max(attempts, key=lambda steps: (len(steps), -steps[-1], steps[0]))


def furthest_ordered(events, strict):
    return len(chosen_attempt(events, strict))


def furthest_any(events):
    best = 0
    for start, (start_time, _, name) in enumerate(events):
        if name not in STEPS:
            continue
        done = {
            other
            for time, _, other in events[start:]
            if other in STEPS and time - start_time <= WINDOW_SECONDS
        }
        best = max(best, len(done))
    return best


def expected_reached(rows, order):
    counts = [0] * len(STEPS)
    for events in ordered_events(rows).values():
        if order == "any":
            furthest = furthest_any(events)
        else:
            furthest = furthest_ordered(events, strict=order == "strict")
        for step in range(furthest):
            counts[step] += 1
    return counts


@pytest.mark.parametrize("seed", [SEED, SEED + 1, SEED + 2])
@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
def test_reached_matches_direct_search(store, order, seed):
    rows = random_rows(seed)
    events = store(rows)
    spec = parse_funnel(
        {
            "id": "f",
            "window": f"{WINDOW_HOURS}h",
            "order": order,
            "steps": [{"event": name} for name in STEPS],
        },
        "funnels[0]",
    )
    result = compute_funnel(events, spec, observation_end=at(END_HOURS))
    expected = expected_reached(rows, order)

    assert expected[-1] > 0, "the draw must reach the last step"
    assert result.steps.n_reached.tolist() == expected


@pytest.mark.parametrize("order", ["ordered", "strict"])
def test_step_times_match_direct_search(store, order):
    rows = random_rows()
    events = store(rows)
    spec = parse_funnel(
        {
            "id": "f",
            "window": f"{WINDOW_HOURS}h",
            "order": order,
            "steps": [{"event": name} for name in STEPS],
        },
        "funnels[0]",
    )
    result = compute_funnel(events, spec, observation_end=at(END_HOURS))
    durations = {2: [], 3: []}
    for person_events in ordered_events(rows).values():
        positions = chosen_attempt(person_events, strict=order == "strict")
        times = [person_events[position][0] / 86400 for position in positions]
        for step in range(2, len(times) + 1):
            durations[step].append(times[step - 1] - times[step - 2])

    # Every window has closed, so nobody is censored and the Kaplan-Meier
    # percentile is the smallest duration whose empirical CDF reaches q.
    for step in (2, 3):
        row = result.steps.iloc[step - 1]
        for column, share in (("median_days", 0.5), ("p90_days", 0.9)):
            expected = np.quantile(durations[step], share, method="inverted_cdf")
            assert row[column] == pytest.approx(expected), (step, column)


def test_exclusions_match_direct_search(store):
    # Strict funnels need no check: an exclusion event between two steps
    # already breaks the strict chain.
    rows = random_rows()
    events = store(rows)
    spec = parse_funnel(
        {
            "id": "f",
            "window": f"{WINDOW_HOURS}h",
            "steps": [{"event": name} for name in STEPS],
            "exclude": [{"event": "z"}],
        },
        "funnels[0]",
    )
    result = compute_funnel(events, spec, observation_end=at(END_HOURS))
    counts, excluded = [0] * len(STEPS), 0
    for person_events in ordered_events(rows).values():
        positions = chosen_attempt(person_events, strict=False)
        if not positions:
            continue
        inside = person_events[positions[0] + 1 : positions[-1]]
        if any(name == "z" for _, _, name in inside):
            excluded += 1
            continue
        for step in range(len(positions)):
            counts[step] += 1

    assert excluded > 0, "the draw must exclude someone"
    assert result.excluded == {"exclusion_event": excluded}
    assert result.steps.n_reached.tolist() == counts
