"""Segment-compatible ingest endpoints: ``/v1/batch``, ``/v1/track``,
``/v1/identify`` and ``/v1/group``.

Each request is checked whole before anything is stored, then queued to the
spool writer. The response is sent after the spool commit, so a 2xx means
the messages are on disk. The request body is read by hand rather than by
FastAPI, so that the size limit applies before the body is buffered and the
error names the offending message. The OpenAPI description still comes from
the pydantic models in :mod:`jalon.web.messages`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import sqlite3
import zlib
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from jalon.errors import N_, ApiError
from jalon.web.messages import (
    Acknowledgement,
    BatchRequest,
    ErrorBody,
    GroupMessage,
    IdentifyMessage,
    TrackMessage,
    normalize_messages,
    validation_error,
)
from jalon.web.security import key_from_authorization
from jalon.web.state import ServerState

logger = logging.getLogger(__name__)

router = APIRouter(tags=["ingest"])

GZIP_WINDOW_BITS = 16 + zlib.MAX_WBITS
SPOOL_RETRY_AFTER_S = 1
WRITE_SCOPE = "write"

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid body; nothing was stored."},
    401: {"model": ErrorBody, "description": "Missing, unknown or revoked key."},
    403: {"model": ErrorBody, "description": "The key has the read scope."},
    413: {
        "model": ErrorBody,
        "description": "Body or one message over the size limit.",
    },
    415: {"model": ErrorBody, "description": "Unsupported Content-Encoding."},
    429: {"model": ErrorBody, "description": "Rate limit of the key exceeded."},
}
SECURITY = [{"basicAuth": []}, {"bearerAuth": []}]


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """Return the ``openapi_extra`` entry declaring ``model`` as the JSON body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                }
            },
        },
        "security": SECURITY,
    }


def _state(request: Request) -> ServerState:
    return request.app.state.jalon


def _too_large(size: int | str, limit: int) -> ApiError:
    return ApiError(
        "api.body_too_large",
        N_(
            "The request body has {size} bytes, more than the limit of {limit}"
            " bytes: send fewer messages per request."
        ),
        status=413,
        size=size,
        limit=limit,
    )


def _declared_length(request: Request, limit: int) -> None:
    header = request.headers.get("content-length")
    if header is None:
        return
    try:
        length = int(header)
    except ValueError:
        raise ApiError(
            "api.bad_content_length",
            N_("The Content-Length header {value!r} is not a number of bytes."),
            value=header,
        ) from None
    if length > limit:
        raise _too_large(length, limit)


def _decode(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ApiError(
            "api.unsupported_encoding",
            N_(
                "The Content-Encoding {value!r} is not supported: send gzip or no encoding."
            ),
            status=415,
            value=encoding,
        )
    decompressor = zlib.decompressobj(GZIP_WINDOW_BITS)
    try:
        data = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise ApiError(
            "api.bad_gzip",
            N_("The gzip body cannot be decompressed: {reason}."),
            reason=str(error),
        ) from None
    if len(data) > limit:
        raise _too_large(f"> {limit}", limit)
    return data


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, rejecting it with 413 once it passes ``limit`` bytes."""
    _declared_length(request, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"> {limit}", limit)
        chunks.append(chunk)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    return _decode(b"".join(chunks), encoding, limit)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text}")
    return value


def _reject_constant(text: str) -> None:
    raise ValueError(f"{text} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, rejecting NaN, infinities and too deep nesting with 400."""
    try:
        return json.loads(
            body, parse_float=_finite_float, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as error:
        reason = (
            str(error) if not isinstance(error, RecursionError) else "nested too deeply"
        )
        raise ApiError(
            "api.invalid_json",
            N_("The request body is not valid JSON: {reason}."),
            reason=reason[:200],
        ) from None


async def _authenticate(state: ServerState, key: str | None) -> str:
    if key and not state.keys.is_verified(key):
        # A first check runs scrypt for tens of milliseconds: keep it off the event loop.
        key_id = await run_in_threadpool(state.keys.check, key, WRITE_SCOPE)
    else:
        key_id = state.keys.check(key, WRITE_SCOPE)
    state.limiter.check(key_id)
    return key_id


def _check_message_sizes(items: Any, limit: int) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        size = len(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
        )
        if size > limit:
            raise ApiError(
                "api.message_too_large",
                N_(
                    "{path} has {size} bytes, more than the limit of {limit} bytes"
                    " per message."
                ),
                status=413,
                path=f"batch[{index}]",
                size=size,
                limit=limit,
            )


async def _store(state: ServerState, batch) -> Acknowledgement:
    try:
        result = await asyncio.wrap_future(state.writer.submit(batch))
    except sqlite3.Error:
        raise ApiError(
            "api.spool_unavailable",
            N_(
                "The server could not store the messages; nothing was stored: retry later."
            ),
            status=503,
            retry_after=SPOOL_RETRY_AFTER_S,
        ) from None
    return Acknowledgement(stored=result.stored, duplicates=result.duplicates)


def _body_key(body: bytes) -> str | None:
    """Return the ``writeKey`` of a body that failed validation, if it has one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    key = document.get("writeKey") if isinstance(document, dict) else None
    return key if isinstance(key, str) else None


async def _validate(
    state: ServerState, body: bytes, model: type[BaseModel] | None, key_id
):
    """Validate ``body`` as ``model`` (None: a batch); return it and the key id."""
    adapter = BATCH_ADAPTER if model is None else MESSAGE_ADAPTERS[model]
    try:
        parsed = adapter.validate_json(body)
    except ValidationError as error:
        # A client that sent its key in the body must still get 401 before
        # any detail about its payload.
        if key_id is None:
            await _authenticate(state, _body_key(body))
        raise validation_error(error) from None
    if key_id is None:
        extra = parsed.model_extra or {}
        body_key = parsed.write_key if model is None else extra.get("writeKey")
        key_id = await _authenticate(
            state, body_key if isinstance(body_key, str) else None
        )
    return parsed, key_id


async def _ingest(request: Request, model: type[BaseModel] | None) -> Acknowledgement:
    """Check, authenticate and store one request; ``model`` None means a batch."""
    state = _state(request)
    settings = state.settings
    header_key = key_from_authorization(request.headers.get("authorization"))
    key_id = await _authenticate(state, header_key) if header_key else None
    limit = settings.max_message_bytes if model else settings.max_batch_bytes
    body = await read_body(request, limit)
    received_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if model is None and len(body) > settings.max_message_bytes:
        document = parse_json(body)
        if isinstance(document, dict):
            _check_message_sizes(document.get("batch"), settings.max_message_bytes)
    parsed, key_id = await _validate(state, body, model, key_id)
    if model is None:
        messages, in_batch = parsed.batch, True
        batch_context, sent_at = parsed.context, parsed.sent_at
    else:
        messages, in_batch, batch_context, sent_at = [parsed], False, None, None
    normalized = normalize_messages(
        messages,
        in_batch=in_batch,
        received_at=received_at,
        zone=state.zone,
        key_id=key_id,
        known_memberships=state.writer.memberships,
        batch_context=batch_context,
        batch_sent_at=sent_at,
    )
    return await _store(state, normalized)


# Parsing and validating the raw bytes in one pydantic call is about three
# times faster than json.loads followed by validation.
BATCH_ADAPTER = TypeAdapter(BatchRequest)
MESSAGE_ADAPTERS = {
    model: TypeAdapter(model) for model in (TrackMessage, IdentifyMessage, GroupMessage)
}
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "batch": BatchRequest,
    "track": TrackMessage,
    "identify": IdentifyMessage,
    "group": GroupMessage,
}


@router.post(
    "/v1/batch",
    response_model=Acknowledgement,
    responses=ERROR_RESPONSES,
    openapi_extra=request_body(BatchRequest),
    summary="Store several track, identify and group messages, all or none",
)
async def post_batch(request: Request) -> Acknowledgement:
    return await _ingest(request, None)


@router.post(
    "/v1/track",
    response_model=Acknowledgement,
    responses=ERROR_RESPONSES,
    openapi_extra=request_body(TrackMessage),
    summary="Store one action of a user in an account",
)
async def post_track(request: Request) -> Acknowledgement:
    return await _ingest(request, TrackMessage)


@router.post(
    "/v1/identify",
    response_model=Acknowledgement,
    responses=ERROR_RESPONSES,
    openapi_extra=request_body(IdentifyMessage),
    summary="Set traits of a user",
)
async def post_identify(request: Request) -> Acknowledgement:
    return await _ingest(request, IdentifyMessage)


@router.post(
    "/v1/group",
    response_model=Acknowledgement,
    responses=ERROR_RESPONSES,
    openapi_extra=request_body(GroupMessage),
    summary="Attach a user to an account and set account traits",
)
async def post_group(request: Request) -> Acknowledgement:
    return await _ingest(request, GroupMessage)
