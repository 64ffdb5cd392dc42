"""Counts recomputed from the written demo events, for jalon's results to match.

Unlike the latent truth, these figures describe the observed data only, so
jalon's funnel must reproduce them exactly.
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
