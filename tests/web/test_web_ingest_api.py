"""The ingest API on a real uvicorn server: SDK compatibility, batches, keys, limits."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import duckdb
import httpx
import pytest
from segment.analytics.client import Client
from segment.analytics.request import APIError
from web_support import basic_auth

from jalon.web.drain import drain_project
from jalon.web.state import ServerSettings


def _track(message_id: str, account: str = "acme", **fields) -> dict:
    message = {
        "type": "track",
        "userId": "u1",
        "event": "Report Created",
        "timestamp": "2024-03-01T10:00:00Z",
        "messageId": message_id,
        "context": {"groupId": account},
    }
    message.update(fields)
    return message


def _store_rows(project, query: str) -> list[tuple]:
    connection = duckdb.connect(str(project.store_path), read_only=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def test_segment_sdk_track_identify_group(live_server):
    client = Client(
        write_key=live_server.write_key, host=live_server.url, sync_mode=True
    )
    client.group("u1", "acme", {"plan": "pro", "seats": 12})
    client.identify("u1", {"email": "ada@example.org"})
    client.track(
        "u1",
        "Report Created",
        {"charts": 3},
        timestamp=dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC),
        message_id="sdk-1",
    )
    # No context.groupId: the account comes from the group call above.
    client.track(
        "u1", "Report Shared", timestamp=dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    )

    inserted = drain_project(live_server.project)

    assert inserted == 2
    rows = _store_rows(
        live_server.project,
        "SELECT account_id, user_id, event, ts, event_id, p_charts FROM events ORDER BY _seq",
    )
    assert rows[0] == (
        "acme",
        "u1",
        "Report Created",
        dt.datetime(2024, 3, 1, 10),
        "sdk-1",
        3.0,
    )
    assert rows[1][:4] == ("acme", "u1", "Report Shared", dt.datetime(2024, 3, 2))
    accounts = _store_rows(
        live_server.project, "SELECT account_id, plan, seats FROM accounts"
    )
    assert accounts == [("acme", "pro", 12.0)]
    users = _store_rows(
        live_server.project, "SELECT user_id, account_id, traits FROM users"
    )
    assert users == [("u1", "acme", '{"email":"ada@example.org"}')]


def test_segment_sdk_gzip_body(live_server):
    client = Client(
        write_key=live_server.write_key, host=live_server.url, sync_mode=True, gzip=True
    )
    client.track("u9", "Signed Up", context={"groupId": "beta"}, message_id="gz-1")

    response = httpx.get(
        f"{live_server.url}/api/accounts/beta",
        headers={"Authorization": f"Bearer {live_server.read_key}"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["events"] == 1


def test_segment_sdk_sees_rejection(live_server):
    client = Client(
        write_key=live_server.write_key, host=live_server.url, sync_mode=True
    )

    with pytest.raises(APIError) as caught:
        client.track("stranger", "Signed Up", message_id="no-account")

    assert caught.value.status == 400
    assert caught.value.code == "api.no_account"


def test_batch_invalid_item_stores_nothing(live_server):
    batch = [_track(f"m{i}") for i in range(5)]
    batch[3]["timestamp"] = "yesterday"

    response = httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": batch},
        headers=basic_auth(live_server.write_key),
    )

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "api.bad_timestamp"
    assert body["params"]["path"] == "batch[3].timestamp"
    assert body["params"]["value"] == '"yesterday"'
    assert "batch[3].timestamp" in body["message"]
    counts = httpx.get(
        f"{live_server.url}/api/events/count",
        headers={"Authorization": f"Bearer {live_server.read_key}"},
    ).json()
    assert counts == {"events": 0, "pending": 0}


def test_batch_error_message_in_french(live_server):
    response = httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": [_track("m1", timestamp="hier")]},
        headers={
            **basic_auth(live_server.write_key),
            "Accept-Language": "fr-FR,fr;q=0.9",
        },
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("batch[0].timestamp a la valeur")


def test_retry_with_same_message_ids_is_idempotent(live_server):
    headers = basic_auth(live_server.write_key)
    body = {"batch": [_track("r1"), _track("r2"), _track("r3")]}

    first = httpx.post(f"{live_server.url}/v1/batch", json=body, headers=headers)
    retry = httpx.post(f"{live_server.url}/v1/batch", json=body, headers=headers)
    drain_project(live_server.project)

    assert first.json() == {"success": True, "stored": 3, "duplicates": 0}
    assert retry.json() == {"success": True, "stored": 0, "duplicates": 3}
    rows = _store_rows(
        live_server.project, "SELECT count(*), count(DISTINCT event_id) FROM events"
    )
    assert rows == [(3, 3)]


def test_message_without_id_is_deduplicated_by_content(live_server):
    headers = basic_auth(live_server.write_key)
    message = _track("x")
    del message["messageId"]

    first = httpx.post(f"{live_server.url}/v1/track", json=message, headers=headers)
    retry = httpx.post(f"{live_server.url}/v1/track", json=message, headers=headers)

    assert first.json()["stored"] == 1
    assert retry.json()["duplicates"] == 1


def test_drain_twice_inserts_once(live_server):
    httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": [_track("d1"), _track("d2")]},
        headers=basic_auth(live_server.write_key),
    )

    first = drain_project(live_server.project)
    second = drain_project(live_server.project)

    assert first == 2
    assert second == 0


@pytest.mark.parametrize(
    ("key_name", "endpoint", "status"),
    [
        (None, "/v1/batch", 401),
        ("revoked_key", "/v1/batch", 401),
        ("read_key", "/v1/batch", 403),
        ("write_key", "/api/events/count", 403),
        (None, "/api/events/count", 401),
        ("bogus", "/v1/batch", 401),
    ],
)
def test_keys_missing_wrong_scope_or_revoked(live_server, key_name, endpoint, status):
    key = {None: None, "bogus": "jalon_w_000000000000_nope"}.get(
        key_name, getattr(live_server, key_name or "", None)
    )
    headers = basic_auth(key) if key else {}
    if endpoint.startswith("/api"):
        response = httpx.get(f"{live_server.url}{endpoint}", headers=headers)
    else:
        response = httpx.post(
            f"{live_server.url}{endpoint}",
            json={"batch": [_track("k1")]},
            headers=headers,
        )

    assert response.status_code == status, response.text


def test_bearer_and_body_write_key_accepted(live_server):
    bearer = httpx.post(
        f"{live_server.url}/v1/track",
        json=_track("b1"),
        headers={"Authorization": f"Bearer {live_server.write_key}"},
    )
    in_body = httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": [_track("b2")], "writeKey": live_server.write_key},
    )

    assert bearer.status_code == 200, bearer.text
    assert in_body.status_code == 200, in_body.text


def test_health_needs_no_key(live_server):
    response = httpx.get(f"{live_server.url}/health")

    assert response.json() == {"status": "ok"}


def test_oversize_batch_body_gets_413(start_server):
    server = start_server(ServerSettings(max_batch_bytes=4096, drain_interval_s=0))
    # 40 messages of about 200 bytes each: about 8,000 bytes, over 4,096.
    body = {"batch": [_track(f"big{i}") for i in range(40)]}

    response = httpx.post(
        f"{server.url}/v1/batch", json=body, headers=basic_auth(server.write_key)
    )

    assert response.status_code == 413
    assert response.json()["code"] == "api.body_too_large"


def test_oversize_gzip_body_gets_413(start_server):
    server = start_server(ServerSettings(max_batch_bytes=4096, drain_interval_s=0))
    raw = json.dumps({"batch": [_track(f"z{i}") for i in range(40)]}).encode()
    compressed = gzip.compress(raw)

    response = httpx.post(
        f"{server.url}/v1/batch",
        content=compressed,
        headers={**basic_auth(server.write_key), "Content-Encoding": "gzip"},
    )

    assert len(compressed) < 4096
    assert response.status_code == 413


def test_oversize_message_in_batch_names_index(live_server):
    batch = [_track("s0"), _track("s1", properties={"blob": "x" * 40_000})]

    response = httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": batch},
        headers=basic_auth(live_server.write_key),
    )

    assert response.status_code == 413
    assert response.json()["params"]["path"] == "batch[1]"


def test_rate_limit_gets_429_with_retry_after(start_server):
    server = start_server(ServerSettings(rate_per_s=0.01, burst=2, drain_interval_s=0))
    headers = basic_auth(server.write_key)

    statuses = [
        httpx.post(
            f"{server.url}/v1/track", json=_track(f"q{i}"), headers=headers
        ).status_code
        for i in range(3)
    ]
    limited = httpx.post(f"{server.url}/v1/track", json=_track("q9"), headers=headers)

    assert statuses == [200, 200, 429]
    # One token per 100 s (0.01 per second): the wait is 100 s minus the few
    # seconds at most since the bucket emptied, rounded up.
    assert 95 <= int(limited.headers["Retry-After"]) <= 100
    assert limited.json()["code"] == "api.rate_limited"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            {"batch": [{"type": "track", "userId": "u1", "context": {"groupId": "a"}}]},
            "batch[0].event",
        ),
        ({"batch": [{"type": "page", "userId": "u1"}]}, "batch[0].type"),
        (
            {"batch": [{"type": "track", "event": "e", "context": {"groupId": "a"}}]},
            "batch[0].userId",
        ),
        ({"batch": [{"type": "group", "userId": "u1"}]}, "batch[0].groupId"),
        (
            {"batch": [{"type": "track", "userId": 5, "event": "e", "properties": []}]},
            "batch[0].properties",
        ),
        ({"batch": "nope"}, "batch"),
        (
            {"batch": [_track("t", context={"groupId": {"id": 1}})]},
            "batch[0].context.groupId",
        ),
    ],
)
def test_invalid_messages_name_their_path(live_server, body, path):
    response = httpx.post(
        f"{live_server.url}/v1/batch",
        json=body,
        headers=basic_auth(live_server.write_key),
    )

    assert response.status_code == 400, response.text
    assert response.json()["params"]["path"] == path


def test_invalid_json_gets_400(live_server):
    response = httpx.post(
        f"{live_server.url}/v1/batch",
        content=b'{"batch": [',
        headers=basic_auth(live_server.write_key),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "api.invalid_json"


def test_nan_property_gets_400(live_server):
    body = b'{"batch": [{"type": "track", "userId": "u1", "event": "e",'
    body += b' "context": {"groupId": "a"}, "properties": {"score": NaN}}]}'

    response = httpx.post(
        f"{live_server.url}/v1/batch",
        content=body,
        headers=basic_auth(live_server.write_key),
    )

    assert response.status_code == 400
    assert response.json()["params"] == {"path": "batch[0].properties"}


def test_account_view_after_group_and_track(live_server):
    httpx.post(
        f"{live_server.url}/v1/batch",
        json={
            "batch": [
                {
                    "type": "group",
                    "userId": "u1",
                    "groupId": "acme",
                    "traits": {"plan": "pro"},
                },
                _track("v1", timestamp="2024-03-01T10:00:00+01:00"),
                _track("v2", timestamp="2024-03-05T08:30:00Z"),
            ]
        },
        headers=basic_auth(live_server.write_key),
    )

    response = httpx.get(
        f"{live_server.url}/api/accounts/acme",
        headers={"Authorization": f"Bearer {live_server.read_key}"},
    )

    # 10:00 at +01:00 is 09:00 UTC.
    assert response.json() == {
        "account_id": "acme",
        "traits": {"plan": "pro"},
        "users": ["u1"],
        "events": 2,
        "first_event_at": "2024-03-01 09:00:00.000000",
        "last_event_at": "2024-03-05 08:30:00.000000",
    }


def test_unknown_account_gets_404(live_server):
    response = httpx.get(
        f"{live_server.url}/api/accounts/nobody",
        headers={"Authorization": f"Bearer {live_server.read_key}"},
    )

    assert response.status_code == 404


def test_openapi_lists_ingest_endpoints(live_server):
    schema = httpx.get(f"{live_server.url}/openapi.json").json()

    assert set(schema["paths"]) >= {
        "/v1/batch",
        "/v1/track",
        "/v1/identify",
        "/v1/group",
    }
    assert "BatchRequest" in schema["components"]["schemas"]


def _references(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def test_openapi_references_resolve(live_server):
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    components = schema["components"]["schemas"]

    unresolved = sorted(
        {ref for ref in _references(schema) if ref.split("/")[-1] not in components}
    )

    assert unresolved == []
    body = schema["paths"]["/v1/batch"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert body["schema"] == {"$ref": "#/components/schemas/BatchRequest"}


def test_single_identify_and_group_endpoints(live_server):
    headers = basic_auth(live_server.write_key)

    identify = httpx.post(
        f"{live_server.url}/v1/identify",
        json={"userId": "u5", "traits": {"role": "admin"}, "messageId": "i1"},
        headers=headers,
    )
    group = httpx.post(
        f"{live_server.url}/v1/group",
        json={
            "userId": "u5",
            "groupId": "delta",
            "traits": {"plan": "team"},
            "messageId": "g1",
        },
        headers=headers,
    )
    view = httpx.get(
        f"{live_server.url}/api/accounts/delta",
        headers={"Authorization": f"Bearer {live_server.read_key}"},
    )

    assert identify.json() == {"success": True, "stored": 1, "duplicates": 0}
    assert group.json() == {"success": True, "stored": 1, "duplicates": 0}
    assert view.json()["traits"] == {"plan": "team"}
    assert view.json()["users"] == ["u5"]


def test_unknown_content_encoding_gets_415(live_server):
    response = httpx.post(
        f"{live_server.url}/v1/batch",
        content=b'{"batch": []}',
        headers={**basic_auth(live_server.write_key), "Content-Encoding": "br"},
    )

    assert response.status_code == 415
    assert response.json()["params"] == {"value": "br"}


def test_empty_batch_is_accepted(live_server):
    response = httpx.post(
        f"{live_server.url}/v1/batch",
        json={"batch": []},
        headers=basic_auth(live_server.write_key),
    )

    assert response.json() == {"success": True, "stored": 0, "duplicates": 0}
