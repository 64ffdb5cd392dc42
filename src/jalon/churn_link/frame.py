"""Bring the per-account columns the churn link needs to pandas.

Only the per-account table reaches pandas, one row per account, with the
observed follow-up computed in the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jalon.churn_link.settings import SECONDS_PER_DAY

logger = logging.getLogger(__name__)

Execute = Callable[[ir.Expr], pd.DataFrame]

#: Status codes of the per-account table.
STATUS_CENSORED = 0
STATUS_REACHED = 1
STATUS_CHURNED_FIRST = 2


def account_frame(
    accounts: ir.Table,
    milestone_ids: Sequence[str],
    segments: Sequence[str],
    execute: Execute,
    value_column: str | None = None,
) -> pd.DataFrame:
    """Return one row per account with churn, milestone and segment columns.

    Columns: ``account_id``, ``observed_days`` (days from start to the
    observation end), ``churn_days``, ``churn_status``, ``m_<id>_days`` and
    ``m_<id>_status`` per milestone (status as float, NaN for excluded), each
    segment as string and, when asked, ``value``. Rows are sorted by
    ``account_id`` so results do not depend on the engine's row order.
    """
    columns: dict[str, ir.Value] = {
        "account_id": accounts.account_id.cast("string"),
        "observed_days": (
            accounts.end_at.epoch_seconds() - accounts.start_at.epoch_seconds()
        ).cast("float64")
        / SECONDS_PER_DAY,
        "churn_days": accounts.churn_days.cast("float64"),
        "churn_status": accounts.churn_status.cast("int64"),
    }
    for milestone in milestone_ids:
        columns[f"m_{milestone}_days"] = accounts[f"m_{milestone}_days"].cast("float64")
        columns[f"m_{milestone}_status"] = accounts[f"m_{milestone}_status"].cast(
            "float64"
        )
    for segment in segments:
        columns[segment] = accounts[segment].cast("string").fill_null("(unknown)")
    if value_column is not None:
        columns["value"] = accounts[value_column].cast("float64")
    frame = execute(accounts.select(**columns).order_by("account_id"))
    frame = frame.reset_index(drop=True)
    frame["churn_status"] = frame["churn_status"].astype(np.int64)
    logger.info("churn link: %d accounts in pandas", len(frame))
    return frame
