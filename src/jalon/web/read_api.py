"""Read endpoints under ``/api``, for read-scope keys, and the health check."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jalon.errors import N_, ApiError
from jalon.web.ingest_api import ERROR_RESPONSES, SECURITY
from jalon.web.security import key_from_authorization
from jalon.web.state import ServerState

READ_SCOPE = "read"
READ_ERRORS = {code: ERROR_RESPONSES[code] for code in (401, 403, 429)}

router = APIRouter(tags=["read"])


class Health(BaseModel):
    """Response of the health check."""

    status: str = "ok"


class EventCounts(BaseModel):
    """Events received through the ingest API."""

    events: int = Field(description="Events stored in the spool since it was created.")
    pending: int = Field(description="Of those, events not yet moved into the store.")


class AccountView(BaseModel):
    """Traits, members and events of one account, as received by the ingest API."""

    account_id: str
    traits: dict[str, Any] = Field(description="Traits merged from its group calls.")
    users: list[str] = Field(description="userId (or anonymousId) of its members.")
    events: int = Field(description="Events received for it through the API.")
    first_event_at: str | None = Field(description="Earliest event timestamp (UTC).")
    last_event_at: str | None = Field(description="Latest event timestamp (UTC).")


def require_read_key(request: Request) -> ServerState:
    """Check the read key of ``request`` and its rate; return the server state."""
    state: ServerState = request.app.state.jalon
    key = key_from_authorization(request.headers.get("authorization"))
    key_id = state.keys.check(key, READ_SCOPE)
    state.limiter.check(key_id)
    return state


@router.get("/health", response_model=Health, summary="Liveness check, without key")
async def health() -> Health:
    return Health()


@router.get(
    "/api/events/count",
    response_model=EventCounts,
    responses=READ_ERRORS,
    openapi_extra={"security": SECURITY},
    summary="Count events received through the ingest API",
)
def events_count(request: Request) -> EventCounts:
    state = require_read_key(request)
    return EventCounts(**state.counts())


@router.get(
    "/api/accounts/{account_id}",
    response_model=AccountView,
    responses={
        **READ_ERRORS,
        404: ERROR_RESPONSES[400] | {"description": "Unknown account."},
    },
    openapi_extra={"security": SECURITY},
    summary="Traits, members and event counts of one account",
)
def account_view(account_id: str, request: Request) -> AccountView:
    state = require_read_key(request)
    traits_rows = state.read(
        "SELECT traits FROM accounts WHERE account_id = ?", (account_id,)
    )
    members = state.read(
        "SELECT user_key FROM memberships WHERE account_id = ? ORDER BY user_key",
        (account_id,),
    )
    count, first, last = state.read(
        "SELECT count(*), min(ts), max(ts) FROM events WHERE account_id = ?",
        (account_id,),
    )[0]
    if not traits_rows and not members and count == 0:
        raise ApiError(
            "api.unknown_account",
            N_("No account {value!r} was received through the API."),
            status=404,
            value=account_id,
        )
    return AccountView(
        account_id=account_id,
        traits=json.loads(traits_rows[0][0]) if traits_rows else {},
        users=[user_key.split(":", 1)[1] for (user_key,) in members],
        events=count,
        first_event_at=first,
        last_event_at=last,
    )
