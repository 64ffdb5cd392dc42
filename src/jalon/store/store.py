"""The DuckDB store: opening, locking and read access for the analysis packages.

Column contract (see also :mod:`jalon.store.schema`):

* ``events``: ``account_id``, ``user_id``, ``event``, ``ts`` (TIMESTAMP in
  UTC), ``event_id``, ``_seq`` (unique and increasing: file order, then row
  order), ``_file_id``, ``_row`` (1-based data row of its file, header
  excluded), then one ``p_<name>`` column per property.
* ``_exclusions.first_row``: the row number as error messages give it, so the
  header line of a CSV file is row 1 and the first data row is row 2.
  NOTE: it counts records, so blank lines and quoted line breaks before the
  row make it smaller than the line number; error messages give the line.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import ibis
import pandas as pd

from jalon.errors import N_, StoreError
from jalon.store import schema

logger = logging.getLogger(__name__)

#: Pauses before each new attempt of a read-only open on a locked file, seconds.
READ_ONLY_RETRY_DELAYS_S = (0.1, 0.2, 0.4, 0.8, 1.6)

_LOCK_MESSAGE = "Could not set lock on file"
_PID_PATTERN = re.compile(r"PID (\d+)")


class Store:
    """An open store: an Ibis DuckDB backend plus the load bookkeeping tables.

    Use :meth:`open`; the store is a context manager that closes on exit.

    >>> import tempfile
    >>> with Store.open(Path(tempfile.mkdtemp()) / "store.duckdb") as store:
    ...     store.event_bounds()
    (None, None)
    """

    def __init__(self, con: Any, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(
        cls, path: Path, read_only: bool = False, memory_limit: str | None = None
    ) -> Store:
        """Open the store at ``path``, creating the file and its tables when missing.

        Parameters
        ----------
        path
            The DuckDB file, usually ``.jalon/store.duckdb`` beside jalon.toml.
        read_only
            Open without write access. A read-only open of a file locked by
            another process is retried for about 3 s before it fails.
        memory_limit
            DuckDB's ``memory_limit`` for this connection, such as ``"4GB"``
            (``project.memory_limit``). Above it DuckDB spills to a temporary
            folder beside the store; by default it may use 80 % of the RAM.

        Raises
        ------
        StoreError
            ``store.not_found`` when a read-only open finds no file,
            ``store.locked`` when another process has the file open,
            ``store.in_use`` when this process already has it open in the
            other mode, ``store.open_failed`` for any other engine error.
        """
        path = Path(path).absolute()
        if read_only and not path.exists():
            raise StoreError(
                "store.not_found",
                N_("The store {path} does not exist. Run `jalon load` first."),
                path=str(path),
            )
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)

        raw = _connect_with_retry(path, read_only)
        # DuckDB draws a progress bar on stderr for long queries; the CLI has its own.
        raw.execute("SET enable_progress_bar = false")
        if memory_limit is not None:
            raw.execute("SET memory_limit = ?", [memory_limit])
        if not read_only:
            _create_tables(raw)
        logger.debug("opened store %s (read_only=%s)", path, read_only)
        return cls(ibis.duckdb.from_connection(raw), path, read_only)

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        self.con.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection, for loading code that needs SQL."""
        return self.con.con

    def events(self) -> ibis.Table:
        """Return the events table as an Ibis expression."""
        return self.con.table(schema.EVENTS)

    def accounts(self) -> ibis.Table | None:
        """Return the accounts table, or ``None`` when no accounts file was loaded."""
        # NOTE: Ibis 12's list_tables() calls a method DuckDB 2.0 removed, so
        # the catalog is read directly.
        found = schema.fetch_row(
            self.raw,
            "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND database_name = "
            "current_database()",
            [schema.ACCOUNTS],
        )
        if found is None:
            return None
        return self.con.table(schema.ACCOUNTS)

    def properties(self) -> dict[str, str]:
        """Return the property names of the config mapped to their events columns."""
        rows = self.raw.execute(
            f"SELECT name, column_name FROM {schema.PROPERTIES} ORDER BY name"
        ).fetchall()
        return dict(rows)

    def execute(self, expr: ibis.Expr) -> pd.DataFrame:
        """Run an Ibis expression and return a DataFrame, whatever its shape."""
        if not isinstance(expr, ibis.Table):
            expr = expr.as_table()
        return self.con.execute(expr)

    def files(self) -> pd.DataFrame:
        """Return the loaded files, one row each, ordered by ``file_id``."""
        return self.raw.execute(f"SELECT * FROM {schema.FILES} ORDER BY file_id").df()

    def exclusions(self) -> pd.DataFrame:
        """Return rows left out at load, summed by reason across files.

        Columns: ``reason``, ``rows``, then ``path``, ``first_row`` and
        ``example`` of the first occurrence (lowest file id, then row).
        """
        query = f"""
            SELECT x.reason,
                   sum(x.rows)::BIGINT AS rows,
                   arg_min(f.path, (x.file_id, x.first_row)) AS path,
                   arg_min(x.first_row, (x.file_id, x.first_row)) AS first_row,
                   arg_min(x.example, (x.file_id, x.first_row)) AS example
            FROM {schema.EXCLUSIONS} AS x
            LEFT JOIN {schema.FILES} AS f USING (file_id)
            GROUP BY x.reason
            ORDER BY x.reason
        """
        return self.raw.execute(query).df()

    def event_bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Return the earliest and latest event timestamps (UTC), or two ``None``."""
        row = schema.fetch_row(
            self.raw, f"SELECT min(ts), max(ts) FROM {schema.EVENTS}"
        )
        return (row[0], row[1])

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.path)!r}, {mode})"


def _connect_with_retry(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    delays = READ_ONLY_RETRY_DELAYS_S if read_only else ()
    for attempt in range(len(delays) + 1):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if _LOCK_MESSAGE not in str(error):
                raise _open_failed(path, error) from error
            if attempt == len(delays):
                raise _locked(path, read_only, error) from error
            logger.info(
                "store %s is locked by another process, retrying in %.1f s",
                path,
                delays[attempt],
            )
            time.sleep(delays[attempt])
        except duckdb.ConnectionException as error:
            raise _in_use(path, read_only) from error
        except duckdb.Error as error:
            raise _open_failed(path, error) from error
    raise AssertionError("unreachable")


def _locked(path: Path, read_only: bool, error: Exception) -> StoreError:
    match = _PID_PATTERN.search(str(error))
    pid = match.group(1) if match else "?"
    if read_only:
        template = N_(
            "Cannot read the store {path}: process {pid} has it open for writing "
            "(an ingest or the dashboard). Wait for it to finish or stop it, then "
            "retry."
        )
    else:
        template = N_(
            "Cannot write to the store {path}: process {pid} has it open (an "
            "ingest, a report or the dashboard). Stop that process, then retry."
        )
    return StoreError("store.locked", template, path=str(path), pid=pid)


def _in_use(path: Path, read_only: bool) -> StoreError:
    if read_only:
        template = N_(
            "The store {path} is already open for writing in this process. Close "
            "it before opening it read-only."
        )
    else:
        template = N_(
            "The store {path} is already open read-only in this process. Close it "
            "before opening it for writing."
        )
    return StoreError("store.in_use", template, path=str(path))


def _open_failed(path: Path, error: Exception) -> StoreError:
    return StoreError(
        "store.open_failed",
        N_("Cannot open the store {path}: {detail}"),
        path=str(path),
        detail=str(error),
    )


def _create_tables(raw: duckdb.DuckDBPyConnection) -> None:
    for statement in schema.CREATE_STATEMENTS:
        raw.execute(statement)
    # A store created by other code may lack the column this package added.
    raw.execute(
        f"ALTER TABLE {schema.EVENTS} ADD COLUMN IF NOT EXISTS event_id VARCHAR"
    )
    version = schema.fetch_row(
        raw, f"SELECT value FROM {schema.META} WHERE key = 'schema_version'"
    )
    if version is None:
        raw.execute(
            f"INSERT INTO {schema.META} VALUES ('schema_version', ?)",
            [schema.SCHEMA_VERSION],
        )
