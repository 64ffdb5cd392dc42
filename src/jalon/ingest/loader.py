"""Incremental loading of a project's event and account files into the store.

A file is identified by its absolute path. A file never loaded is loaded,
and a file whose size, modification time and SHA-256 match the store is
skipped. A file whose content changed is reloaded, and its old rows are
deleted in the same transaction that loads the new ones. A file that fails
leaves the store as it was, because each file loads in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from jalon.errors import N_, InputError, StoreError
from jalon.ingest import files as file_tools
from jalon.ingest.accounts import load_accounts
from jalon.ingest.columns import resolve_event_mapping
from jalon.ingest.events import LoadCounts, describe_reason_counts, load_events
from jalon.ingest.readers import open_source
from jalon.ingest.spec import AccountSource, EventSource
from jalon.ingest.timestamps import check_timezone
from jalon.store import schema

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]

LOADED = "loaded"
UNCHANGED = "unchanged"
RELOADED = "reloaded"


@dataclass(frozen=True)
class FileLoad:
    """The outcome of one file in a load.

    ``status`` is ``"loaded"``, ``"unchanged"`` or ``"reloaded"``; for an
    unchanged file the counts are those recorded when it was loaded.
    """

    path: str
    kind: str
    status: str
    rows_read: int
    rows_loaded: int
    excluded: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestSummary:
    """Outcome of a load, with the store totals afterwards.

    ``events_total``, ``accounts_total`` and ``excluded`` count the whole
    store (every file ever loaded), not only the files of this run.
    """

    files: tuple[FileLoad, ...]
    events_total: int
    accounts_total: int
    excluded: dict[str, int]

    def __repr__(self) -> str:
        by_status = {status: 0 for status in (LOADED, RELOADED, UNCHANGED)}
        for load in self.files:
            by_status[load.status] += 1
        statuses = ", ".join(f"{count} {status}" for status, count in by_status.items())
        excluded = describe_reason_counts(self.excluded)
        noun = "file" if len(self.files) == 1 else "files"
        return (
            f"IngestSummary({len(self.files)} {noun}: {statuses}; store holds "
            f"{self.events_total} events and {self.accounts_total} accounts; "
            f"rows excluded: {excluded})"
        )


def load_project(
    store: object,
    events: EventSource,
    accounts: AccountSource | None,
    base_dir: Path,
    timezone: str = "UTC",
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Load new and changed event and account files into ``store``.

    Parameters
    ----------
    store
        A :class:`jalon.store.Store` opened with write access.
    events, accounts
        The input specs from jalon.toml; ``accounts`` may be ``None``.
    base_dir
        Folder that relative paths start from (the folder of jalon.toml).
    timezone
        IANA zone of timestamps written without an offset.
    progress
        Called after each file as ``progress(path, files_done, files_total)``.

    Returns
    -------
    IngestSummary
        One :class:`FileLoad` per file found, and the store totals.

    Raises
    ------
    InputError
        For the first file that cannot be loaded; files before it stay loaded.
    ConfigError
        For an unknown time zone or encoding.
    """
    check_timezone(timezone)
    if store.read_only:  # type: ignore[attr-defined]
        raise StoreError(
            "store.read_only",
            N_("The store {path} is open read-only, so nothing can be loaded into it."),
            path=str(store.path),  # type: ignore[attr-defined]
        )
    raw: duckdb.DuckDBPyConnection = store.raw  # type: ignore[attr-defined]
    base_dir = Path(base_dir).absolute()

    jobs: list[tuple[Path, str]] = [
        (path, "events")
        for path in file_tools.resolve_paths(events.paths, base_dir, "events")
    ]
    if accounts is not None:
        account_paths = file_tools.resolve_paths((accounts.path,), base_dir, "accounts")
        jobs.append((_single_accounts_file(account_paths, accounts.path), "accounts"))
    _warn_about_missing_files(raw, {str(path) for path, _ in jobs})

    results = []
    for done, (path, kind) in enumerate(jobs, start=1):
        spec = events if kind == "events" else accounts
        results.append(_load_file(raw, path, kind, spec, timezone))  # type: ignore[arg-type]
        if progress is not None:
            progress(str(path), done, len(jobs))

    summary = _summarize(raw, tuple(results))
    logger.info("%r", summary)
    return summary


def _single_accounts_file(paths: list[Path], pattern: str) -> Path:
    if len(paths) > 1:
        raise InputError(
            "input.several_account_files",
            N_(
                "{value} matches {count} files, but the accounts table is read from "
                "one file. Set accounts.path to a single file in jalon.toml."
            ),
            file=str(paths[0]),
            value=pattern,
            count=len(paths),
        )
    return paths[0]


def _warn_about_missing_files(
    raw: duckdb.DuckDBPyConnection, current: set[str]
) -> None:
    rows = raw.execute(
        f"SELECT path, rows_loaded FROM {schema.FILES} WHERE kind = 'events' ORDER "
        "BY path"
    ).fetchall()
    for path, rows_loaded in rows:
        if path not in current:
            logger.warning(
                "%s was loaded before but is not among the configured files any more; "
                "its %s events stay in the store",
                path,
                rows_loaded,
            )


def _load_file(
    raw: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str,
    spec: EventSource | AccountSource,
    timezone: str,
) -> FileLoad:
    previous = schema.fetch_row(
        raw,
        "SELECT file_id, size, mtime_ns, sha256, rows_read, rows_loaded FROM "
        f"{schema.FILES} "
        "WHERE path = ? AND kind = ?",
        [str(path), kind],
    )
    size, mtime_ns = file_tools.quick_fingerprint(path)
    # NOTE: equal size and modification time count as unchanged without hashing,
    # so a rewrite that keeps both (some copy tools restore mtime) is missed.
    if previous is not None and (previous[1], previous[2]) == (size, mtime_ns):
        return _unchanged(raw, path, kind, previous)

    current = file_tools.fingerprint(path)
    if previous is not None and previous[3] == current.sha256:
        raw.execute(
            f"UPDATE {schema.FILES} SET size = ?, mtime_ns = ? WHERE file_id = ?",
            [current.size, current.mtime_ns, previous[0]],
        )
        return _unchanged(raw, path, kind, previous)

    status = LOADED if previous is None else RELOADED
    if status == RELOADED:
        logger.warning("%s changed since it was loaded: reloading it", path)
    counts = _load_in_transaction(raw, path, kind, spec, timezone, current, previous)
    if counts.excluded:
        logger.warning(
            "%s: %s of %s rows excluded (%s)",
            path,
            counts.rows_read - counts.rows_loaded,
            counts.rows_read,
            describe_reason_counts(counts.excluded),
        )
    logger.info("%s: %s %s rows loaded (%s)", path, counts.rows_loaded, kind, status)
    return FileLoad(
        str(path), kind, status, counts.rows_read, counts.rows_loaded, counts.excluded
    )


def _unchanged(
    raw: duckdb.DuckDBPyConnection, path: Path, kind: str, previous: tuple
) -> FileLoad:
    excluded = dict(
        raw.execute(
            f"SELECT reason, rows FROM {schema.EXCLUSIONS} WHERE file_id = ? ORDER "
            "BY reason",
            [previous[0]],
        ).fetchall()
    )
    logger.info("%s unchanged, skipped", path)
    return FileLoad(
        str(path),
        kind,
        UNCHANGED,
        int(previous[4]),
        int(previous[5]),
        {reason: int(count) for reason, count in excluded.items()},
    )


def _load_in_transaction(
    raw: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str,
    spec: EventSource | AccountSource,
    timezone: str,
    current: file_tools.Fingerprint,
    previous: tuple | None,
) -> LoadCounts:
    data_file = file_tools.detect_format(path, spec.format, kind)
    raw.execute("BEGIN TRANSACTION")
    try:
        if kind == "accounts":
            # The accounts table comes from one file: the one it replaces,
            # even under another path, stops counting.
            _forget_account_files(raw)
        elif previous is not None:
            _forget_file(raw, previous[0], kind)
        file_id = _next_file_id(raw)
        counts = _load_source(raw, data_file, kind, spec, timezone, file_id)
        raw.execute(
            f"INSERT INTO {schema.FILES} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file_id,
                kind,
                str(path),
                current.size,
                current.mtime_ns,
                current.sha256,
                counts.rows_read,
                counts.rows_loaded,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    return counts


def _load_source(
    raw: duckdb.DuckDBPyConnection,
    data_file: file_tools.DataFile,
    kind: str,
    spec: EventSource | AccountSource,
    timezone: str,
    file_id: int,
) -> LoadCounts:
    if kind == "events":
        text_columns = _event_text_columns(spec)  # type: ignore[arg-type]
    else:
        text_columns = {spec.columns.account_id}  # type: ignore[union-attr]
    source = open_source(
        raw, data_file, kind, spec.delimiter, spec.encoding, text_columns
    )
    try:
        if kind == "events":
            mapping = resolve_event_mapping(source, spec)  # type: ignore[arg-type]
            return load_events(raw, source, mapping, spec, file_id, timezone)  # type: ignore[arg-type]
        return load_accounts(raw, source, spec, file_id, timezone)  # type: ignore[arg-type]
    finally:
        source.close()


def _event_text_columns(spec: EventSource) -> set[str]:
    columns = spec.columns
    names = {
        columns.account_id,
        columns.event,
        columns.timestamp,
        columns.user_id,
        columns.event_id,
    }
    return {name for name in names if name}


def _forget_file(raw: duckdb.DuckDBPyConnection, file_id: int, kind: str) -> None:
    if kind == "events":
        raw.execute(f"DELETE FROM {schema.EVENTS} WHERE _file_id = ?", [file_id])
    raw.execute(f"DELETE FROM {schema.EXCLUSIONS} WHERE file_id = ?", [file_id])
    raw.execute(f"DELETE FROM {schema.FILES} WHERE file_id = ?", [file_id])


def _forget_account_files(raw: duckdb.DuckDBPyConnection) -> None:
    rows = raw.execute(
        f"SELECT file_id FROM {schema.FILES} WHERE kind = 'accounts'"
    ).fetchall()
    for (file_id,) in rows:
        _forget_file(raw, file_id, "accounts")


def _next_file_id(raw: duckdb.DuckDBPyConnection) -> int:
    return int(
        schema.fetch_row(
            raw, f"SELECT coalesce(max(file_id), 0) + 1 FROM {schema.FILES}"
        )[0]
    )


def _summarize(
    raw: duckdb.DuckDBPyConnection, results: tuple[FileLoad, ...]
) -> IngestSummary:
    events_total = schema.fetch_row(raw, f"SELECT count(*) FROM {schema.EVENTS}")[0]
    has_accounts = schema.fetch_row(
        raw,
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name "
        "= current_database()",
        [schema.ACCOUNTS],
    )[0]
    accounts_total = 0
    if has_accounts:
        accounts_total = schema.fetch_row(
            raw, f"SELECT count(*) FROM {schema.ACCOUNTS}"
        )[0]
    excluded = raw.execute(
        f"SELECT reason, sum(rows)::BIGINT FROM {schema.EXCLUSIONS} GROUP BY reason "
        "ORDER BY reason"
    ).fetchall()
    return IngestSummary(
        files=results,
        events_total=int(events_total),
        accounts_total=int(accounts_total),
        excluded={reason: int(count) for reason, count in excluded},
    )
