"""The engine against the oracle on a real log: the Stack Exchange Q&A community.

The data set (3,460 sign-ups, 21,394 actions) has the quirks the random
logs only imitate: many rows at the same timestamp, votes stamped at
midnight before the post they concern, millisecond sign-up times. Every
account's milestone times must equal the oracle's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import milestone_oracle as oracle
from jalon.config import parse_config
from jalon.milestones.accounts import build_account_table

DATA_DIR = Path(__file__).parents[2] / ".." / "shared" / "data" / "stackexchange_qc"
OBSERVATION_END = "2018-09-02"
PROPERTY_NAMES = ("score", "badge", "badge_class", "post_type")
PROPERTIES = {name: f"p_{name}" for name in PROPERTY_NAMES}
MILESTONES = [
    {
        "id": "first_post",
        "event": ["question_posted", "answer_posted"],
        "where": {"score": {"gt": 0}},
        "within": "7d",
    },
    {"id": "three_upvotes", "event": "upvote_received", "count": 3},
    {"id": "three_badges", "event": "badge_earned", "distinct": "badge", "count": 3},
    {"id": "active_three_days", "active_days": 3, "within": "14d"},
    {"id": "kinds", "distinct": "event", "count": 4},
    {
        "id": "rewarded_answer",
        "sequence": [{"event": "answer_posted"}, {"event": "upvote_received"}],
        "gap": "1d",
    },
    {
        "id": "asked_and_commented",
        "all_of": [{"event": "question_posted"}, {"event": "comment_posted"}],
    },
    {
        "id": "recognised",
        "any_of": [
            {"event": "badge_earned", "where": {"badge_class": {"ne": "bronze"}}},
            {"event": "answer_accepted"},
        ],
    },
    {
        "id": "silver_or_teacher",
        "event": "badge_earned",
        "where": {
            "any": [
                {"badge_class": {"in": ["silver", "gold"]}},
                {"badge": {"contains": "Teach"}},
            ]
        },
    },
    {
        "id": "nonzero_post",
        "event": ["question_posted", "answer_posted"],
        "where": {"score": {"ne": 0}, "post_type": {"is_set": False}},
    },
]


@pytest.fixture(scope="module")
def community() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the events (with ``_seq`` in file order) and the accounts."""
    if not DATA_DIR.exists():
        pytest.skip(f"real data set not found at {DATA_DIR}")
    events = pd.read_csv(DATA_DIR / "events.csv.gz")
    accounts = pd.read_csv(DATA_DIR / "accounts.csv")

    frame = pd.DataFrame(
        {
            "account_id": events.user_id.astype(str),
            "user_id": events.user_id.astype(str),
            "event": events.event,
            "ts": pd.to_datetime(events.timestamp).astype("datetime64[us]"),
            "_seq": pd.Series(range(1, len(events) + 1), dtype="int64"),
        }
    )
    for name in PROPERTY_NAMES:
        frame[PROPERTIES[name]] = events[name]
    account_frame = pd.DataFrame(
        {
            "account_id": accounts.user_id.astype(str),
            "signup_at": pd.to_datetime(accounts.signup_at).astype("datetime64[us]"),
        }
    )
    return frame, account_frame


def _engine_rows(events: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    raw = {
        "events": {
            "paths": ["events.csv.gz"],
            "columns": {"account_id": "user_id", "event": "event", "timestamp": "timestamp"},
        },
        "accounts": {"path": "accounts.csv", "columns": {"account_id": "user_id"}},
        "start": {"column": "signup_at"},
        "observation": {"end": OBSERVATION_END},
        "milestones": MILESTONES,
    }
    config = parse_config(raw, DATA_DIR / "jalon.toml")
    con = ibis.duckdb.connect()
    try:
        events_table = con.create_table("events", events)
        accounts_table = con.create_table("accounts", accounts)
        assert config.observation_end is not None
        built = build_account_table(
            config, events_table, accounts_table, PROPERTIES, config.observation_end
        )
        return con.execute(built.table).set_index("account_id")
    finally:
        con.disconnect()


def _oracle_events(events: pd.DataFrame) -> dict[str, list[oracle.OracleEvent]]:
    per_account: dict[str, list[oracle.OracleEvent]] = {}
    for row in events.to_dict("records"):
        properties = {
            name: None if pd.isna(row[PROPERTIES[name]]) else row[PROPERTIES[name]]
            for name in PROPERTY_NAMES
        }
        event = oracle.OracleEvent(
            row["ts"].to_pydatetime(), row["_seq"], row["event"], row["user_id"], properties
        )
        per_account.setdefault(row["account_id"], []).append(event)
    return per_account


def _as_datetime(value: Any) -> dt.datetime | None:
    return None if pd.isna(value) else value.to_pydatetime()


def test_real_log_times_match_oracle(community):
    events, accounts = community

    rows = _engine_rows(events, accounts)

    end = dt.datetime.fromisoformat(OBSERVATION_END)
    per_account = _oracle_events(events)
    starts = {
        account: start.to_pydatetime()
        for account, start in zip(accounts.account_id, accounts.signup_at)
    }
    included = {account: start for account, start in starts.items() if start <= end}
    mismatches = []
    reached = {milestone["id"]: 0 for milestone in MILESTONES}
    for account, start in included.items():
        usable = oracle.usable_events(per_account.get(account, []), start, end)
        for milestone in MILESTONES:
            expected = oracle.reached_at(milestone, usable, start)
            reached[milestone["id"]] += expected is not None
            got = _as_datetime(rows.loc[account, f"m_{milestone['id']}_at"])
            if got != expected:
                mismatches.append((account, milestone["id"], expected, got))
    # Accounts signing up after the end have no row.
    assert sorted(rows.index) == sorted(included)
    assert mismatches == []
    # Each milestone is reached by some accounts, so the comparison is not
    # only between empty results.
    assert min(reached.values()) > 0, reached
