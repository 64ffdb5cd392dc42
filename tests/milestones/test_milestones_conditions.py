"""Hand-computed milestone times for every condition shape.

Each test lists its accounts with their events and the expected per-account
values. Every account signs up at ``BASE`` (2024-03-01 00:00 UTC) unless a
test sets another, so ``at(d, h)`` is ``d`` days and ``h`` hours after the
signup. Days are ``(reached - start) / 86400 s``. There is no churn rule, so
an unreached milestone is censored at the observation end.
"""

from __future__ import annotations

import pytest

from milestone_harness import BASE, Event, at

SIGNUP_AT_BASE = {"signup_at": BASE}
REACHED, CENSORED = 1, 0
ONE_SECOND_IN_DAYS = 1 / 86400


def test_first_occurrence_of_event(run_milestones):
    events = [
        Event("a", "login", at(hours=1)),
        Event("a", "report", at(2, hours=6)),
        Event("a", "report", at(3)),
        Event("b", "report", at(0)),
    ]
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE, "c": {"signup_at": at(1)}}

    result = run_milestones([{"id": "report", "event": "report"}], events, accounts)

    # The end defaults to the latest event, at(3).
    assert result.end == at(3)
    # a: first report at 2 d 6 h = 54 h / 24 = 2.25 days.
    assert result.value("a", "m_report_at") == at(2, hours=6)
    assert result.value("a", "m_report_days") == 2.25
    assert result.value("a", "m_report_status") == REACHED
    # b: a report exactly at the start counts, 0 days.
    assert result.value("b", "m_report_at") == BASE
    assert result.value("b", "m_report_days") == 0.0
    assert result.value("b", "m_report_status") == REACHED
    # c: no events at all, censored at the end: at(3) - at(1) = 2 days.
    assert result.value("c", "m_report_at") is None
    assert result.value("c", "m_report_days") == 2.0
    assert result.value("c", "m_report_status") == CENSORED


def test_event_list_takes_first_of_any(run_milestones):
    events = [
        Event("a", "report", at(2)),
        Event("a", "share", at(1)),
        Event("a", "login", at(hours=1)),
    ]
    milestone = {"id": "content", "event": ["report", "share"]}

    result = run_milestones([milestone], events, {"a": SIGNUP_AT_BASE})

    # share at 1 day comes before report at 2 days; login is not listed.
    assert result.value("a", "m_content_at") == at(1)


def test_nth_occurrence_with_tied_timestamps(run_milestones):
    # Three events share the instant at(1); _seq is their list position.
    events = [
        Event("a", "login", at(1)),
        Event("a", "report", at(1)),
        Event("a", "report", at(1)),
        Event("a", "report", at(2)),
    ]
    milestones = [
        {"id": "first", "event": "report"},
        {"id": "second", "event": "report", "count": 2},
        {"id": "third", "event": "report", "count": 3},
        {"id": "fourth", "event": "report", "count": 4},
    ]

    result = run_milestones(milestones, events, {"a": SIGNUP_AT_BASE})

    # Reports in (ts, _seq) order: at(1) #2, at(1) #3, at(2) #4.
    assert result.value("a", "m_first_at") == at(1)
    assert result.value("a", "m_second_at") == at(1)
    assert result.value("a", "m_second_days") == 1.0
    assert result.value("a", "m_third_at") == at(2)
    assert result.value("a", "m_third_days") == 2.0
    # Only three reports: censored at the end at(2), 2 days.
    assert result.value("a", "m_fourth_status") == CENSORED
    assert result.value("a", "m_fourth_days") == 2.0


def test_events_before_start_not_used(run_milestones):
    events = [
        Event("a", "report", at(0)),
        Event("a", "report", at(3)),
    ]
    milestones = [
        {"id": "once", "event": "report"},
        {"id": "twice", "event": "report", "count": 2},
    ]

    result = run_milestones(milestones, events, {"a": {"signup_at": at(1)}})

    # The report at(0) precedes the signup at(1): only at(3) is used.
    assert result.value("a", "m_once_at") == at(3)
    assert result.value("a", "m_once_days") == 2.0
    assert result.value("a", "m_twice_status") == CENSORED
    assert result.event_exclusions["before_start"] == 1


# Property filters. Account "a" has four "x" events; "b" has the same ones
# without the first, whose properties are both missing.
FILTER_EVENTS_A = [
    Event("a", "x", at(1), score=None, plan=None),
    Event("a", "x", at(2), score=0.0, plan="free"),
    Event("a", "x", at(3), score=5.0, plan="pro"),
    Event("a", "x", at(4), score=10.0, plan="enterprise"),
]
FILTER_EVENTS_B = [
    Event("b", "x", at(2), score=0.0, plan="free"),
    Event("b", "x", at(3), score=5.0, plan="pro"),
    Event("b", "x", at(4), score=10.0, plan="enterprise"),
]

# (where, day of the first matching event for a, for b); None: no match.
FILTER_CASES = [
    ({"plan": "pro"}, 3, 3),
    ({"plan": {"eq": "pro"}}, 3, 3),
    # Missing values satisfy ne and not_in.
    ({"plan": {"ne": "free"}}, 1, 3),
    ({"plan": {"in": ["pro", "enterprise"]}}, 3, 3),
    ({"plan": ["free"]}, 2, 2),
    ({"plan": {"not_in": ["free", "pro"]}}, 1, 4),
    ({"score": {"gt": 5}}, 4, 4),
    ({"score": {"ge": 5}}, 3, 3),
    # Missing values never satisfy lt or le, even though "less than 5" and
    # "at most 0" would hold for a zero default.
    ({"score": {"lt": 5}}, 2, 2),
    ({"score": {"le": 0}}, 2, 2),
    ({"score": {"eq": 0}}, 2, 2),
    ({"score": {"eq": 10}}, 4, 4),
    ({"score": {"ne": 0}}, 1, 3),
    ({"score": {"in": [5, 10]}}, 3, 3),
    ({"score": {"not_in": [0, 5]}}, 1, 4),
    # Numeric text compares as a number on a numeric property: "5" is 5.0.
    ({"score": "5"}, 3, 3),
    ({"score": {"in": ["5", "10"]}}, 3, 3),
    # "pro" at(3) is the first plan containing "pr"; "enterprise" also does.
    ({"plan": {"contains": "pr"}}, 3, 3),
    ({"plan": {"contains": "ee"}}, 2, 2),
    ({"plan": {"is_set": True}}, 2, 2),
    ({"plan": {"is_set": False}}, 1, None),
    ({"score": {"is_set": False}}, 1, None),
    # Several keys, or several operators on one key: all must hold.
    ({"plan": "pro", "score": {"gt": 4}}, 3, 3),
    ({"plan": {"ne": "pro", "is_set": True}}, 2, 2),
    ({"plan": {"not_in": ["free"]}, "score": {"lt": 6}}, 3, 3),
    ({"any": [{"plan": "enterprise"}, {"score": {"lt": 1}}]}, 2, 2),
    ({"any": [{"plan": {"is_set": False}}, {"score": {"gt": 7}}]}, 1, 4),
    ({"all": [{"score": {"ge": 5}}, {"plan": {"ne": "pro"}}]}, 4, 4),
    (
        {
            "all": [
                {"any": [{"plan": "free"}, {"plan": "enterprise"}]},
                {"score": {"ge": 1}},
            ]
        },
        4,
        4,
    ),
]


@pytest.mark.parametrize(
    "where, day_a, day_b", FILTER_CASES, ids=[repr(case[0]) for case in FILTER_CASES]
)
def test_property_filter(run_milestones, where, day_a, day_b):
    accounts = {"a": SIGNUP_AT_BASE, "b": SIGNUP_AT_BASE}
    milestone = {"id": "m", "event": "x", "where": where}

    result = run_milestones([milestone], FILTER_EVENTS_A + FILTER_EVENTS_B, accounts)

    # An unreached milestone is censored at the end, at(4): 4 days.
    for account, day in (("a", day_a), ("b", day_b)):
        expected = 4.0 if day is None else float(day)
        assert result.value(account, "m_m_days") == expected, account
        assert result.value(account, "m_m_status") == (
            CENSORED if day is None else REACHED
        )


def test_within_window_edges(run_milestones):
    events = [
        Event("a", "report", at(7)),
        Event("b", "report", at(7, seconds=1)),
        # c lists its late report first: the order of rows must not matter.
        Event("c", "report", at(7, seconds=1)),
        Event("c", "report", at(1)),
        Event("d", "report", at(hours=36)),
        Event("e", "report", at(hours=36, seconds=1)),
        Event("f", "report", at(1)),
        Event("f", "report", at(2)),
        Event("g", "report", at(1)),
        Event("g", "report", at(2, seconds=1)),
        # h signs up at 06:00, so its 7-day window ends at(7, hours=6).
        Event("h", "report", at(7, hours=6)),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcdefg"}
    accounts["h"] = {"signup_at": at(hours=6)}
    milestones = [
        {"id": "week", "event": "report", "within": "7d"},
        {"id": "hours", "event": "report", "within": "36h"},
        {"id": "two", "event": "report", "count": 2, "within": "2d"},
    ]

    result = run_milestones(milestones, events, accounts, end="2024-03-11")

    # Windows are inclusive: 7 d exactly is inside, 7 d 1 s is outside.
    assert result.value("a", "m_week_days") == 7.0
    assert result.value("b", "m_week_status") == CENSORED
    # Censored at the end 2024-03-11 = at(10): 10 days.
    assert result.value("b", "m_week_days") == 10.0
    assert result.value("c", "m_week_at") == at(1)
    assert result.value("h", "m_week_days") == 7.0
    # 36 h = 1.5 days.
    assert result.value("d", "m_hours_days") == 1.5
    assert result.value("e", "m_hours_status") == CENSORED
    assert result.value("e", "m_week_days") == 1.5 + ONE_SECOND_IN_DAYS
    assert result.value("a", "m_hours_status") == CENSORED
    # The second report must also fall in the window.
    assert result.value("f", "m_two_days") == 2.0
    assert result.value("g", "m_two_status") == CENSORED


def test_distinct_values(run_milestones):
    events = [
        Event("a", "x", at(1), plan="pro"),
        Event("a", "x", at(2), plan="pro"),
        Event("a", "x", at(3), plan=None),
        Event("a", "x", at(4), plan="free"),
        Event("a", "x", at(5), plan="enterprise"),
        Event("b", "login", at(1)),
        Event("b", "login", at(2)),
        Event("b", "report", at(3)),
        Event("b", "share", at(3)),
        Event("c", "login", at(1)),
        Event("c", "report", at(2)),
        Event("d", "share", at(1)),
        Event("d", "share", at(2)),
        Event("d", "report", at(4)),
        Event("e", "x", at(1), score=1.0),
        Event("e", "x", at(2), score=1.0),
        Event("e", "x", at(2, hours=12), score=None),
        Event("e", "x", at(3), score=2.0),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcde"}
    milestones = [
        {"id": "plans", "event": "x", "distinct": "plan", "count": 2},
        {"id": "scores", "event": "x", "distinct": "score", "count": 2},
        {"id": "kinds", "distinct": "event", "count": 3},
        {
            "id": "content",
            "event": ["report", "share"],
            "distinct": "event",
            "count": 2,
        },
    ]

    result = run_milestones(milestones, events, accounts)

    # a: plans pro (1 d), pro again, missing (not a value), free (4 d).
    assert result.value("a", "m_plans_at") == at(4)
    # a: every score is missing, so no distinct score at all.
    assert result.value("a", "m_scores_status") == CENSORED
    # a: only the event "x", one distinct name.
    assert result.value("a", "m_kinds_status") == CENSORED
    # b: login (1 d), report (3 d), share (3 d, tied): third name at 3 d.
    assert result.value("b", "m_kinds_at") == at(3)
    assert result.value("b", "m_content_at") == at(3)
    # c: login and report are two names, three are needed.
    assert result.value("c", "m_kinds_status") == CENSORED
    assert result.value("c", "m_content_status") == CENSORED
    # d: share (1 d) then report (4 d) among the listed events.
    assert result.value("d", "m_content_at") == at(4)
    assert result.value("d", "m_kinds_status") == CENSORED
    # e: score 1.0 (1 d), again 1.0, missing, 2.0 (3 d).
    assert result.value("e", "m_scores_at") == at(3)


def test_active_days_count_from_start(run_milestones):
    # a signs up at 06:00, so its day 1 begins at(1, hours=6), not at midnight.
    events = [
        Event("a", "x", at(hours=7)),
        Event("a", "x", at(1, hours=5, minutes=59, seconds=59)),
        Event("a", "x", at(1, hours=6)),
        Event("a", "x", at(3, hours=5, minutes=59, seconds=59)),
        Event("b", "x", at(hours=1)),
        Event("b", "x", at(hours=2)),
        Event("b", "x", at(hours=47)),
        Event("c", "x", at(hours=1)),
        Event("c", "login", at(hours=30)),
    ]
    accounts = {
        "a": {"signup_at": at(hours=6)},
        "b": SIGNUP_AT_BASE,
        "c": SIGNUP_AT_BASE,
    }
    milestones = [
        {"id": "two", "event": "x", "active_days": 2},
        {"id": "three", "event": "x", "active_days": 3},
        {"id": "any", "active_days": 2},
    ]

    result = run_milestones(milestones, events, accounts)

    # a: elapsed 1 h and 23:59:59 are day 0; 24 h exactly starts day 1.
    assert result.value("a", "m_two_at") == at(1, hours=6)
    assert result.value("a", "m_two_days") == 1.0
    # a: elapsed 2 d 23:59:59 is day 2, the third active day.
    assert result.value("a", "m_three_days") == 2.0 + 86399 / 86400
    # b: 1 h and 2 h are day 0, 47 h is day 1: 47 / 24 days.
    assert result.value("b", "m_two_days") == 47 / 24
    assert result.value("b", "m_three_status") == CENSORED
    # c: login is not "x", so x has one active day; any event has two.
    assert result.value("c", "m_two_status") == CENSORED
    assert result.value("c", "m_any_days") == 1.25


def test_users_each_on_own_events(run_milestones):
    events = [
        Event("a", "report", at(1), user="u1"),
        Event("a", "report", at(2), user="u1"),
        Event("a", "report", at(3), user="u2"),
        Event("b", "report", at(1), user="u1"),
        Event("b", "report", at(2), user="u1"),
        Event("c", "report", at(hours=12), user=None),
        Event("c", "report", at(1), user="u1"),
        Event("c", "report", at(2), user="u2"),
        Event("d", "report", at(1), user="u1"),
        Event("d", "report", at(2), user="u2"),
        Event("d", "report", at(3), user="u2"),
        Event("d", "report", at(4), user="u1"),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcd"}
    milestones = [
        {"id": "pair", "event": "report", "users": 2},
        {"id": "pair_twice", "event": "report", "count": 2, "users": 2},
        {"id": "one_twice", "event": "report", "count": 2, "users": 1},
    ]

    result = run_milestones(milestones, events, accounts)

    # a: u1 satisfies at 1 d, u2 at 3 d: the second user at 3 d.
    assert result.value("a", "m_pair_at") == at(3)
    # a: u2 reports only once.
    assert result.value("a", "m_pair_twice_status") == CENSORED
    assert result.value("a", "m_one_twice_at") == at(2)
    # b: one user, however many reports.
    assert result.value("b", "m_pair_status") == CENSORED
    # c: the report without a user counts for no user.
    assert result.value("c", "m_pair_at") == at(2)
    # c: pooled, the second report would be at 1 d; per user, none has two.
    assert result.value("c", "m_one_twice_status") == CENSORED
    # d: u2's second report at 3 d, u1's at 4 d.
    assert result.value("d", "m_pair_twice_at") == at(4)
    assert result.value("d", "m_pair_at") == at(2)
    assert result.value("d", "m_one_twice_at") == at(3)


def test_all_of_and_any_of(run_milestones):
    events = [
        Event("a", "report", at(1)),
        Event("a", "share", at(3)),
        Event("b", "report", at(1)),
        Event("c", "share", at(2)),
        Event("d", "invite", at(1)),
        Event("d", "report", at(2)),
        Event("d", "report", at(4)),
    ]
    accounts = {name: SIGNUP_AT_BASE for name in "abcd"}
    pair = [{"event": "report"}, {"event": "share"}]
    milestones = [
        {"id": "both", "all_of": pair},
        {"id": "either", "any_of": pair},
        {
            "id": "nested",
            "all_of": [
                {"event": "report", "count": 2},
                {"any_of": [{"event": "share"}, {"event": "invite"}]},
            ],
        },
    ]

    result = run_milestones(milestones, events, accounts)

    # a: report 1 d, share 3 d: all_of takes the later, any_of the earlier.
    assert result.value("a", "m_both_at") == at(3)
    assert result.value("a", "m_either_at") == at(1)
    assert result.value("a", "m_nested_status") == CENSORED
    assert result.value("b", "m_both_status") == CENSORED
    assert result.value("b", "m_either_at") == at(1)
    assert result.value("c", "m_both_status") == CENSORED
    assert result.value("c", "m_either_at") == at(2)
    # d: the second report at 4 d, invite at 1 d: the later is 4 d.
    assert result.value("d", "m_nested_at") == at(4)


SEQUENCE_AB = {"id": "ab", "sequence": [{"event": "a"}, {"event": "b"}], "gap": "1d"}
SEQUENCE_AB_NO_GAP = {"id": "open", "sequence": [{"event": "a"}, {"event": "b"}]}
SEQUENCE_ABA = {
    "id": "aba",
    "sequence": [{"event": "a"}, {"event": "b"}, {"event": "a"}],
    "gap": "1d",
}
SEQUENCE_XX = {"id": "xx", "sequence": [{"event": "x"}, {"event": "x"}], "gap": "1d"}

# (case, events as (name, time) in _seq order, expected days per milestone).
SEQUENCE_CASES = [
    # The gap edge is inclusive: b exactly 1 d after a.
    ("gap_edge", [("a", at(0)), ("b", at(1))], {"ab": 1.0, "open": 1.0}),
    (
        "gap_exceeded",
        [("a", at(0)), ("b", at(1, seconds=1))],
        {"ab": None, "open": 1.0 + ONE_SECOND_IN_DAYS},
    ),
    # The latest a before b (2 d) leaves a gap of 12 h.
    (
        "latest_start",
        [("a", at(0)), ("a", at(2)), ("b", at(2, hours=12))],
        {"ab": 2.5, "aba": None},
    ),
    (
        "wrong_order",
        [("b", at(hours=1)), ("a", at(hours=2))],
        {"ab": None, "open": None},
    ),
    # A step must come at a strictly later time: tied steps never chain,
    # in either row order, so the result does not depend on the files.
    ("tie_in_order", [("a", at(1)), ("b", at(1))], {"ab": None}),
    ("tie_reversed", [("b", at(1)), ("a", at(1))], {"ab": None}),
    # One row that matches both steps cannot follow itself, nor a tied row.
    ("single_row", [("x", at(1))], {"xx": None}),
    ("two_tied_rows", [("x", at(1)), ("x", at(1))], {"xx": None}),
    ("two_rows_a_second_apart", [("x", at(1)), ("x", at(1, seconds=1))], {"xx": 1.0 + ONE_SECOND_IN_DAYS}),
    ("three_steps", [("a", at(0)), ("b", at(1)), ("a", at(1, hours=12))], {"aba": 1.5}),
    # The first chain breaks on the gap (2 d); the second completes at 3 d 6 h.
    (
        "second_chain",
        [("a", at(0)), ("b", at(2)), ("a", at(3)), ("b", at(3, hours=6))],
        {"ab": 3.25, "open": 2.0},
    ),
]


@pytest.mark.parametrize(
    "rows, expected",
    [case[1:] for case in SEQUENCE_CASES],
    ids=[case[0] for case in SEQUENCE_CASES],
)
def test_sequence_with_gap(run_milestones, rows, expected):
    events = [Event("s", name, moment) for name, moment in rows]
    milestones = [SEQUENCE_AB, SEQUENCE_AB_NO_GAP, SEQUENCE_ABA, SEQUENCE_XX]

    result = run_milestones(milestones, events, {"s": SIGNUP_AT_BASE}, end="2024-03-06")

    # Unreached: censored at the end 2024-03-06 = at(5), 5 days.
    for identifier, days in expected.items():
        status = CENSORED if days is None else REACHED
        assert result.value("s", f"m_{identifier}_status") == status, identifier
        assert result.value("s", f"m_{identifier}_days") == (
            5.0 if days is None else days
        ), identifier


def test_sequence_steps_with_filters(run_milestones):
    # Step 1 wants plan "pro", step 2 a score above 1; the row at(1) matches
    # both steps but cannot be both, so the chain ends at(2).
    events = [
        Event("s", "x", at(1), score=3.0, plan="pro"),
        Event("s", "x", at(2), score=2.0, plan="free"),
    ]
    milestone = {
        "id": "upgrade",
        "sequence": [
            {"event": "x", "where": {"plan": "pro"}},
            {"event": "x", "where": {"score": {"gt": 1}}},
        ],
        "gap": "2d",
    }

    result = run_milestones([milestone], events, {"s": SIGNUP_AT_BASE})

    assert result.value("s", "m_upgrade_at") == at(2)


def test_active_days_with_milliseconds(run_milestones):
    # The signup is at 00:00:00.700. An event at 00:00:00.200 the next day
    # is 23:59:59.500 after it, still in day 0; one at 00:00:00.700 opens day 1.
    start = at(seconds=0.7)
    events = [
        Event("a", "x", at(hours=1)),
        Event("a", "x", at(1, seconds=0.2)),
        Event("b", "x", at(hours=1)),
        Event("b", "x", at(1, seconds=0.7)),
    ]
    accounts = {"a": {"signup_at": start}, "b": {"signup_at": start}}
    milestone = {"id": "two", "event": "x", "active_days": 2}

    result = run_milestones([milestone], events, accounts, end="2024-03-05")

    assert result.value("a", "m_two_status") == CENSORED
    assert result.value("b", "m_two_at") == at(1, seconds=0.7)


def test_within_with_milliseconds(run_milestones):
    # Window of 1 d from 00:00:00.700: 00:00:00.700 the next day is inside,
    # 00:00:00.701 is outside.
    start = at(seconds=0.7)
    events = [
        Event("a", "x", at(1, seconds=0.7)),
        Event("b", "x", at(1, seconds=0.701)),
    ]
    accounts = {"a": {"signup_at": start}, "b": {"signup_at": start}}
    milestone = {"id": "day", "event": "x", "within": "1d"}

    result = run_milestones([milestone], events, accounts, end="2024-03-05")

    assert result.value("a", "m_day_at") == at(1, seconds=0.7)
    assert result.value("b", "m_day_status") == CENSORED
