"""Move spooled API messages into the project's DuckDB store.

DuckDB lets one process write a database file at a time, and the CLI must be
able to open the store while the server runs. The server therefore opens the
store only for the length of a drain (before an analysis refresh and on a
timer) and keeps everything it acknowledged in its SQLite spool meanwhile.

A drain reads spool rows past the last drained ``rowid``, commits them into
DuckDB, then records the new position in the spool. After a crash between
these two commits, the next drain sends the same rows again. The store skips
event ids it already holds, so every event lands exactly once.

``track`` calls become rows of ``events`` (``event_id`` = ``messageId``);
``group`` traits update the ``accounts`` row of the group, adding a column
per new trait. ``identify`` traits go to a ``users`` table (``user_key``,
``user_id``, ``anonymous_id``, ``account_id``, ``traits`` as JSON text), one
row per user, rewritten when the user's traits or account change.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import duckdb

from jalon.errors import StoreError
from jalon.store import Store
from jalon.web import spool
from jalon.web.project import ProjectContext
from jalon.web.store_writer import (
    EVENT_COLUMNS,
    append_spool_events,
    upsert_accounts,
    upsert_users,
)

logger = logging.getLogger(__name__)

# Rows moved per DuckDB transaction; bounds the memory of one drain step.
DRAIN_CHUNK_ROWS = 50_000
DRAIN_THREADS = 1


def _append_or_isolate(
    store: Any, spool_db: sqlite3.Connection, rows: list[tuple]
) -> int:
    """Append ``rows``; when the chunk fails, append row by row and set failures aside.

    A row the store rejects would otherwise block every later drain. Rejected
    rows stay in the spool and are listed in ``drain_failures`` with the error.
    """
    try:
        return append_spool_events(store, [row[1:] for row in rows])
    except (duckdb.Error, ValueError, TypeError):
        logger.exception(
            "drain of %d events failed; retrying them one by one", len(rows)
        )
    inserted = 0
    for row in rows:
        try:
            inserted += append_spool_events(store, [row[1:]])
        except (duckdb.Error, ValueError, TypeError) as error:
            spool.record_drain_failure(spool_db, row[1], repr(error))
            logger.error("event %s cannot be moved into the store: %r", row[1], error)
    return inserted


def _drain_events(store: Any, spool_db: sqlite3.Connection) -> int:
    inserted = 0
    while True:
        after = spool.drained_up_to(spool_db, "events")
        rows = spool.fetch_since(
            spool_db, "events", EVENT_COLUMNS, after, DRAIN_CHUNK_ROWS
        )
        if not rows:
            return inserted
        inserted += _append_or_isolate(store, spool_db, rows)
        spool.mark_drained(spool_db, "events", rows[-1][0])


def _drain_traits(
    connection: duckdb.DuckDBPyConnection, spool_db: sqlite3.Connection
) -> int:
    after = spool.drained_up_to(spool_db, "trait_messages")
    last = spool_db.execute(
        "SELECT coalesce(max(rowid), 0) FROM trait_messages"
    ).fetchone()[0]
    if last <= after:
        return 0

    changed = spool_db.execute(
        "SELECT DISTINCT account_id FROM trait_messages WHERE rowid > ? AND rowid <= ?"
        " AND type = 'group'",
        (after, last),
    ).fetchall()
    accounts = {}
    for (account_id,) in changed:
        traits = spool_db.execute(
            "SELECT traits FROM accounts WHERE account_id = ?", (account_id,)
        ).fetchone()
        accounts[account_id] = json.loads(traits[0]) if traits else {}
    upsert_accounts(connection, accounts)

    # Only users named by the new trait messages changed: identify calls set
    # their traits, group calls their account.
    users = spool_db.execute(
        "SELECT u.user_key, u.user_id, u.anonymous_id, m.account_id, u.traits"
        " FROM users AS u LEFT JOIN memberships AS m USING (user_key)"
        " WHERE u.user_key IN (SELECT user_key FROM trait_messages"
        " WHERE rowid > ? AND rowid <= ?) ORDER BY u.user_key",
        (after, last),
    ).fetchall()
    upsert_users(connection, users)

    spool.mark_drained(spool_db, "trait_messages", last)
    return last - after


def drain_spool(store: Any, spool_path: Path) -> int:
    """Move events and traits not yet drained from the spool into ``store``.

    Parameters
    ----------
    store
        A :class:`jalon.store.Store` opened with write access.
    spool_path
        The project's ``spool.sqlite``.

    Returns
    -------
    Number of events inserted into ``events`` (events already in the store
    under the same id are skipped and not counted).
    """
    spool_db = spool.connect(spool_path)
    try:
        inserted = _drain_events(store, spool_db)
        _drain_traits(store.raw, spool_db)
    finally:
        spool_db.close()
    if inserted:
        logger.info("drained %d events from %s", inserted, spool_path)
    return inserted


def drain_project(project: ProjectContext) -> int | None:
    """Open the project's store, drain the spool into it and close it again.

    Returns
    -------
    Events inserted, or None when the store is locked by another process;
    the spooled messages then wait for the next drain.
    """
    if not project.spool_path.exists():
        return 0
    # Leave the store file alone when there is nothing to move, so that
    # the CLI rarely meets the server's lock.
    spool_db = spool.connect(project.spool_path)
    try:
        if not spool.has_pending(spool_db):
            return 0
    finally:
        spool_db.close()
    try:
        store = Store.open(project.store_path)
    except StoreError as error:
        logger.warning("store %s not drained now: %s", project.store_path, error)
        return None
    try:
        # One DuckDB thread: the drain runs beside the server, which needs
        # the other cores for requests more than the drain needs speed.
        store.raw.execute(f"SET threads = {DRAIN_THREADS}")
        return drain_spool(store, project.spool_path)
    finally:
        store.close()
