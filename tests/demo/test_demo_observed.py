"""Funnel counts recomputed from demo events, on hand-made event lists."""

from __future__ import annotations

import pandas as pd

from jalon.demo.observed import behaviour_scores, funnel_reached, monthly_cohorts

DAY = 86_400
STEPS = ("signed_up", "project_created", "report_shared")


def _events(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["account_id", "event", "timestamp"])
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def test_window_end_is_inclusive() -> None:
    # a: report exactly 2 days after sign-up, inside a 2-day window.
    # b: report 2 days and 1 second after sign-up, outside it.
    events = _events(
        [
            ("a", "signed_up", 0),
            ("a", "project_created", 100),
            ("a", "report_shared", 2 * DAY),
            ("b", "signed_up", 50),
            ("b", "project_created", 60),
            ("b", "report_shared", 50 + 2 * DAY + 1),
        ]
    )
    assert funnel_reached(events, STEPS, window_days=2) == [2, 2, 1]


def test_step_must_follow_previous_in_row_order() -> None:
    # a: its first project shares the sign-up second but comes before it in
    # row order, so it does not count. The second project and the report do.
    # b: its only report comes before its project, so it stops at step 2.
    # c: its project shares the sign-up second and comes after it in row
    # order, so it counts.
    events = _events(
        [
            ("a", "project_created", 1000),
            ("a", "signed_up", 1000),
            ("a", "project_created", 2000),
            ("a", "report_shared", 3000),
            ("b", "signed_up", 0),
            ("b", "report_shared", 10),
            ("b", "project_created", 20),
            ("c", "signed_up", 500),
            ("c", "project_created", 500),
        ]
    )
    assert funnel_reached(events, STEPS, window_days=30) == [3, 3, 1]


def test_account_without_entry_step_ignored() -> None:
    events = _events(
        [
            ("a", "project_created", 10),
            ("a", "report_shared", 20),
            ("b", "signed_up", 0),
        ]
    )
    assert funnel_reached(events, STEPS, window_days=30) == [1, 0, 0]


def _epoch(moment: str) -> int:
    return int(pd.Timestamp(moment, tz="UTC").timestamp())


def test_monthly_cohorts_by_calendar_month() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "signup_at": pd.to_datetime(
                ["2025-01-31 23:59:00", "2025-01-01 00:00:00", "2025-03-15 12:00:00"],
                utc=True,
            ),
        }
    )
    # a: active in January (period 0) and twice on 1 February (period 1,
    # counted once), then in April (period 3, beyond 3 periods: ignored).
    # b: active in March (period 2) and churned in March.
    # c: churned in its own month (period 0), never active.
    events = _events(
        [
            ("a", "login", _epoch("2025-01-31 23:59:30")),
            ("a", "login", _epoch("2025-02-01 00:00:00")),
            ("a", "login", _epoch("2025-02-01 08:00:00")),
            ("a", "login", _epoch("2025-04-02 08:00:00")),
            ("b", "login", _epoch("2025-03-03 08:00:00")),
            ("b", "quit", _epoch("2025-03-20 08:00:00")),
            ("c", "quit", _epoch("2025-03-16 08:00:00")),
        ]
    )
    counts = monthly_cohorts(events, accounts, ("login",), 3, churn_event="quit")
    assert counts == {
        "2025-01": {"accounts": 2, "active": [1, 1, 1], "churned": [0, 0, 1]},
        "2025-03": {"accounts": 1, "active": [0, 0, 0], "churned": [1, 0, 0]},
    }


def test_behaviour_scores_by_hand() -> None:
    # Four accounts signed up on 2025-01-01, observed far beyond 10 days.
    # a, b invite on day 1 and stay; c invites on day 5 (outside the 3-day
    # window) and churns on day 6; d never invites and churns on day 8.
    # "invite >= 1 in 3 days" vs retained: did = [1, 1, 0, 0], retained =
    # [1, 1, 0, 0], so phi = 1, reach = 0.5, precision = 1, lift = 1 / 0.5.
    start = _epoch("2025-01-01 00:00:00")
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "signup_at": pd.to_datetime(["2025-01-01"] * 4, utc=True),
        }
    )
    events = _events(
        [
            ("a", "invite", start + DAY),
            ("b", "invite", start + DAY),
            ("c", "invite", start + 5 * DAY),
            ("c", "quit", start + 6 * DAY),
            ("d", "quit", start + 8 * DAY),
        ]
    )
    scores = behaviour_scores(
        events, accounts, window_days=3, horizon_days=10, churn_event="quit"
    )
    assert [(s["event"], s["min_count"]) for s in scores] == [("invite", 1)]
    assert scores[0]["phi"] == 1.0
    assert scores[0]["reach"] == 0.5
    assert scores[0]["precision"] == 1.0
    assert scores[0]["lift"] == 2.0
