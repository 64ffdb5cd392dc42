"""Build small events and accounts tables in DuckDB and run the milestone engine.

Tests describe events as :class:`Event` rows. The store gives each row a
``_seq`` equal to its 1-based position in the list, which is the tie-break
at equal timestamps. Accounts are a mapping from ``account_id`` to the values
of their columns (``signup_at``, ``trial_at``, ``cancelled_at``,
``last_seen_at``, ``plan``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from jalon.config import Config, parse_config
from jalon.milestones.accounts import build_account_table, observation_end

# Every test clock is measured from this instant (a Friday, UTC).
BASE = dt.datetime(2024, 3, 1)
SECONDS_PER_DAY = 86400
PROPERTIES = {"score": "p_score", "plan": "p_plan"}
ACCOUNT_TIME_COLUMNS = ("signup_at", "trial_at", "cancelled_at", "last_seen_at")
ACCOUNT_TEXT_COLUMNS = ("plan",)
ACCOUNTS_SCHEMA = {
    "account_id": "string",
    **{name: "timestamp(6)" for name in ACCOUNT_TIME_COLUMNS},
    **{name: "string" for name in ACCOUNT_TEXT_COLUMNS},
}
CONFIG_PATH = Path("/nonexistent/jalon.toml")
EVENTS_SCHEMA = {
    "account_id": "string",
    "user_id": "string",
    "event": "string",
    "ts": "timestamp(6)",
    "_seq": "int64",
    "p_score": "float64",
    "p_plan": "string",
}


def at(
    days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
) -> dt.datetime:
    """Return ``BASE`` plus the given amounts of time."""
    delta = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return BASE + delta


@dataclass(frozen=True)
class Event:
    """One events row; ``score`` and ``plan`` are the two event properties."""

    account: str
    event: str
    ts: dt.datetime
    user: str | None = "u1"
    score: float | None = None
    plan: str | None = None


@dataclass(frozen=True)
class EngineResult:
    """The per-account table as pandas, indexed by ``account_id``, and counts.

    ``events_used`` is the number of events the milestones could use.
    """

    rows: pd.DataFrame
    account_exclusions: dict[str, int]
    event_exclusions: dict[str, int]
    events_used: int
    end: dt.datetime

    def value(self, account: str, column: str) -> Any:
        """Return one cell, with pandas missing values turned into None."""
        cell = self.rows.loc[account, column]
        if pd.isna(cell):
            return None
        if isinstance(cell, pd.Timestamp):
            return cell.to_pydatetime()
        return cell.item() if hasattr(cell, "item") else cell


def events_frame(events: Sequence[Event]) -> pd.DataFrame:
    """Return the store's events table for ``events``, ``_seq`` in list order."""
    frame = pd.DataFrame(
        {
            "account_id": pd.Series([e.account for e in events], dtype="object"),
            "user_id": pd.Series([e.user for e in events], dtype="object"),
            "event": pd.Series([e.event for e in events], dtype="object"),
            "ts": pd.Series([e.ts for e in events], dtype="datetime64[us]"),
            "_seq": pd.Series(range(1, len(events) + 1), dtype="int64"),
            "p_score": pd.Series([e.score for e in events], dtype="float64"),
            "p_plan": pd.Series([e.plan for e in events], dtype="object"),
        }
    )
    return frame


def accounts_frame(accounts: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Return the store's accounts table; absent columns of an account are null."""
    identifiers = list(accounts)
    columns: dict[str, pd.Series] = {
        "account_id": pd.Series(identifiers, dtype="object")
    }
    for name in ACCOUNT_TIME_COLUMNS:
        values = [accounts[key].get(name) for key in identifiers]
        columns[name] = pd.Series(values, dtype="datetime64[us]")
    for name in ACCOUNT_TEXT_COLUMNS:
        values = [accounts[key].get(name) for key in identifiers]
        columns[name] = pd.Series(values, dtype="object")
    return pd.DataFrame(columns)


def make_config(
    milestones: Sequence[Mapping[str, Any]],
    *,
    start: Mapping[str, Any] | None = None,
    starts: Mapping[str, Any] | None = None,
    churn: Mapping[str, Any] | None = None,
    end: str | None = None,
    with_accounts: bool = True,
    segments: Sequence[str] = (),
    timezone: str = "UTC",
) -> Config:
    """Validate a jalon.toml built from the given sections with ``parse_config``.

    The default start is the accounts column ``signup_at``.
    """
    raw: dict[str, Any] = {
        "project": {"timezone": timezone},
        "events": {
            "paths": ["events.csv"],
            "columns": {
                "account_id": "account_id",
                "user_id": "user_id",
                "event": "event",
                "timestamp": "ts",
            },
        },
        "start": dict(start) if start is not None else {"column": "signup_at"},
        "milestones": [dict(milestone) for milestone in milestones],
    }
    if with_accounts:
        raw["accounts"] = {
            "path": "accounts.csv",
            "columns": {"segments": list(segments)},
        }
    if starts:
        raw["starts"] = {name: dict(table) for name, table in starts.items()}
    if churn is not None:
        raw["churn"] = dict(churn)
    if end is not None:
        raw["observation"] = {"end": end}
    return parse_config(raw, CONFIG_PATH)


def run_engine(
    con: ibis.BaseBackend,
    config: Config,
    events: Sequence[Event],
    accounts: Mapping[str, Mapping[str, Any]] | None,
    with_counts: bool = True,
) -> EngineResult:
    """Load the tables into ``con``, build the per-account table and execute it.

    With ``with_counts`` false the exclusion counts stay empty and
    ``events_used`` is -1, which saves three queries.
    """
    # Explicit schemas keep the column types when every value is missing.
    events_data = ibis.memtable(events_frame(events), schema=EVENTS_SCHEMA)
    events_table = con.create_table("events", events_data, overwrite=True)
    accounts_table = None
    if accounts is not None:
        accounts_data = ibis.memtable(accounts_frame(accounts), schema=ACCOUNTS_SCHEMA)
        accounts_table = con.create_table("accounts", accounts_data, overwrite=True)

    end = observation_end(config, events_table, con.execute)
    built = build_account_table(config, events_table, accounts_table, PROPERTIES, end)

    rows = con.execute(built.table).set_index("account_id").sort_index()
    if not with_counts:
        return EngineResult(rows, {}, {}, events_used=-1, end=end)

    account_counts = con.execute(built.account_exclusions).iloc[0]
    event_counts = con.execute(built.event_exclusions).iloc[0].to_dict()
    used = int(event_counts.pop("used"))
    # Two independent counts of the usable events: the exclusion pass and the
    # usable rows themselves.
    assert used == int(con.execute(built.events_used.count()))
    return EngineResult(
        rows=rows,
        account_exclusions={key: int(value) for key, value in account_counts.items()},
        event_exclusions={key: int(value) for key, value in event_counts.items()},
        events_used=used,
        end=end,
    )


def file_backend(directory: Path) -> ibis.BaseBackend:
    """Open a DuckDB file in ``directory`` (a test's ``tmp_path``)."""
    return ibis.duckdb.connect(str(directory / "t.duckdb"))
