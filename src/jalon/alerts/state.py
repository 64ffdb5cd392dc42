"""Which late accounts each destination has already received (a SQLite file).

A row ``(account_id, milestone, destination)`` with status ``late`` means the
destination received that account for that milestone. When the account stops
being late (it reached the milestone, churned, or the expected time moved),
the row's status changes, so the account is alerted again if it becomes late
again later.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Self

logger = logging.getLogger(__name__)

STATUS_LATE = "late"
STATUS_CLEARED = "cleared"
LOCK_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerted (
    account_id TEXT NOT NULL,
    milestone TEXT NOT NULL,
    destination TEXT NOT NULL,
    status TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (account_id, milestone, destination)
)
"""

Pair = tuple[str, str]


class AlertState:
    """The alerted (account, milestone, destination) rows of one project."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = sqlite3.connect(
            path, timeout=LOCK_TIMEOUT_S, check_same_thread=False
        )
        self._con.execute(SCHEMA)
        self._con.commit()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def alerted(self, destination: str) -> set[Pair]:
        """Return the (account, milestone) pairs already sent to ``destination`` as late."""
        rows = self._con.execute(
            "SELECT account_id, milestone FROM alerted WHERE destination = ? AND status = ?",
            (destination, STATUS_LATE),
        ).fetchall()
        return {(account, milestone) for account, milestone in rows}

    def mark_late(self, destination: str, pairs: Iterable[Pair]) -> None:
        """Record that ``destination`` received ``pairs``."""
        now = _now()
        with self._con:
            self._con.executemany(
                "INSERT INTO alerted VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, milestone, destination) "
                "DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
                [
                    (account, milestone, destination, STATUS_LATE, now)
                    for account, milestone in pairs
                ],
            )

    def clear_except(self, late: set[Pair]) -> int:
        """Mark as cleared every late row whose pair is no longer late; return how many."""
        rows = self._con.execute(
            "SELECT account_id, milestone FROM alerted WHERE status = ?", (STATUS_LATE,)
        ).fetchall()
        cleared = [pair for pair in set(rows) if pair not in late]
        now = _now()
        with self._con:
            self._con.executemany(
                "UPDATE alerted SET status = ?, changed_at = ? "
                "WHERE account_id = ? AND milestone = ? AND status = ?",
                [
                    (STATUS_CLEARED, now, account, milestone, STATUS_LATE)
                    for account, milestone in cleared
                ],
            )
        if cleared:
            logger.info(
                "%d (account, milestone) pairs are no longer late", len(cleared)
            )
        return len(cleared)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
