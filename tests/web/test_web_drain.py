"""Draining the spool into a real DuckDB store."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from jalon.store import Store
from jalon.web import spool
from jalon.web.drain import drain_project, drain_spool
from jalon.web.messages import (
    GroupMessage,
    IdentifyMessage,
    TrackMessage,
    normalize_messages,
)
from jalon.web.project import ProjectContext

RECEIVED = dt.datetime(2024, 6, 1, 12, 0)


def _spool_messages(project: ProjectContext, messages: list) -> None:
    batch = normalize_messages(
        messages,
        in_batch=True,
        received_at=RECEIVED,
        zone=ZoneInfo("UTC"),
        key_id="k",
        known_memberships={},
    )
    connection = spool.connect(project.spool_path)
    connection.execute("BEGIN")
    spool.write_batch(connection, batch)
    connection.execute("COMMIT")
    connection.close()


def _track(message_id: str, **fields) -> TrackMessage:
    base = {
        "userId": "u1",
        "event": "Scored",
        "messageId": message_id,
        "timestamp": "2024-05-01T08:00:00Z",
        "context": {"groupId": "acme"},
    }
    base.update(fields)
    return TrackMessage.model_validate(base)


def _rows(project: ProjectContext, query: str) -> list[tuple]:
    with Store.open(project.store_path, read_only=True) as store:
        return store.raw.execute(query).fetchall()


def test_drain_mixed_property_types(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    # "score" is a number, then text: Arrow cannot type it, the row path can.
    _spool_messages(
        project,
        [
            _track("a", properties={"score": 1}),
            _track("b", properties={"score": "high"}),
        ],
    )

    inserted = drain_project(project)

    assert inserted == 2
    assert _rows(project, "SELECT event_id, p_score FROM events ORDER BY _seq") == [
        ("a", "1"),
        ("b", "high"),
    ]


def test_drain_events_without_properties(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    _spool_messages(
        project, [_track("a"), _track("b", userId=None, anonymousId="anon")]
    )

    inserted = drain_project(project)

    assert inserted == 2
    assert _rows(project, "SELECT user_id, ts FROM events ORDER BY _seq") == [
        ("u1", dt.datetime(2024, 5, 1, 8)),
        ("anon", dt.datetime(2024, 5, 1, 8)),
    ]


def test_drain_nested_properties_typed(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    _spool_messages(
        project,
        [
            _track("a", properties={"plan": {"tier": "pro", "seats": 3}}),
            _track("b", properties={"plan": {"tier": "free", "seats": 1}}),
        ],
    )

    drain_project(project)

    rows = _rows(project, "SELECT p_plan_tier, p_plan_seats FROM events ORDER BY _seq")
    assert rows == [("pro", 3), ("free", 1)]


def test_group_traits_update_existing_account_row(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    with Store.open(project.store_path) as store:
        store.raw.execute(
            "CREATE TABLE accounts (account_id VARCHAR NOT NULL, plan VARCHAR, region VARCHAR)"
        )
        store.raw.execute("INSERT INTO accounts VALUES ('acme', 'free', 'eu')")
    group = GroupMessage.model_validate(
        {
            "userId": "u1",
            "groupId": "acme",
            "messageId": "g1",
            "traits": {"plan": "pro", "signup_at": "2024-04-30T22:00:00+02:00"},
        }
    )
    _spool_messages(project, [group])

    with Store.open(project.store_path) as store:
        drain_spool(store, project.spool_path)

    # The file's region stays; plan is replaced; 22:00 at +02:00 is 20:00 UTC.
    rows = _rows(project, "SELECT account_id, plan, region, signup_at FROM accounts")
    assert rows == [("acme", "pro", "eu", dt.datetime(2024, 4, 30, 20, 0))]


def test_identify_updates_only_changed_users(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    first = [
        IdentifyMessage.model_validate(
            {"userId": "u1", "messageId": "i1", "traits": {"role": "admin"}}
        ),
        IdentifyMessage.model_validate(
            {"userId": "u2", "messageId": "i2", "traits": {"role": "viewer"}}
        ),
    ]
    _spool_messages(project, first)
    drain_project(project)
    later = [
        IdentifyMessage.model_validate(
            {
                "userId": "u2",
                "messageId": "i3",
                "traits": {"role": "editor", "team": "ops"},
            }
        ),
        GroupMessage.model_validate(
            {"userId": "u2", "groupId": "acme", "messageId": "g1"}
        ),
    ]
    _spool_messages(project, later)

    drain_project(project)

    rows = _rows(
        project, "SELECT user_id, account_id, traits FROM users ORDER BY user_key"
    )
    assert rows == [
        ("u1", None, '{"role":"admin"}'),
        ("u2", "acme", '{"role":"editor","team":"ops"}'),
    ]


def test_unusable_trait_names_skipped(tmp_path):
    project = ProjectContext.from_path(tmp_path)
    group = GroupMessage.model_validate(
        {
            "userId": "u1",
            "groupId": "acme",
            "messageId": "g1",
            "traits": {"": 1, "account_id": "other", "plan": "pro"},
        }
    )
    _spool_messages(project, [group])

    drain_project(project)

    assert _rows(project, "SELECT * FROM accounts") == [("acme", "pro")]
