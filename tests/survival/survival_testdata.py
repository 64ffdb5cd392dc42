"""Data builders shared by the survival tests.

They build life tables with plain pandas, independently of
``jalon.survival.life_table``, and expand life tables back to one row per
account for the reference libraries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).parents[2] / ".." / "shared" / "data"


def table(rows: list[tuple], group: str = "all") -> pd.DataFrame:
    """Build a life table from ``(time, n_event, n_competing, n_censored)`` rows."""
    frame = pd.DataFrame(rows, columns=["time", "n_event", "n_competing", "n_censored"])
    frame.insert(0, "group", group)
    return frame.astype({"time": "float64"})


def random_accounts(
    seed: int, n_accounts: int, max_day: int = 60, groups: tuple[str, ...] = ("all",)
) -> pd.DataFrame:
    """Draw accounts with whole-day times (many ties) and random outcomes.

    Status 1 (reached) has probability 0.5, 2 (churned first) 0.2 and 0
    (censored) 0.3. Group ``i`` has times scaled by ``1 + i / 2`` so that the
    groups differ.
    """
    rng = np.random.default_rng(seed)
    group_index = rng.integers(0, len(groups), n_accounts)
    base = rng.integers(0, max_day + 1, n_accounts)
    days = np.floor(base * (1 + group_index / 2)).astype(float)
    status = rng.choice([1, 2, 0], size=n_accounts, p=[0.5, 0.2, 0.3])
    return pd.DataFrame(
        {
            "group": np.array(groups)[group_index],
            "days": days,
            "status": status,
        }
    )


def pandas_life_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """Collapse per-account rows to a life table with a pandas groupby."""
    counted = accounts.assign(
        n_event=(accounts["status"] == 1).astype("int64"),
        n_competing=(accounts["status"] == 2).astype("int64"),
        n_censored=(accounts["status"] == 0).astype("int64"),
    )
    summed = counted.groupby(["group", "days"], as_index=False)[
        ["n_event", "n_competing", "n_censored"]
    ].sum()
    return summed.rename(columns={"days": "time"}).astype({"time": "float64"})


def expand(life_table: pd.DataFrame) -> pd.DataFrame:
    """Expand a life table to one row per account: group, time, status."""
    parts = []
    for status, column in ((1, "n_event"), (2, "n_competing"), (0, "n_censored")):
        repeats = life_table[column].to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "group": np.repeat(life_table["group"].to_numpy(), repeats),
                    "time": np.repeat(life_table["time"].to_numpy(), repeats),
                    "status": status,
                }
            )
        )
    expanded = pd.concat(parts, ignore_index=True)
    return expanded.sort_values(["group", "time", "status"], kind="mergesort")


def weighted_rows(life_table: pd.DataFrame) -> pd.DataFrame:
    """Turn a life table into weighted rows: time, observed (0/1), weight.

    Competing events count as censoring. Rows of weight 0 are dropped.
    """
    events = pd.DataFrame(
        {
            "group": life_table["group"],
            "time": life_table["time"],
            "observed": 1,
            "weight": life_table["n_event"],
        }
    )
    others = pd.DataFrame(
        {
            "group": life_table["group"],
            "time": life_table["time"],
            "observed": 0,
            "weight": life_table["n_competing"] + life_table["n_censored"],
        }
    )
    rows = pd.concat([events, others], ignore_index=True)
    return rows[rows["weight"] > 0].reset_index(drop=True)
