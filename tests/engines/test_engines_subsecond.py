"""Durations between timestamps with fractional seconds, on both engines.

Account s1 starts at 00:00:00.5 on day 0 and creates a project at
00:00:00.25 on day 1, so its time to the milestone is 86399.75 s.
"""

from __future__ import annotations

import datetime as dt

import pytest
from engines_harness import Row, at, make_config, run_engine

START = at(0) + dt.timedelta(microseconds=500_000)
EVENTS = [Row("s1", "project_created", at(1) + dt.timedelta(microseconds=250_000))]
ACCOUNTS = {"s1": {"signup_at": START}}
CONFIG = make_config(
    [{"id": "project", "name": "Project", "event": "project_created"}],
    end="2024-03-11",
)


def test_days_keep_fractional_seconds(engine_store):
    store, _ = engine_store(EVENTS, ACCOUNTS)
    output = run_engine(store, CONFIG)
    # (86400 - 0.25) s / 86400 s a day.
    expected = 86399.75 / 86400
    assert output.cell("s1", "m_project_days") == pytest.approx(expected, abs=1e-12)
