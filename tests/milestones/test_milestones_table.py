"""Hand-computed per-account rows: churn rules, named starts, the observation
end and exclusion counts.

Accounts sign up at ``BASE`` (2024-03-01 00:00 UTC) unless a test sets
another; ``at(d, h)`` is ``d`` days and ``h`` hours after ``BASE``.
"""

from __future__ import annotations

import pytest

from jalon.errors import AnalysisError
from milestone_harness import BASE, Event, at

SIGNUP_AT_BASE = {"signup_at": BASE}
CENSORED, REACHED, CHURNED = 0, 1, 2
REPORT = {"id": "report", "event": "report"}


def test_churn_event_before_and_at_milestone(run_milestones):
    events = [
        Event("a", "cancel", at(2)),
        Event("a", "report", at(3)),
        # b churns and reaches at the same instant, churn listed first.
        Event("b", "cancel", at(2)),
        Event("b", "report", at(2)),
        Event("c", "report", at(1)),
        Event("c", "cancel", at(4)),
        Event("d", "report", at(1)),
        # e cancels before its signup at(1): that event is not used.
        Event("e", "cancel", at(0)),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcd"}
    accounts["e"] = {"signup_at": at(1)}

    result = run_milestones([REPORT], events, accounts, churn={"event": "cancel"})

    # a: churned at 2 d, the report at 3 d comes too late.
    assert result.value("a", "m_report_status") == CHURNED
    assert result.value("a", "m_report_at") is None
    assert result.value("a", "m_report_days") == 2.0
    assert result.value("a", "churn_at") == at(2)
    assert result.value("a", "churn_days") == 2.0
    assert result.value("a", "churn_status") == 1
    # b: reached at the instant of churn counts as reached.
    assert result.value("b", "m_report_status") == REACHED
    assert result.value("b", "m_report_days") == 2.0
    # c: reached at 1 d, churned later at 4 d.
    assert result.value("c", "m_report_status") == REACHED
    assert result.value("c", "m_report_days") == 1.0
    assert result.value("c", "churn_days") == 4.0
    # d: never churned; the end is the latest event, at(4): 4 days.
    assert result.value("d", "churn_at") is None
    assert result.value("d", "churn_status") == 0
    assert result.value("d", "churn_days") == 4.0
    # e: censored from its signup at(1) to the end at(4): 3 days.
    assert result.value("e", "churn_status") == 0
    assert result.value("e", "churn_days") == 3.0
    assert result.value("e", "m_report_status") == CENSORED
    assert result.value("e", "m_report_days") == 3.0


def test_churn_event_with_filter(run_milestones):
    events = [
        Event("a", "plan_changed", at(1), plan="team"),
        Event("a", "plan_changed", at(2), plan="none"),
        Event("b", "plan_changed", at(3), plan="pro"),
    ]
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE}
    churn = {"event": "plan_changed", "where": {"plan": "none"}}

    result = run_milestones([REPORT], events, accounts, churn=churn)

    assert result.value("a", "churn_at") == at(2)
    assert result.value("b", "churn_status") == 0


def test_churn_after_inactivity_from_last_event(run_milestones):
    # End at(20); churn needs 7 idle days, so the last activity must be at
    # or before at(13).
    events = [
        Event("a", "report", at(1)),
        Event("a", "x", at(13)),
        Event("b", "x", at(1)),
        Event("b", "x", at(13, seconds=1)),
        Event("d", "report", at(2)),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcd"}

    result = run_milestones(
        [REPORT], events, accounts, churn={"inactivity_days": 7}, end="2024-03-21"
    )

    # a: idle from at(13) to at(20), exactly 7 days: churned at its last
    # activity, after reaching the milestone at 1 d.
    assert result.value("a", "churn_status") == 1
    assert result.value("a", "churn_at") == at(13)
    assert result.value("a", "churn_days") == 13.0
    assert result.value("a", "m_report_status") == REACHED
    # b: idle 6 d 23:59:59, not churned; censored at 20 days.
    assert result.value("b", "churn_status") == 0
    assert result.value("b", "churn_days") == 20.0
    # c: no events, so its last activity is its start: idle 20 days.
    assert result.value("c", "churn_at") == BASE
    assert result.value("c", "m_report_status") == CHURNED
    assert result.value("c", "m_report_days") == 0.0
    # d: the report is the last activity, reached at the churn instant.
    assert result.value("d", "churn_at") == at(2)
    assert result.value("d", "m_report_status") == REACHED


def test_churn_after_inactivity_from_column(run_milestones):
    events = [
        Event("a", "x", at(1)),
        Event("b", "x", at(1)),
        # e keeps sending events, but the last_seen column is the rule.
        Event("e", "report", at(8)),
    ]
    accounts = {
        "a": {"signup_at": BASE, "last_seen_at": at(13)},
        "b": {"signup_at": BASE, "last_seen_at": at(13, seconds=1)},
        "e": {"signup_at": BASE, "last_seen_at": at(5)},
    }
    churn = {"inactivity_days": 7, "last_seen_column": "last_seen_at"}

    result = run_milestones([REPORT], events, accounts, churn=churn, end="2024-03-21")

    # a: last seen at(13), 7 days before the end at(20): churned.
    assert result.value("a", "churn_at") == at(13)
    # b: 1 second short of 7 idle days.
    assert result.value("b", "churn_status") == 0
    # e: churned at(5); the report at(8) comes after churn.
    assert result.value("e", "churn_at") == at(5)
    assert result.value("e", "m_report_status") == CHURNED
    assert result.value("e", "m_report_days") == 5.0


def test_missing_last_seen_uses_last_event(run_milestones):
    # f has no last_seen value: its last event at(15) stands in for it.
    # The end is at(20): idle 5 days, short of 7, so f has not churned.
    # g has neither a last_seen value nor events: its start BASE stands in,
    # idle 20 days, so g churned at its start.
    events = [Event("f", "x", at(1)), Event("f", "x", at(15))]
    accounts = {
        "f": {"signup_at": BASE, "last_seen_at": None},
        "g": {"signup_at": BASE, "last_seen_at": None},
    }
    churn = {"inactivity_days": 7, "last_seen_column": "last_seen_at"}

    result = run_milestones([REPORT], events, accounts, churn=churn, end="2024-03-21")

    assert result.value("f", "churn_status") == 0
    assert result.value("g", "churn_at") == BASE


def test_churn_from_cancellation_column(run_milestones):
    events = [
        Event("a", "report", at(3)),
        Event("b", "report", at(3)),
        Event("d", "report", at(2)),
    ]
    accounts = {
        "a": {"signup_at": BASE, "cancelled_at": at(2)},
        "b": {"signup_at": BASE, "cancelled_at": at(12)},
        "c": {"signup_at": BASE},
        "d": {"signup_at": BASE, "cancelled_at": at(2)},
    }

    result = run_milestones(
        [REPORT], events, accounts, churn={"column": "cancelled_at"}, end="2024-03-11"
    )

    # a: cancelled at 2 d before reporting at 3 d.
    assert result.value("a", "m_report_status") == CHURNED
    assert result.value("a", "m_report_days") == 2.0
    assert result.value("a", "churn_days") == 2.0
    # b: the cancellation at(12) is after the end at(10): not churned.
    assert result.value("b", "churn_at") is None
    assert result.value("b", "churn_days") == 10.0
    assert result.value("b", "m_report_status") == REACHED
    # c: no cancellation and no events: censored at 10 days.
    assert result.value("c", "churn_status") == 0
    assert result.value("c", "m_report_status") == CENSORED
    assert result.value("c", "m_report_days") == 10.0
    # d: cancelled at the instant of the report.
    assert result.value("d", "m_report_status") == REACHED


def test_named_start_from_accounts_column(run_milestones):
    events = [
        Event("a", "report", at(1)),
        Event("a", "report", at(2, hours=12)),
        Event("b", "report", at(1)),
        Event("c", "report", at(2, seconds=1)),
        Event("c", "login", at(3)),
        Event("d", "report", at(1)),
        Event("e", "x", at(hours=13)),
        Event("e", "x", at(1, hours=11)),
        Event("e", "x", at(1, hours=12)),
        Event("f", "x", at(hours=1)),
        Event("f", "x", at(1, hours=1)),
    ]
    accounts = {
        "a": {"signup_at": BASE, "trial_at": at(2)},
        "b": {"signup_at": BASE},
        "c": {"signup_at": BASE, "trial_at": at(1)},
        "d": {"signup_at": BASE, "trial_at": at(4)},
        "e": {"signup_at": BASE, "trial_at": at(hours=12)},
        "f": {"signup_at": BASE, "trial_at": at(2)},
    }
    milestones = [
        REPORT,
        {"id": "trial_report", "event": "report", "within": "1d", "start": "trial"},
        {"id": "trial_days", "event": "x", "active_days": 2, "start": "trial"},
        {"id": "signup_days", "event": "x", "active_days": 2},
    ]

    result = run_milestones(
        milestones, events, accounts, starts={"trial": {"column": "trial_at"}}
    )

    # a: the report at(1) precedes the trial at(2); the one at 2 d 12 h is
    # 0.5 day into the trial.
    assert result.value("a", "m_trial_report_start_at") == at(2)
    assert result.value("a", "m_trial_report_at") == at(2, hours=12)
    assert result.value("a", "m_trial_report_days") == 0.5
    # The default-start milestone still uses the signup.
    assert result.value("a", "m_report_days") == 1.0
    assert result.value("a", "m_report_start_at") == BASE
    # b: no trial: the milestone has no status and no duration.
    assert result.value("b", "m_trial_report_status") is None
    assert result.value("b", "m_trial_report_days") is None
    assert result.value("b", "m_report_status") == REACHED
    # c: 1 d 1 s after the trial is outside its 1-day window; censored
    # from the trial at(1) to the end at(3): 2 days.
    assert result.value("c", "m_trial_report_status") == CENSORED
    assert result.value("c", "m_trial_report_days") == 2.0
    # d: its trial at(4) starts after the end at(3).
    assert result.value("d", "m_trial_report_status") is None
    # e: trial days start at 12:00; 13:00 and 23 h later are day 0 of the
    # trial, 24 h later is day 1: reached 1 day after the trial.
    assert result.value("e", "m_trial_days_at") == at(1, hours=12)
    assert result.value("e", "m_trial_days_days") == 1.0
    # f: both x events come before its trial, on days 0 and 1 after the
    # signup: only the milestone measured from the signup is reached.
    assert result.value("f", "m_trial_days_status") == CENSORED
    assert result.value("f", "m_signup_days_at") == at(1, hours=1)


def test_observation_end_before_latest_event(run_milestones):
    events = [
        Event("a", "report", at(6)),
        Event("b", "report", at(5)),
        Event("c", "login", at(1)),
        Event("c", "report", at(7)),
        Event("c", "report", at(8)),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abc"}

    result = run_milestones([REPORT], events, accounts, end="2024-03-06")

    # The end 2024-03-06 is at(5).
    assert result.value("a", "end_at") == at(5)
    # a: its only report is after the end: censored at 5 days.
    assert result.value("a", "m_report_status") == CENSORED
    assert result.value("a", "m_report_days") == 5.0
    assert result.value("a", "churn_days") == 5.0
    # b: a report exactly at the end is inside the observation.
    assert result.value("b", "m_report_days") == 5.0
    assert result.value("c", "m_report_status") == CENSORED
    # After the end: a's report and c's two reports.
    assert result.event_exclusions["after_end"] == 3
    # Used: b's report and c's login.
    assert result.events_used == 2


def test_exclusions_with_start_column(run_milestones):
    events = [
        Event("a", "login", at(0)),
        Event("a", "report", at(2)),
        Event("a", "report", at(6)),
        Event("b", "login", at(1)),
        Event("b", "report", at(2)),
        Event("z", "login", at(1)),
        Event("z", "report", at(1)),
        Event("z", "x", at(2)),
    ]
    accounts = {
        "a": {"signup_at": at(1)},
        "b": {},
        "c": {"signup_at": at(6)},
    }

    result = run_milestones([REPORT], events, accounts, end="2024-03-06")

    # Only a has a start at or before the end at(5).
    assert list(result.rows.index) == ["a"]
    assert result.account_exclusions["no_start"] == 1
    assert result.account_exclusions["start_after_end"] == 1
    # z is not in the accounts table: its 3 events.
    assert result.event_exclusions["not_in_accounts"] == 3
    # b has no start: its 2 events.
    assert result.event_exclusions["no_start"] == 2
    # a: the login at(0) precedes its signup at(1), the report at(6)
    # follows the end at(5).
    assert result.event_exclusions["before_start"] == 1
    assert result.event_exclusions["after_end"] == 1
    assert result.events_used == 1
    assert result.value("a", "m_report_days") == 1.0


def test_events_of_account_starting_after_end(run_milestones):
    # c starts at(6), after the end at(5); its event is excluded for the
    # same reason as the account, start_after_end, not for a missing start.
    events = [Event("a", "report", at(1)), Event("c", "login", at(2))]
    accounts = {"a": SIGNUP_AT_BASE, "c": {"signup_at": at(6)}}

    result = run_milestones([REPORT], events, accounts, end="2024-03-06")

    assert result.event_exclusions.get("start_after_end") == 1
    assert result.event_exclusions["no_start"] == 0


def test_exclusions_with_start_event(run_milestones):
    events = [
        Event("a", "login", at(0)),
        Event("a", "signup", at(1)),
        Event("a", "report", at(2)),
        Event("a", "signup", at(3)),
        Event("b", "login", at(1)),
        Event("b", "report", at(2)),
    ]

    result = run_milestones(
        [REPORT], events, None, start={"event": "signup"}, with_accounts=False
    )

    # a starts at its first signup, at(1); b never signs up.
    assert list(result.rows.index) == ["a"]
    assert result.value("a", "start_at") == at(1)
    assert result.value("a", "m_report_days") == 1.0
    assert result.account_exclusions["no_start"] == 1
    assert result.event_exclusions["no_start"] == 2
    assert result.event_exclusions["before_start"] == 1
    assert result.event_exclusions["not_in_accounts"] == 0
    # a's two signups and its report.
    assert result.events_used == 3


def test_segments_fill_unknown(run_milestones):
    events = [Event("a", "report", at(1)), Event("b", "report", at(2))]
    accounts = {
        "a": {"signup_at": BASE, "plan": "pro"},
        "b": {"signup_at": BASE},
    }

    result = run_milestones([REPORT], events, accounts, segments=["plan"])

    assert result.value("a", "plan") == "pro"
    assert result.value("b", "plan") == "(unknown)"


def test_inactivity_with_milliseconds(run_milestones):
    # The end is 2024-03-08 00:00:00. a was last active at 00:00:00.700 on
    # 2024-03-01, idle 6 d 23:59:59.300: short of 7 days, not churned.
    # b was last active at 00:00:00.000, idle exactly 7 days: churned.
    events = [
        Event("a", "x", at(seconds=0.7)),
        Event("b", "x", at(0)),
    ]
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE}

    result = run_milestones(
        [REPORT], events, accounts, churn={"inactivity_days": 7}, end="2024-03-08"
    )

    assert result.value("a", "churn_status") == 0
    assert result.value("b", "churn_status") == 1


def test_start_event_with_accounts_table(run_milestones):
    # The start is an event, so accounts come from the events and from the
    # accounts table: b only has events, c only has an accounts row.
    events = [
        Event("a", "signup", at(1)),
        Event("a", "report", at(2)),
        Event("b", "signup", at(1)),
    ]
    accounts = {"a": {"plan": "pro"}, "c": {"plan": "team"}}

    result = run_milestones(
        [REPORT], events, accounts, start={"event": "signup"}, segments=["plan"]
    )

    assert list(result.rows.index) == ["a", "b"]
    assert result.value("b", "plan") == "(unknown)"
    # c has no signup event, so no start.
    assert result.account_exclusions["no_start"] == 1
    assert result.event_exclusions["not_in_accounts"] == 0
    assert result.value("a", "m_report_days") == 1.0


def test_named_start_from_event(run_milestones):
    # The "activation" clock starts at the first login.
    events = [
        Event("a", "report", at(1)),
        Event("a", "login", at(2)),
        Event("a", "report", at(3)),
        Event("b", "report", at(1)),
    ]
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE}
    milestone = {"id": "after_login", "event": "report", "start": "activation"}

    result = run_milestones(
        [milestone], events, accounts, starts={"activation": {"event": "login"}}
    )

    # a: login at(2), the next report at(3): 1 day.
    assert result.value("a", "m_after_login_start_at") == at(2)
    assert result.value("a", "m_after_login_days") == 1.0
    # b never logs in.
    assert result.value("b", "m_after_login_status") is None


def test_unknown_property_names_close_match(run_milestones):
    events = [Event("a", "report", at(1), plan="pro")]
    milestone = {"id": "pro", "event": "report", "where": {"plna": "pro"}}

    with pytest.raises(AnalysisError) as raised:
        run_milestones([milestone], events, {"a": SIGNUP_AT_BASE})

    assert raised.value.code == "analysis.unknown_property"
    assert raised.value.params["name"] == "plna"
    assert raised.value.params["suggestions"] == "plan"


def test_unknown_start_column_lists_columns(run_milestones):
    events = [Event("a", "report", at(1))]

    with pytest.raises(AnalysisError) as raised:
        run_milestones([REPORT], events, {"a": SIGNUP_AT_BASE}, start={"column": "signup"})

    assert raised.value.code == "analysis.unknown_account_column"
    assert raised.value.params["column"] == "signup"
    assert "signup_at" in raised.value.params["known"]


def test_observation_end_in_project_timezone(run_milestones):
    # "2024-03-06" in Paris (UTC+1 in March) is 2024-03-05 23:00 UTC, so a
    # report at 2024-03-05 23:30 UTC is after the end.
    events = [
        Event("a", "report", at(4, hours=23, minutes=30)),
        Event("b", "report", at(4, hours=23)),
    ]
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE}

    result = run_milestones(
        [REPORT], events, accounts, end="2024-03-06", timezone="Europe/Paris"
    )

    assert result.value("a", "end_at") == at(4, hours=23)
    assert result.value("a", "m_report_status") == CENSORED
    # b: a report exactly at the end is used: 4 d 23 h = 119 / 24 days.
    assert result.value("b", "m_report_status") == REACHED
    assert result.value("b", "m_report_days") == 119 / 24


def test_no_events_with_configured_end(run_milestones):
    accounts = {"a": SIGNUP_AT_BASE, "b": {"signup_at": at(2)}}

    result = run_milestones([REPORT], [], accounts, end="2024-03-06")

    # Everyone is censored at the end at(5).
    assert list(result.rows.index) == ["a", "b"]
    assert result.value("a", "m_report_status") == CENSORED
    assert result.value("a", "m_report_days") == 5.0
    assert result.value("b", "m_report_days") == 3.0
    assert result.events_used == 0


def test_no_events_without_end_raises(run_milestones):
    with pytest.raises(AnalysisError) as raised:
        run_milestones([REPORT], [], {"a": SIGNUP_AT_BASE})

    assert raised.value.code == "analysis.no_events"
