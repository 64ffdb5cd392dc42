"""Counts recomputed from the written demo events, for jalon's results to match.

Unlike the latent truth, these figures describe the observed data only, so
jalon's funnel and cohort results must reproduce them exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jalon.demo import model


def funnel_reached(
    events: pd.DataFrame, steps: tuple[str, ...], window_days: float
) -> list[int]:
    """Count the accounts that reach each step of an ordered funnel.

    An account enters with its first event of ``steps[0]``. Each later step
    is the first event of that name after the previous step in row order, at
    most ``window_days`` after the entry (inclusive), and before the
    observation end. ``events`` has the columns ``account_id``, ``event``
    and ``timestamp`` (epoch seconds) and is sorted by time. Row order is
    then the ``(ts, _seq)`` order of the store, so a later row in the same
    second counts as after.

    Examples
    --------
    >>> events = pd.DataFrame({
    ...     "account_id": ["a", "a", "b", "b", "b"],
    ...     "event": ["in", "out", "in", "out", "out"],
    ...     "timestamp": [0, 90_000, 10, 5 * 86_400, 6 * 86_400],
    ... })
    >>> funnel_reached(events, ("in", "out"), window_days=2)
    [2, 1]
    """
    end_s = int(model.OBSERVATION_END.timestamp())
    window_s = window_days * model.SECONDS_PER_DAY
    rows = events.assign(row=np.arange(len(events)))

    entries = (
        rows[rows["event"] == steps[0]]
        .groupby("account_id", observed=True)["row"]
        .min()
    )
    entry_s = rows["timestamp"].to_numpy()[entries.to_numpy()]
    deadline = pd.Series(np.minimum(entry_s + window_s, end_s - 1), index=entries.index)
    previous = entries
    reached = [len(previous)]

    for step in steps[1:]:
        candidates = rows[
            (rows["event"] == step) & rows["account_id"].isin(previous.index)
        ]
        accounts = candidates["account_id"]
        after = candidates["row"].to_numpy() > previous.reindex(accounts).to_numpy()
        in_window = (
            candidates["timestamp"].to_numpy() <= deadline.reindex(accounts).to_numpy()
        )
        kept = candidates[after & in_window]
        previous = kept.groupby("account_id", observed=True)["row"].min()
        reached.append(len(previous))
    return reached


def monthly_cohorts(
    events: pd.DataFrame,
    accounts: pd.DataFrame,
    activity: tuple[str, ...],
    periods: int,
    churn_event: str = "subscription_cancelled",
) -> dict[str, dict[str, object]]:
    """Count accounts, active accounts and churns per calendar-month cohort.

    The cohort of an account is the UTC month of ``signup_at``. Period k is
    the k-th calendar month after it, for k below ``periods``. ``active[k]``
    counts the accounts with at least one ``activity`` event in period k,
    and ``churned[k]`` those whose ``churn_event`` falls in it. ``events``
    is as for :func:`funnel_reached` and ``accounts`` has ``account_id`` and
    ``signup_at`` (UTC).

    Examples
    --------
    >>> accounts = pd.DataFrame({
    ...     "account_id": ["a", "b"],
    ...     "signup_at": pd.to_datetime(["2025-01-31", "2025-02-01"], utc=True),
    ... })
    >>> events = pd.DataFrame({
    ...     "account_id": ["a", "a", "b"],
    ...     "event": ["login", "login", "quit"],
    ...     "timestamp": [1738368000, 1738371600, 1738454400],
    ... })
    >>> monthly_cohorts(events, accounts, ("login",), 2, churn_event="quit")
    {'2025-01': {'accounts': 1, 'active': [0, 1], 'churned': [0, 0]}, \
'2025-02': {'accounts': 1, 'active': [0, 0], 'churned': [1, 0]}}
    """
    signup = accounts["signup_at"].dt.tz_convert(None).to_numpy()
    cohort_month = pd.Series(
        signup.astype("datetime64[M]").astype(np.int64), index=accounts["account_id"]
    )
    sizes = cohort_month.value_counts().sort_index()

    def counts_by_period(names: tuple[str, ...]) -> pd.DataFrame:
        chosen = events[events["event"].isin(names)]
        month = (
            chosen["timestamp"]
            .to_numpy()
            .astype("datetime64[s]")
            .astype("datetime64[M]")
        )
        cells = pd.DataFrame(
            {
                "account_id": chosen["account_id"].astype(str).to_numpy(),
                "month": month.astype(np.int64),
            }
        ).drop_duplicates()
        cells["cohort"] = cohort_month.reindex(cells["account_id"]).to_numpy()
        cells["period"] = cells["month"] - cells["cohort"]
        cells = cells[(cells["period"] >= 0) & (cells["period"] < periods)]
        table = cells.groupby(["cohort", "period"]).size().unstack(fill_value=0)
        return table.reindex(index=sizes.index, columns=range(periods), fill_value=0)

    active = counts_by_period(activity)
    churned = counts_by_period((churn_event,))
    result = {}
    for cohort, size in sizes.items():
        label = str(np.datetime64(int(cohort), "M"))
        result[label] = {
            "accounts": int(size),
            "active": [int(n) for n in active.loc[cohort]],
            "churned": [int(n) for n in churned.loc[cohort]],
        }
    return result


def behaviour_scores(
    events: pd.DataFrame,
    accounts: pd.DataFrame,
    window_days: float,
    horizon_days: float,
    max_count: int = 3,
    churn_event: str = "subscription_cancelled",
) -> list[dict[str, object]]:
    """Score early behaviours against retention, best phi first.

    A behaviour is "did event X at least k times within ``window_days`` of
    sign-up (inclusive)", for every event name and k from 1 to ``max_count``.
    Retained means no ``churn_event`` within ``horizon_days`` of sign-up.
    Only accounts that signed up at least ``horizon_days`` before the
    observation end are scored. Each entry has ``event``, ``min_count``,
    ``phi`` (the correlation of the two yes/no variables), ``reach``
    (share doing it), ``precision`` (P(retained | did it)) and ``lift``
    (precision over the retention rate). Behaviours that every scored account
    does, or none, have no phi and are left out.
    """
    end_s = int(model.OBSERVATION_END.timestamp())
    signup = accounts["signup_at"].dt.tz_convert(None).to_numpy()
    signup_s = signup.astype("datetime64[s]").astype(np.int64)
    scored = signup_s <= end_s - horizon_days * model.SECONDS_PER_DAY

    # Integer account positions keep the per-event work vectorised.
    id_codes, id_values = pd.factorize(events["account_id"])
    position = pd.Index(accounts["account_id"]).get_indexer(
        np.asarray(id_values, dtype=object)
    )
    account = position[id_codes]
    since = events["timestamp"].to_numpy() - signup_s[account]
    horizon_s = horizon_days * model.SECONDS_PER_DAY
    churn_rows = (events["event"] == churn_event).to_numpy() & (since <= horizon_s)
    churned = np.zeros(len(accounts), dtype=bool)
    churned[account[churn_rows]] = True
    retained = ~churned[scored]

    event_code, names = pd.factorize(events["event"], sort=True)
    early = (since <= window_days * model.SECONDS_PER_DAY) & scored[account]
    cells = event_code[early] * len(accounts) + account[early]
    counts = np.bincount(cells, minlength=names.size * len(accounts))
    counts = counts.reshape(names.size, len(accounts))[:, scored]

    scores = []
    for name, per_account in zip(names, counts):
        for min_count in range(1, max_count + 1):
            entry = _score(per_account >= min_count, retained)
            if entry is not None:
                scores.append({"event": str(name), "min_count": min_count, **entry})
    return sorted(scores, key=lambda e: (-e["phi"], e["event"], e["min_count"]))


def _score(did: np.ndarray, retained: np.ndarray) -> dict[str, float] | None:
    both = float(np.sum(did & retained))
    did_only = float(np.sum(did & ~retained))
    retained_only = float(np.sum(~did & retained))
    neither = float(np.sum(~did & ~retained))
    denominator = (both + did_only) * (retained_only + neither) * (both + retained_only)
    denominator *= did_only + neither
    if denominator == 0:
        return None
    phi = (both * neither - did_only * retained_only) / np.sqrt(denominator)
    precision = both / (both + did_only)
    return {
        "phi": float(phi),
        "reach": float(np.mean(did)),
        "precision": precision,
        "lift": precision / float(np.mean(retained)),
    }
