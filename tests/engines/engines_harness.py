"""Small hand-made logs loaded into a DuckDB store and, for Spark, exported to Parquet.

Tests list events as :class:`Row` values. The store gives each row a ``_seq``
equal to its 1-based position in the list. Accounts map ``account_id`` to
their columns (``signup_at``, ``trial_at``, ``cancelled_at``,
``last_seen_at``, ``plan``). Every clock is measured from :data:`BASE`.
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
from jalon.store import Store
from jalon.store.engine import kaplan_meier_expr, materialize
from jalon.survival import life_table_expr

BASE = dt.datetime(2024, 3, 1)
CONFIG_PATH = Path("/nonexistent/jalon.toml")
PROPERTY_COLUMNS = {"score": ("p_score", "DOUBLE"), "plan": ("p_plan", "VARCHAR")}
ACCOUNT_TIME_COLUMNS = ("signup_at", "trial_at", "cancelled_at", "last_seen_at")


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> dt.datetime:
    """Return ``BASE`` plus the given amounts of time."""
    return BASE + dt.timedelta(days=days, hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Row:
    """One events row; ``score`` and ``plan`` are the two event properties."""

    account: str
    event: str
    ts: dt.datetime
    user: str | None = "u1"
    score: float | None = None
    plan: str | None = None


def load_duckdb_store(
    path: Path,
    events: Sequence[Row],
    accounts: Mapping[str, Mapping[str, Any]] | None,
) -> Store:
    """Create a DuckDB store at ``path`` holding ``events`` and ``accounts``."""
    store = Store.open(path)
    raw = store.raw
    for name, (column, sql_type) in PROPERTY_COLUMNS.items():
        raw.execute(f"ALTER TABLE events ADD COLUMN {column} {sql_type}")
        raw.execute(
            "INSERT INTO _properties VALUES (?, ?, ?)", [name, column, sql_type]
        )
    frame = pd.DataFrame(
        {
            "account_id": [e.account for e in events],
            "user_id": pd.Series([e.user for e in events], dtype="object"),
            "event": [e.event for e in events],
            "ts": pd.Series([e.ts for e in events], dtype="datetime64[us]"),
            "_seq": pd.Series(range(1, len(events) + 1), dtype="int64"),
            "p_score": pd.Series([e.score for e in events], dtype="float64"),
            "p_plan": pd.Series([e.plan for e in events], dtype="object"),
        }
    )
    raw.register("new_events", frame)
    raw.execute("INSERT INTO events BY NAME SELECT * FROM new_events")
    raw.unregister("new_events")
    if accounts is not None:
        raw.register("new_accounts", _accounts_frame(accounts))
        raw.execute("CREATE TABLE accounts AS SELECT * FROM new_accounts")
        raw.unregister("new_accounts")
    return store


def _accounts_frame(accounts: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    identifiers = list(accounts)
    columns: dict[str, pd.Series] = {
        "account_id": pd.Series(identifiers, dtype="object")
    }
    for name in ACCOUNT_TIME_COLUMNS:
        values = [accounts[key].get(name) for key in identifiers]
        columns[name] = pd.Series(values, dtype="datetime64[us]")
    columns["plan"] = pd.Series(
        [accounts[k].get("plan") for k in identifiers], dtype="object"
    )
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
) -> Config:
    """Validate a jalon.toml built from the given sections; default start ``signup_at``."""
    raw: dict[str, Any] = {
        "project": {"timezone": "UTC"},
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


@dataclass(frozen=True)
class EngineOutput:
    """What one engine computed: the per-account table, life tables, exclusions."""

    accounts: pd.DataFrame
    life_tables: dict[str, pd.DataFrame]
    kaplan_meier: dict[str, pd.DataFrame]
    account_exclusions: dict[str, int]
    event_exclusions: dict[str, int]

    def cell(self, account: str, column: str) -> Any:
        """Return one per-account value, with missing values as None."""
        value = self.accounts.set_index("account_id").loc[account, column]
        if pd.isna(value):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if hasattr(value, "item") else value


def run_engine(store: Any, config: Config) -> EngineOutput:
    """Build the per-account table on ``store``'s engine, then its life tables.

    The per-account table is materialized once, as the analysis does, and
    every life table (overall and per segment) and in-engine Kaplan-Meier
    curve is computed from it.
    """
    events = store.events()
    end = observation_end(config, events, lambda expr: store.execute(expr).iloc[0, 0])
    built = build_account_table(
        config, events, store.accounts(), store.properties(), end
    )
    table = materialize(store, built.table, "_engine_test_accounts")
    accounts = normalized(store.execute(table), ["account_id"])

    # One query for every life table and one for every curve: each Spark job
    # costs seconds, whatever its size.
    parts, curves = [], []
    for milestone in config.milestones:
        days, status = f"m_{milestone.id}_days", f"m_{milestone.id}_status"
        for group in (None, *config.segments):
            key = f"{milestone.id}/{group or 'all'}"
            part = life_table_expr(table, days, status, group)
            parts.append(part.mutate(key=ibis.literal(key)))
        curve = kaplan_meier_expr(life_table_expr(table, days, status))
        curves.append(curve.mutate(key=ibis.literal(milestone.id)))
    life_tables = _split(store.execute(ibis.union(*parts)), ["group", "time"])
    kaplan_meier = _split(store.execute(ibis.union(*curves)), ["group", "time"])
    account_counts = store.execute(built.account_exclusions).iloc[0]
    event_counts = store.execute(built.event_exclusions).iloc[0]
    return EngineOutput(
        accounts=accounts,
        life_tables=life_tables,
        kaplan_meier=kaplan_meier,
        account_exclusions={k: int(v) for k, v in account_counts.items()},
        event_exclusions={k: int(v) for k, v in event_counts.items()},
    )


def _split(frame: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    """Split a union of tables by its ``key`` column, each normalized."""
    return {
        key: normalized(part.drop(columns="key"), keys)
        for key, part in frame.groupby("key", sort=True)
    }


def normalized(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sort by ``keys``, number rows from 0 and put columns in name order.

    Timestamps get the microsecond unit: DuckDB returns a column whose values
    are all null in nanoseconds and others in microseconds.
    """
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    for name in frame.columns:
        if pd.api.types.is_datetime64_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[us]")
    return frame[sorted(frame.columns)]
