"""Durable spool of the ingest API: SQLite in WAL mode with ``synchronous=FULL``.

The server sends a 2xx only after the transaction holding a request's
messages has committed. With ``synchronous=FULL`` SQLite fsyncs the WAL at
every commit, so an acknowledged message survives the process being killed
right after the response, and a power loss as far as the disk honours fsync.
``messageId`` is a unique column of both message tables, so a resent message
is skipped.

One writer thread owns the write connection and commits the requests queued
since its last commit in one transaction (group commit): concurrent clients
share one fsync instead of waiting for one each. A savepoint per request
keeps requests apart, so a batch is stored whole or not at all.

Rows are never deleted: the drain (:mod:`jalon.web.drain`) remembers the
last ``rowid`` it moved into the DuckDB store in ``drain_state``.

NOTE: the spool therefore grows with every message, by 187 bytes per track
call with two short properties (ids and indexes included, measured on 20,000
events). Deduplication by ``messageId`` relies on the old rows, and no
pruning exists yet.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jalon.web.messages import NormalizedBatch

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
# Upper bound of requests folded into one commit, to bound the latency of the
# first request of a group.
MAX_REQUESTS_PER_COMMIT = 256

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    message_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    user_id TEXT,
    anonymous_id TEXT,
    event TEXT NOT NULL,
    ts TEXT NOT NULL,
    properties TEXT NOT NULL,
    received_at TEXT NOT NULL,
    key_id TEXT
);
CREATE INDEX IF NOT EXISTS events_account ON events (account_id);
CREATE TABLE IF NOT EXISTS trait_messages (
    message_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    user_key TEXT NOT NULL,
    user_id TEXT,
    anonymous_id TEXT,
    account_id TEXT,
    traits TEXT NOT NULL,
    ts TEXT NOT NULL,
    received_at TEXT NOT NULL,
    key_id TEXT
);
CREATE TABLE IF NOT EXISTS users (
    user_key TEXT PRIMARY KEY,
    user_id TEXT,
    anonymous_id TEXT,
    traits TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    traits TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    user_key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drain_failures (
    message_id TEXT PRIMARY KEY,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drain_state (
    name TEXT PRIMARY KEY,
    last_rowid INTEGER NOT NULL
);
"""

# ON CONFLICT (message_id) skips resent messages only; unlike INSERT OR IGNORE
# it still raises on a NOT NULL violation.
EVENT_FIELDS = 9
# Rows per multi-row INSERT: 400 rows of 9 values stay far below SQLite's
# limit of 32,766 bound parameters.
EVENT_ROWS_PER_STATEMENT = 400
INSERT_TRAIT_MESSAGE = (
    "INSERT INTO trait_messages (message_id, type, user_key, user_id,"
    " anonymous_id, account_id, traits, ts, received_at, key_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING"
)
# RFC 7396 merge: a trait sent as null is removed, others replace older values.
UPSERT_USER = (
    "INSERT INTO users (user_key, user_id, anonymous_id, traits, updated_at)"
    " VALUES (?, ?, ?, json_patch('{}', ?), ?) ON CONFLICT (user_key) DO UPDATE SET"
    " traits = json_patch(users.traits, excluded.traits),"
    " user_id = coalesce(excluded.user_id, users.user_id),"
    " anonymous_id = coalesce(excluded.anonymous_id, users.anonymous_id),"
    " updated_at = excluded.updated_at"
)
UPSERT_ACCOUNT = (
    "INSERT INTO accounts (account_id, traits, updated_at)"
    " VALUES (?, json_patch('{}', ?), ?) ON CONFLICT (account_id) DO UPDATE SET"
    " traits = json_patch(accounts.traits, excluded.traits),"
    " updated_at = excluded.updated_at"
)
UPSERT_MEMBERSHIP = (
    "INSERT INTO memberships (user_key, account_id, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (user_key) DO UPDATE SET account_id = excluded.account_id,"
    " updated_at = excluded.updated_at"
)


def connect(path: Path) -> sqlite3.Connection:
    """Open the spool at ``path`` in WAL mode with full fsync, creating it if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(SCHEMA)
    return connection


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one request: messages newly stored and messages already there."""

    stored: int
    duplicates: int


def _apply_traits(connection: sqlite3.Connection, row: tuple) -> None:
    _, kind, identity, user_id, anonymous_id, account, traits, _, received, _ = row
    if kind == "identify":
        connection.execute(
            UPSERT_USER, (identity, user_id, anonymous_id, traits, received)
        )
    else:
        connection.execute(UPSERT_ACCOUNT, (account, traits, received))
    if account is not None:
        connection.execute(UPSERT_MEMBERSHIP, (identity, account, received))


@functools.cache
def _insert_events_sql(rows: int) -> str:
    values = ", ".join(["(" + ", ".join(["?"] * EVENT_FIELDS) + ")"] * rows)
    return (
        "INSERT INTO events (message_id, account_id, user_id, anonymous_id, event, ts,"
        f" properties, received_at, key_id) VALUES {values}"
        " ON CONFLICT (message_id) DO NOTHING"
    )


def _insert_events(connection: sqlite3.Connection, events: list[tuple]) -> int:
    """Insert event rows with one statement per chunk; return the rows inserted.

    ``executemany`` releases and retakes the interpreter lock around every
    row, and a multi-row statement does so once per chunk.
    """
    inserted = 0
    for start in range(0, len(events), EVENT_ROWS_PER_STATEMENT):
        chunk = events[start : start + EVENT_ROWS_PER_STATEMENT]
        parameters = [value for row in chunk for value in row]
        inserted += connection.execute(
            _insert_events_sql(len(chunk)), parameters
        ).rowcount
    return inserted


def write_batch(connection: sqlite3.Connection, batch: NormalizedBatch) -> WriteResult:
    """Insert the rows of one request; the caller owns the transaction."""
    stored = 0
    if batch.events:
        stored += _insert_events(connection, batch.events)
    for row in batch.traits:
        cursor = connection.execute(INSERT_TRAIT_MESSAGE, row)
        if cursor.rowcount == 1:
            stored += 1
            _apply_traits(connection, row)
    return WriteResult(stored=stored, duplicates=batch.size - stored)


def load_memberships(connection: sqlite3.Connection) -> dict[str, str]:
    """Return the current account of every user identity known to the spool."""
    rows = connection.execute("SELECT user_key, account_id FROM memberships")
    return dict(rows.fetchall())


class SpoolWriter:
    """Thread committing queued requests to the spool, several per transaction.

    ``memberships`` mirrors the spool's ``memberships`` table. The writer
    updates it after each commit, so the account lookup of the next request
    finds a ``group`` call as soon as the client has its acknowledgement.
    """

    def __init__(self, path: Path) -> None:
        self._connection = connect(path)
        self.memberships: dict[str, str] = load_memberships(self._connection)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name="spool-writer", daemon=True
        )
        self._thread.start()

    def submit(self, batch: NormalizedBatch) -> concurrent.futures.Future:
        """Queue ``batch``; the future resolves to a :class:`WriteResult` after commit."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((batch, future))
        return future

    def close(self) -> None:
        """Commit what is queued, stop the thread and close the connection."""
        self._queue.put(None)
        self._thread.join()
        self._connection.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending = [first]
            stop = False
            while len(pending) < MAX_REQUESTS_PER_COMMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                pending.append(item)
            self._commit(pending)
            if stop:
                return

    def _commit(
        self, pending: list[tuple[NormalizedBatch, concurrent.futures.Future]]
    ) -> None:
        results: list[WriteResult | BaseException] = []
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            for batch, _ in pending:
                results.append(self._write_one(batch))
            self._connection.execute("COMMIT")
        except Exception as error:
            # Any failure, not only SQLite's, must resolve the futures: a
            # request waiting on an unresolved future would hang forever.
            logger.exception("spool commit of %d requests failed", len(pending))
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            for _, future in pending:
                future.set_exception(error)
            return
        for (batch, future), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                future.set_exception(result)
                continue
            self.memberships.update(batch.memberships)
            future.set_result(result)

    def _write_one(self, batch: NormalizedBatch) -> WriteResult | BaseException:
        self._connection.execute("SAVEPOINT request")
        try:
            result = write_batch(self._connection, batch)
        except (sqlite3.Error, ValueError, TypeError) as error:
            logger.exception("spool write of one request failed; it is rolled back")
            self._connection.execute("ROLLBACK TO request")
            self._connection.execute("RELEASE request")
            return error
        self._connection.execute("RELEASE request")
        return result


def spool_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Return the number of events in the spool and of those not yet drained.

    Rows are never deleted and rolled-back inserts free their rowids, so the
    rowids of ``events`` run from 1 without gaps and ``max(rowid)`` is the
    count, read in constant time.
    """
    total = connection.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[
        0
    ]
    return {"events": total, "pending": total - drained_up_to(connection, "events")}


def fetch_since(
    connection: sqlite3.Connection,
    table: str,
    columns: Iterable[str],
    after: int,
    limit: int,
) -> list[tuple]:
    """Return up to ``limit`` rows of ``table`` with ``rowid > after``, rowid first."""
    names = ", ".join(columns)
    return connection.execute(
        f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
        (after, limit),
    ).fetchall()


def drained_up_to(connection: sqlite3.Connection, name: str) -> int:
    """Return the last rowid of ``name`` moved into the store (0 when none)."""
    row = connection.execute(
        "SELECT last_rowid FROM drain_state WHERE name = ?", (name,)
    ).fetchone()
    return row[0] if row else 0


def mark_drained(connection: sqlite3.Connection, name: str, last_rowid: int) -> None:
    """Record that rows of ``name`` up to ``last_rowid`` are in the store."""
    connection.execute(
        "INSERT INTO drain_state (name, last_rowid) VALUES (?, ?) ON CONFLICT (name)"
        " DO UPDATE SET last_rowid = max(last_rowid, excluded.last_rowid)",
        (name, last_rowid),
    )


def record_drain_failure(
    connection: sqlite3.Connection, message_id: str, error: str
) -> None:
    """Record that the store rejected the event ``message_id``, with the error text."""
    connection.execute(
        "INSERT INTO drain_failures (message_id, error) VALUES (?, ?) ON CONFLICT"
        " (message_id) DO UPDATE SET error = excluded.error",
        (message_id, error),
    )


def has_pending(connection: sqlite3.Connection) -> bool:
    """Return whether events or traits wait to be drained into the store."""
    for table in ("events", "trait_messages"):
        last = connection.execute(
            f"SELECT coalesce(max(rowid), 0) FROM {table}"
        ).fetchone()[0]
        if last > drained_up_to(connection, table):
            return True
    return False
