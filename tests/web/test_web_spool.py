"""The spool writer: group commit, idempotency and all-or-nothing requests."""

from __future__ import annotations

import sqlite3

import pytest

from jalon.web import spool
from jalon.web.messages import NormalizedBatch

RESULT_TIMEOUT_S = 30


def _event(message_id: str, account: str | None = "acme") -> tuple:
    return (
        message_id,
        account,
        "u1",
        None,
        "Signed Up",
        "2024-05-01 08:00:00.000000",
        "{}",
        "2024-05-01 08:00:01.000000",
        "k",
    )


def _event_ids(path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [
            row[0]
            for row in connection.execute(
                "SELECT message_id FROM events ORDER BY rowid"
            )
        ]
    finally:
        connection.close()


def test_writer_commits_many_requests(tmp_path):
    path = tmp_path / "spool.sqlite"
    writer = spool.SpoolWriter(path)

    futures = [
        writer.submit(NormalizedBatch(events=[_event(f"m{i}")])) for i in range(50)
    ]
    results = [future.result(RESULT_TIMEOUT_S) for future in futures]
    writer.close()

    assert sum(result.stored for result in results) == 50
    assert _event_ids(path) == [f"m{i}" for i in range(50)]


def test_writer_counts_duplicates(tmp_path):
    writer = spool.SpoolWriter(tmp_path / "spool.sqlite")

    first = writer.submit(NormalizedBatch(events=[_event("a"), _event("b")])).result(
        RESULT_TIMEOUT_S
    )
    again = writer.submit(NormalizedBatch(events=[_event("b"), _event("c")])).result(
        RESULT_TIMEOUT_S
    )
    writer.close()

    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (1, 1)


def test_failed_request_leaves_nothing_and_spares_others(tmp_path):
    path = tmp_path / "spool.sqlite"
    writer = spool.SpoolWriter(path)

    # The second row breaks NOT NULL on account_id, after the first row was inserted.
    broken = writer.submit(
        NormalizedBatch(events=[_event("x1"), _event("x2", account=None)])
    )
    healthy = writer.submit(NormalizedBatch(events=[_event("ok")]))

    with pytest.raises(sqlite3.IntegrityError):
        broken.result(RESULT_TIMEOUT_S)
    assert healthy.result(RESULT_TIMEOUT_S).stored == 1
    writer.close()
    assert _event_ids(path) == ["ok"]


def test_counts_follow_drain_position(tmp_path):
    path = tmp_path / "spool.sqlite"
    writer = spool.SpoolWriter(path)
    writer.submit(NormalizedBatch(events=[_event(f"m{i}") for i in range(5)])).result(
        RESULT_TIMEOUT_S
    )
    writer.close()
    connection = spool.connect(path)

    spool.mark_drained(connection, "events", 3)

    assert spool.spool_counts(connection) == {"events": 5, "pending": 2}
    assert spool.has_pending(connection)


def test_duplicate_inside_one_request_stored_once(tmp_path):
    path = tmp_path / "spool.sqlite"
    writer = spool.SpoolWriter(path)

    result = writer.submit(NormalizedBatch(events=[_event("d"), _event("d")])).result(
        RESULT_TIMEOUT_S
    )
    writer.close()

    assert (result.stored, result.duplicates) == (1, 1)
    assert _event_ids(path) == ["d"]


def test_large_request_spans_several_statements(tmp_path):
    path = tmp_path / "spool.sqlite"
    writer = spool.SpoolWriter(path)
    # 1,000 rows need three statements of at most 400 rows.
    ids = [f"e{i:04d}" for i in range(1000)]

    result = writer.submit(NormalizedBatch(events=[_event(i) for i in ids])).result(
        RESULT_TIMEOUT_S
    )
    writer.close()

    assert result.stored == 1000
    assert _event_ids(path) == ids
