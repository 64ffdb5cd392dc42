"""Segment message rules: timestamps, accounts, identities and message ids."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jalon.errors import ApiError
from jalon.web.messages import (
    GroupMessage,
    TrackMessage,
    normalize_messages,
    parse_timestamp,
)

UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
RECEIVED = dt.datetime(2024, 6, 1, 12, 0, 10)


def _normalize(messages, memberships=None, zone=UTC, **options):
    return normalize_messages(
        messages,
        in_batch=True,
        received_at=RECEIVED,
        zone=zone,
        key_id="key1",
        known_memberships=memberships or {},
        **options,
    )


def _track(**fields) -> TrackMessage:
    base = {"userId": "u1", "event": "Signed Up", "messageId": "m1"}
    base.update(fields)
    return TrackMessage.model_validate(base)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Paris is UTC+2 in July (summer time): 12:00 local is 10:00 UTC.
        ("2024-07-01T12:00:00", dt.datetime(2024, 7, 1, 10, 0)),
        # Paris is UTC+1 in January: 12:00 local is 11:00 UTC.
        ("2024-01-15T12:00:00", dt.datetime(2024, 1, 15, 11, 0)),
        # An explicit offset wins over the project zone: 12:00-05:00 is 17:00 UTC.
        ("2024-01-15T12:00:00-05:00", dt.datetime(2024, 1, 15, 17, 0)),
        ("2024-01-15T12:00:00.250Z", dt.datetime(2024, 1, 15, 12, 0, 0, 250_000)),
    ],
)
def test_timestamp_naive_read_in_project_zone(text, expected):
    assert parse_timestamp(text, "timestamp", PARIS) == expected


def test_timestamp_invalid_names_path_and_value():
    with pytest.raises(ApiError) as caught:
        parse_timestamp("2024-13-01", "batch[2].timestamp", UTC)

    assert caught.value.params == {
        "path": "batch[2].timestamp",
        "value": '"2024-13-01"',
    }


def test_original_timestamp_corrected_by_clock_skew():
    # The client clock is 5 s behind: it sent at 12:00:05 by its clock, the
    # server received at 12:00:10, so the event at 12:00:00 client time
    # happened at 12:00:10 - (12:00:05 - 12:00:00) = 12:00:05 server time.
    message = _track(originalTimestamp="2024-06-01T12:00:00Z", context={"groupId": "a"})

    batch = _normalize([message], batch_sent_at="2024-06-01T12:00:05Z")

    assert batch.events[0][5] == "2024-06-01 12:00:05.000000"


def test_missing_timestamp_uses_receive_time():
    batch = _normalize([_track(context={"groupId": "a"})])

    assert batch.events[0][5] == "2024-06-01 12:00:10.000000"


@pytest.mark.parametrize(
    ("fields", "account"),
    [
        (
            {
                "context": {"groupId": "g1", "group_id": "g2"},
                "properties": {"account_id": "p1"},
            },
            "g1",
        ),
        ({"context": {"group_id": "g2"}, "properties": {"account_id": "p1"}}, "g2"),
        ({"properties": {"account_id": "p1", "groupId": "p2"}}, "p1"),
        ({"properties": {"groupId": "p2"}}, "p2"),
        ({"properties": {"account_id": 42}}, "42"),
        ({}, "from-group-call"),
    ],
)
def test_track_account_resolution_order(fields, account):
    batch = _normalize([_track(**fields)], memberships={"u:u1": "from-group-call"})

    assert batch.events[0][1] == account


def test_track_without_account_rejected():
    with pytest.raises(ApiError) as caught:
        _normalize([_track()])

    assert caught.value.code == "api.no_account"
    assert caught.value.params["path"] == "batch[0].context.groupId"


def test_group_earlier_in_batch_gives_account():
    group = GroupMessage.model_validate(
        {"userId": "u1", "groupId": "acme", "messageId": "g"}
    )

    batch = _normalize([group, _track()])

    assert batch.events[0][1] == "acme"
    assert batch.memberships == {"u:u1": "acme"}


def test_batch_context_applies_under_message_context():
    batch = _normalize(
        [_track(), _track(messageId="m2", context={"groupId": "own"})],
        batch_context={"groupId": "shared"},
    )

    assert [row[1] for row in batch.events] == ["shared", "own"]


def test_anonymous_user_keyed_by_anonymous_id():
    message = _track(userId=None, anonymousId="anon-7")

    batch = _normalize([message], memberships={"a:anon-7": "acme"})

    assert batch.events[0][1:4] == ("acme", None, "anon-7")


def test_content_id_ignores_sent_at_only():
    first = _track(
        messageId=None, context={"groupId": "a"}, sentAt="2024-06-01T12:00:00Z"
    )
    resent = _track(
        messageId=None, context={"groupId": "a"}, sentAt="2024-06-01T12:05:00Z"
    )
    other = _track(messageId=None, context={"groupId": "a"}, event="Other")

    ids = [_normalize([message]).events[0][0] for message in (first, resent, other)]

    assert ids[0].startswith("sha256:")
    assert ids[0] == ids[1]
    assert ids[0] != ids[2]


@pytest.mark.parametrize("value", ["bad\x00id", "\ud800"])
def test_nul_and_lone_surrogate_rejected(value):
    with pytest.raises(ApiError) as caught:
        _normalize([_track(userId=value, context={"groupId": "a"})])

    assert caught.value.code == "api.invalid_text"
    assert caught.value.params["path"] == "batch[0].userId"
