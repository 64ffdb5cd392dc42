"""Segment message models and their conversion into spool rows.

The models follow the Segment HTTP Tracking API (``track``, ``identify`` and
``group`` calls, and ``batch`` holding several of them). They give the
OpenAPI description and the first validation; :func:`normalize_messages` then
checks what a JSON schema cannot express (timestamps, identities, the account
of a ``track`` call) and builds the rows that :mod:`jalon.web.spool` stores.

Rules taken from the Segment specification:

* every message needs ``userId`` or ``anonymousId``;
* ``timestamp`` is ISO 8601; when it is missing, ``originalTimestamp``
  corrected by the clock skew ``sentAt - receivedAt`` is used, else the time
  the server received the message;
* a batch may carry a ``context`` that applies to each of its messages, under
  the message's own ``context`` keys.

jalon-specific rules: the account of a ``track`` call is ``context.groupId``,
else ``context.group_id``, else ``properties.account_id``, else
``properties.groupId``, else the account that the latest ``group`` call
attached the user to. A message without ``messageId`` gets the SHA-256 digest
of its content as id, so that resending it does not duplicate it. Naive
timestamps are read in the project's time zone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jalon.errors import N_, ApiError

MESSAGE_TYPES = ("track", "identify", "group")
VALUE_PREVIEW_CHARS = 200
ACCOUNT_CONTEXT_KEYS = ("groupId", "group_id")
ACCOUNT_PROPERTY_KEYS = ("account_id", "groupId")
CONTENT_ID_PREFIX = "sha256:"
NOT_OBJECT = N_("{path} has the value {value}, which is not a JSON object.")
# Message of each pydantic error type that means "wrong JSON type".
WRONG_TYPE_TEMPLATES = {
    "string_type": N_("{path} has the value {value}, which is not a string."),
    "list_type": N_("{path} has the value {value}, which is not a JSON array."),
    "dict_type": NOT_OBJECT,
    "model_type": NOT_OBJECT,
    "model_attributes_type": NOT_OBJECT,
}


class _Message(BaseModel):
    """Fields shared by every Segment call."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, coerce_numbers_to_str=True
    )

    user_id: str | None = Field(
        None, alias="userId", description="Your id of the user."
    )
    anonymous_id: str | None = Field(
        None,
        alias="anonymousId",
        description="Device or session id, when userId is unknown.",
    )
    message_id: str | None = Field(
        None,
        alias="messageId",
        description="Unique id of the message; a message resent with the same id is stored once.",
    )
    timestamp: str | None = Field(
        None,
        description="ISO 8601 time of the action, e.g. 2024-03-01T10:00:00Z;"
        " without offset it is read in the project's time zone.",
    )
    original_timestamp: str | None = Field(None, alias="originalTimestamp")
    sent_at: str | None = Field(None, alias="sentAt")
    context: dict[str, Any] | None = Field(
        None, description="Context; context.groupId names the account of a track call."
    )
    integrations: dict[str, Any] | None = None


class TrackMessage(_Message):
    """A ``track`` call: one action of a user, in an account."""

    type: Literal["track"] = "track"
    event: str = Field(description="Name of the action, e.g. 'Report Created'.")
    properties: dict[str, Any] | None = Field(
        None,
        description="Event properties; account_id or groupId may name the account.",
    )


class IdentifyMessage(_Message):
    """An ``identify`` call: traits of a user."""

    type: Literal["identify"] = "identify"
    traits: dict[str, Any] | None = None


class GroupMessage(_Message):
    """A ``group`` call: attaches the user to an account and sets account traits."""

    type: Literal["group"] = "group"
    group_id: str = Field(alias="groupId", description="Id of the account.")
    traits: dict[str, Any] | None = None


BatchItem = Annotated[
    TrackMessage | IdentifyMessage | GroupMessage, Field(discriminator="type")
]


class BatchRequest(BaseModel):
    """A ``batch`` call: several messages stored together or not at all."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    batch: list[BatchItem]
    context: dict[str, Any] | None = Field(
        None, description="Context applied to every message of the batch."
    )
    integrations: dict[str, Any] | None = None
    sent_at: str | None = Field(None, alias="sentAt")
    write_key: str | None = Field(
        None,
        alias="writeKey",
        description="Write key, when no Authorization header is sent.",
    )


class Acknowledgement(BaseModel):
    """Response of the ingest endpoints: the messages are durably stored."""

    success: bool = True
    stored: int = Field(description="Messages stored by this request.")
    duplicates: int = Field(
        description="Messages already stored under the same messageId."
    )


class ErrorBody(BaseModel):
    """Response of a rejected request."""

    code: str = Field(description="Stable error code, e.g. api.bad_timestamp.")
    message: str = Field(description="What is wrong and how to fix it.")
    params: dict[str, Any] = Field(description="Values named in the message.")


@dataclass
class NormalizedBatch:
    """Spool rows of one request, in message order."""

    events: list[tuple] = field(default_factory=list)
    traits: list[tuple] = field(default_factory=list)
    memberships: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.events) + len(self.traits)


def preview(value: Any) -> str:
    """Return ``value`` as short JSON text for an error message."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > VALUE_PREVIEW_CHARS:
        text = text[: VALUE_PREVIEW_CHARS - 3] + "..."
    return text


def format_path(location: tuple[Any, ...] | list[Any]) -> str:
    """Format a location such as ``("batch", 3, "timestamp")`` as ``batch[3].timestamp``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _strip_union_tags(location: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic puts the union member's tag after the list index
    # (batch, 3, "track", "event"); the client never wrote that level.
    parts = []
    for index, part in enumerate(location):
        if index > 0 and isinstance(location[index - 1], int) and part in MESSAGE_TYPES:
            continue
        parts.append(part)
    return tuple(parts)


def validation_error(error: ValidationError, prefix: tuple[Any, ...] = ()) -> ApiError:
    """Turn the first problem of a pydantic error into an :class:`ApiError` (400)."""
    first = error.errors(include_url=False)[0]
    location = prefix + _strip_union_tags(tuple(first["loc"]))
    path = format_path(location) or "body"
    kind = first["type"]
    value = first.get("input")

    if kind == "json_invalid":
        return ApiError(
            "api.invalid_json",
            N_("The request body is not valid JSON: {reason}."),
            reason=str(first.get("ctx", {}).get("error", first["msg"]))[
                :VALUE_PREVIEW_CHARS
            ],
        )

    if kind == "missing":
        return ApiError(
            "api.missing_field",
            N_("{path} is missing: this message type needs it."),
            path=path,
        )

    if kind in ("union_tag_invalid", "union_tag_not_found"):
        path = format_path(location + ("type",))
        tag = value.get("type") if isinstance(value, dict) else None
        return ApiError(
            "api.bad_message_type",
            N_(
                "{path} has the value {value}: the message types accepted are {allowed}."
            ),
            path=path,
            value=preview(tag),
            allowed=", ".join(MESSAGE_TYPES),
        )

    template = WRONG_TYPE_TEMPLATES.get(kind)
    if template is not None:
        return ApiError("api.wrong_type", template, path=path, value=preview(value))

    # Other constraint errors: pydantic's English text explains them.
    return ApiError(
        "api.invalid_value",
        N_("{path} has the invalid value {value}: {reason}."),
        path=path,
        value=preview(value),
        reason=first["msg"],
    )


def parse_timestamp(text: str, path: str, zone: ZoneInfo) -> dt.datetime:
    """Parse an ISO 8601 timestamp into a naive UTC datetime.

    >>> parse_timestamp("2024-03-01T10:00:00+01:00", "timestamp", ZoneInfo("UTC"))
    datetime.datetime(2024, 3, 1, 9, 0)
    """
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise ApiError(
            "api.bad_timestamp",
            N_(
                "{path} has the value {value}, which is not an ISO 8601 timestamp"
                " such as 2024-03-01T10:00:00Z."
            ),
            path=path,
            value=preview(text),
        ) from None


def timestamp_text(moment: dt.datetime) -> str:
    """Format a naive UTC time as the spool stores it.

    >>> timestamp_text(dt.datetime(2024, 3, 1, 9))
    '2024-03-01 09:00:00.000000'
    """
    return moment.isoformat(sep=" ", timespec="microseconds")


def _check_text(value: str | None, path: str) -> str | None:
    """Return ``value`` with empty strings as None; reject NUL and lone surrogates."""
    if value is None or value == "":
        return None
    valid = "\x00" not in value
    if valid and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            valid = False
    if not valid:
        raise ApiError(
            "api.invalid_text",
            N_(
                "{path} has the value {value}, which contains a NUL character or an"
                " unpaired UTF-16 surrogate: send valid Unicode text."
            ),
            path=path,
            value=preview(value),
        )
    return value


def _to_json(value: dict[str, Any] | None, path: str) -> str:
    """Serialize properties or traits; reject NaN and infinities, which JSON excludes."""
    if not value:
        return "{}"
    # pydantic-core's serializer is several times faster than json.dumps;
    # json.dumps stays the strict path for the rare text that may need it.
    try:
        data = pydantic_core.to_json(value, inf_nan_mode="constants")
    except (pydantic_core.PydanticSerializationError, ValueError):
        data = None
    if data is not None and b"NaN" not in data and b"Infinity" not in data:
        return data.decode("utf-8")
    try:
        # ASCII escapes keep any unpaired surrogate storable in SQLite.
        return json.dumps(
            value, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        )
    except ValueError:
        raise ApiError(
            "api.not_finite",
            N_("{path} contains NaN or an infinite number, which JSON does not allow."),
            path=path,
        ) from None


def _content_id(message: _Message) -> str:
    content = message.model_dump(by_alias=True, exclude={"sent_at"}, exclude_none=True)
    text = json.dumps(content, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return CONTENT_ID_PREFIX + hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class _Envelope:
    """Request-level values shared by the messages of one request."""

    received_at: dt.datetime
    zone: ZoneInfo
    key_id: str
    batch_context: dict[str, Any] | None
    batch_sent_at: str | None
    known_memberships: Mapping[str, str]
    received_text: str


def user_key(user_id: str | None, anonymous_id: str | None) -> str:
    """Return the identity a membership is stored under: ``u:<userId>`` or ``a:<anonymousId>``."""
    return f"u:{user_id}" if user_id is not None else f"a:{anonymous_id}"


def _event_time(message: _Message, path: str, envelope: _Envelope) -> dt.datetime:
    if message.timestamp is not None:
        return parse_timestamp(message.timestamp, f"{path}timestamp", envelope.zone)
    if message.original_timestamp is None:
        return envelope.received_at
    original = parse_timestamp(
        message.original_timestamp, f"{path}originalTimestamp", envelope.zone
    )
    sent_text = message.sent_at or envelope.batch_sent_at
    if sent_text is None:
        return original
    sent_path = f"{path}sentAt" if message.sent_at else "sentAt"
    sent = parse_timestamp(sent_text, sent_path, envelope.zone)
    try:
        return envelope.received_at - (sent - original)
    except OverflowError:
        return original


def _account_from(container: dict[str, Any] | None, keys: tuple[str, ...], path: str):
    if not container:
        return None
    for key in keys:
        value = container.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ApiError(
                "api.wrong_type",
                WRONG_TYPE_TEMPLATES["string_type"],
                path=f"{path}{key}",
                value=preview(value),
            )
        return _check_text(str(value), f"{path}{key}")
    return None


def _track_account(
    message: TrackMessage,
    context: dict[str, Any],
    path: str,
    identity: str,
    batch: NormalizedBatch,
    envelope: _Envelope,
) -> str:
    account = _account_from(context, ACCOUNT_CONTEXT_KEYS, f"{path}context.")
    if account is None:
        account = _account_from(
            message.properties, ACCOUNT_PROPERTY_KEYS, f"{path}properties."
        )
    if account is None:
        account = batch.memberships.get(identity) or envelope.known_memberships.get(
            identity
        )
    if account is None:
        raise ApiError(
            "api.no_account",
            N_(
                "{path} is missing and no account is known for this user: set"
                " context.groupId on the track call, or send a group call for the"
                " user first."
            ),
            path=f"{path}context.groupId",
            user=identity,
        )
    return account


def _identity(message: _Message, path: str) -> tuple[str | None, str | None]:
    user_id = _check_text(message.user_id, f"{path}userId")
    anonymous_id = _check_text(message.anonymous_id, f"{path}anonymousId")
    if user_id is None and anonymous_id is None:
        raise ApiError(
            "api.no_identity",
            N_("{path} is missing: every message needs a userId or an anonymousId."),
            path=f"{path}userId",
        )
    return user_id, anonymous_id


def _add_message(
    message: _Message, path: str, batch: NormalizedBatch, envelope: _Envelope
) -> None:
    user_id, anonymous_id = _identity(message, path)
    identity = user_key(user_id, anonymous_id)
    message_id = _check_text(message.message_id, f"{path}messageId") or _content_id(
        message
    )
    context = message.context or {}
    if envelope.batch_context:
        context = {**envelope.batch_context, **context}
    ts = timestamp_text(_event_time(message, path, envelope))

    if isinstance(message, TrackMessage):
        event = _check_text(message.event, f"{path}event")
        if event is None:
            raise ApiError(
                "api.missing_field",
                N_("{path} is missing: this message type needs it."),
                path=f"{path}event",
            )
        account = _track_account(message, context, path, identity, batch, envelope)
        batch.events.append(
            (
                message_id,
                account,
                user_id,
                anonymous_id,
                event,
                ts,
                _to_json(message.properties, f"{path}properties"),
                envelope.received_text,
                envelope.key_id,
            )
        )
        return

    if isinstance(message, GroupMessage):
        account = _check_text(message.group_id, f"{path}groupId")
        if account is None:
            raise ApiError(
                "api.missing_field",
                N_("{path} is missing: this message type needs it."),
                path=f"{path}groupId",
            )
    else:
        account = _account_from(context, ACCOUNT_CONTEXT_KEYS, f"{path}context.")
    if account is not None:
        batch.memberships[identity] = account
    batch.traits.append(
        (
            message_id,
            message.type,
            identity,
            user_id,
            anonymous_id,
            account,
            _to_json(message.traits, f"{path}traits"),
            ts,
            envelope.received_text,
            envelope.key_id,
        )
    )


def normalize_messages(
    messages: list[_Message],
    *,
    in_batch: bool,
    received_at: dt.datetime,
    zone: ZoneInfo,
    key_id: str,
    known_memberships: Mapping[str, str],
    batch_context: dict[str, Any] | None = None,
    batch_sent_at: str | None = None,
) -> NormalizedBatch:
    """Check ``messages`` and build their spool rows.

    Parameters
    ----------
    messages
        Validated models, in the order the client sent them.
    in_batch
        Whether the messages came in a ``batch`` call; error paths then read
        ``batch[i].field``, else ``field``.
    received_at
        Naive UTC time of the request, used for messages without timestamp.
    zone
        Zone of naive timestamps.
    key_id
        Id of the key that sent the request, kept with each row.
    known_memberships
        Account of each user identity (see :func:`user_key`) from earlier
        ``group`` calls.

    Raises
    ------
    ApiError
        400 naming the first invalid message's path and value; nothing of the
        request is stored then.
    """
    envelope = _Envelope(
        received_at,
        zone,
        key_id,
        batch_context,
        batch_sent_at,
        known_memberships,
        timestamp_text(received_at),
    )
    if batch_sent_at is not None:
        parse_timestamp(batch_sent_at, "sentAt", zone)
    batch = NormalizedBatch()
    for index, message in enumerate(messages):
        path = f"batch[{index}]." if in_batch else ""
        _add_message(message, path, batch, envelope)
    return batch
