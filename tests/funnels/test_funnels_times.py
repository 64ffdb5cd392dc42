"""Funnel times against lifelines, segments, account starts and left-out events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from funnel_helpers import BASE, at
from lifelines import KaplanMeierFitter

from jalon.funnels import compute_funnel, parse_funnel

SEED = 20240101
N_PERSONS = 60
SPAN_HOURS = 30 * 24
END_HOURS = 30 * 24
SECONDS_PER_DAY = 86400


def funnel(steps, window="1d", **extra):
    raw = {"id": "onboarding", "window": window, "steps": [{"event": e} for e in steps]}
    raw.update(extra)
    return parse_funnel(raw, "funnels[0]")


def random_persons():
    """Return event rows and the expected (durations, observed) of step 2.

    Step 1 falls anywhere in 30 days and step 2 follows after an exponential
    delay (mean 3 days), rounded to whole seconds. The window (60 days) is
    longer than the observation, so every person without step 2 by the end
    is still in the window and censored at the end.
    """
    rng = np.random.default_rng(SEED)
    first = np.round(rng.uniform(0, SPAN_HOURS * 3600, N_PERSONS))
    delay = np.round(rng.exponential(3 * SECONDS_PER_DAY, N_PERSONS)) + 1
    end_seconds = END_HOURS * 3600
    rows, durations, observed = [], [], []
    for index in range(N_PERSONS):
        person = f"p{index:02d}"
        rows.append((person, "u", "s1", first[index] / 3600))
        second = first[index] + delay[index]
        rows.append((person, "u", "s2", second / 3600))
        if second <= end_seconds:
            durations.append(delay[index] / SECONDS_PER_DAY)
            observed.append(1)
        else:
            durations.append((end_seconds - first[index]) / SECONDS_PER_DAY)
            observed.append(0)
    return rows, np.array(durations), np.array(observed)


def test_times_match_lifelines_with_censoring(store):
    rows, durations, observed = random_persons()
    events = store(rows)
    result = compute_funnel(
        events, funnel(["s1", "s2"], window="60d"), observation_end=at(END_HOURS)
    )
    fitter = KaplanMeierFitter().fit(durations, observed)
    step = result.steps.iloc[1]

    assert observed.sum() < N_PERSONS, "the draw must censor someone"
    assert step.n_censored == N_PERSONS - observed.sum()
    assert step.median_days == pytest.approx(fitter.median_survival_time_)
    # lifelines' percentile(p) is the time where S falls to p: 90% converted.
    assert step.p90_days == pytest.approx(fitter.percentile(0.1))


def test_events_after_end_are_counted(store):
    rows, _, observed = random_persons()
    events = store(rows)
    result = compute_funnel(
        events, funnel(["s1", "s2"], window="60d"), observation_end=at(END_HOURS)
    )

    # Every s2 after the end is a left-out step event.
    assert result.excluded_events == {"after_end": int(N_PERSONS - observed.sum())}


def accounts_frame(rows):
    frame = pd.DataFrame(rows, columns=["account_id", "start_hours", "plan"])
    frame["start_at"] = [BASE + dt.timedelta(hours=h) for h in frame.pop("start_hours")]
    frame["start_at"] = frame["start_at"].astype("datetime64[us]")
    frame["end_at"] = pd.Timestamp(at(24 * 20)).as_unit("us")
    return frame


def test_segments_and_left_out_events(store):
    events = store(
        [
            # pro: a converts in 1h, b in 3h.
            ("a", "u", "s1", 1),
            ("a", "u", "s2", 2),
            ("b", "u", "s1", 1),
            ("b", "u", "s2", 4),
            # free: c does not convert; d's s1 is before its start and is
            # left out, so d is not in the funnel.
            ("c", "u", "s1", 1),
            ("d", "u", "s1", 0),
            # e is not in the accounts table.
            ("e", "u", "s1", 1),
        ]
    )
    accounts = store.accounts(
        accounts_frame(
            [("a", 0, "pro"), ("b", 0, "pro"), ("c", 0, "free"), ("d", 0.5, "free")]
        )
    )
    result = compute_funnel(
        events, funnel(["s1", "s2"]), accounts=accounts, segments=["plan"]
    )
    segments = result.by_segment

    assert result.n_persons == 3
    assert result.excluded_events == {"before_start": 1, "not_in_accounts": 1}
    assert segments.segment_value.tolist() == ["free", "free", "pro", "pro"]
    assert segments.n_reached.tolist() == [1, 0, 2, 2]
    # pro: times 1h and 3h, S(1h) = 1/2 -> median 1h.
    assert segments.median_days.iloc[3] == pytest.approx(1 / 24)
    # free drops 1 of 1 at step 2; pro drops none.
    assert result.friction.segment_value.tolist() == ["all", "free", "pro"]
    assert result.friction.largest_drop_off_step.tolist()[:2] == [2, 2]
    assert pd.isna(result.friction.largest_drop_off_step.iloc[2])


def test_account_start_anchor(store):
    events = store(
        [
            # a starts at 0h: s1 at 10h and s2 at 20h, both within 1 day.
            ("a", "u", "s1", 10),
            ("a", "u", "s2", 20),
            # b starts at 0h: s1 at 10h, s2 at 30h, past start + 24h.
            ("b", "u", "s1", 10),
            ("b", "u", "s2", 30),
            # c starts at 0h: s1 at 25h is already past the window.
            ("c", "u", "s1", 25),
        ]
    )
    accounts = store.accounts(
        accounts_frame([("a", 0, "pro"), ("b", 0, "pro"), ("c", 0, "pro")])
    )
    spec = funnel(["s1", "s2"], start_anchor="account_start")
    result = compute_funnel(events, spec, accounts=accounts)

    assert result.steps.n_reached.tolist() == [2, 1]
    assert result.steps.median_days.iloc[1] == pytest.approx(10 / 24)
