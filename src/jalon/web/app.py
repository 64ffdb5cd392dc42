"""FastAPI application factory of ``jalon serve``.

Routes live in one module per concept (:mod:`jalon.web.ingest_api`,
:mod:`jalon.web.read_api`); a dashboard adds its own router and templates
under ``web/templates/``.
"""

from __future__ import annotations

import contextlib
import html
import importlib.metadata
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from jalon.errors import N_, ApiError, JalonError
from jalon.i18n import render_error, translations
from jalon.web import ingest_api, read_api
from jalon.web.messages import ErrorBody, format_path, preview
from jalon.web.project import ProjectContext, as_project
from jalon.web.state import ServerSettings, ServerState

logger = logging.getLogger(__name__)

API_TITLE = "jalon ingest API"
#: Status of a request the project cannot serve until its config or store is fixed.
PROJECT_ERROR_STATUS = 503


def _version() -> str:
    try:
        return importlib.metadata.version("jalon")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return "fr" if header.strip().lower().startswith("fr") else "en"


def error_response(request: Request, error: ApiError) -> JSONResponse:
    """Render ``error`` as JSON in the request's language, with its status."""
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jalon"'
    if "retry_after" in error.params:
        headers["Retry-After"] = str(error.params["retry_after"])
    body = ErrorBody(
        code=error.code,
        message=render_error(error, _language(request)),
        params={key: value for key, value in error.params.items()},
    )
    return JSONResponse(body.model_dump(), status_code=error.status, headers=headers)


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    if error.status >= 500:
        logger.error(
            "request %s %s failed: %s", request.method, request.url.path, error
        )
    return error_response(request, error)


async def _project_error(request: Request, error: Exception) -> Response:
    """Return a 503 response when the project cannot be analysed (config or store).

    Dashboard pages get a page with the message in their language, and API
    routes the usual JSON error body.
    """
    assert isinstance(error, JalonError)
    from jalon.web.dashboard import request_language

    lang = request_language(request)
    message = render_error(error, lang)
    logger.warning("%s %s: %s", request.method, request.url.path, message)
    if request.url.path.startswith("/api/"):
        body = ErrorBody(
            code=error.code,
            message=message,
            params={key: str(value) for key, value in error.params.items()},
        )
        return JSONResponse(body.model_dump(), status_code=PROJECT_ERROR_STATUS)
    title = translations(lang).gettext("The dashboard cannot show figures yet.")
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>jalon</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(page, status_code=PROJECT_ERROR_STATUS)


async def _request_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = (
        error.errors()[0] if error.errors() else {"loc": (), "input": None, "msg": ""}
    )
    api_error = ApiError(
        "api.invalid_value",
        N_("{path} has the invalid value {value}: {reason}."),
        path=format_path(tuple(first.get("loc", ()))) or "request",
        value=preview(first.get("input")),
        reason=str(first.get("msg", "")),
    )
    return error_response(request, api_error)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    body = {
        "code": f"http.{error.status_code}",
        "message": str(error.detail),
        "params": {},
    }
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Build the OpenAPI description, adding the hand-read request bodies' schemas."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in ingest_api.REQUEST_MODELS.values():
        model_schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas.update(model_schema.pop("$defs", {}))
        schemas[model.__name__] = model_schema
    components["securitySchemes"] = {
        "basicAuth": {
            "type": "http",
            "scheme": "basic",
            "description": "API key as user name, empty password (as Segment SDKs send it).",
        },
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key."},
    }
    app.openapi_schema = schema
    return schema


def create_app(
    project: ProjectContext | Path | str,
    settings: ServerSettings | None = None,
) -> FastAPI:
    """Build the FastAPI app serving ``project``.

    Parameters
    ----------
    project
        The project, or the path of its folder or ``jalon.toml``.
    settings
        Size limits, rate limit and drain interval; defaults otherwise.

    The spool, key checker and drain timer start with the app's lifespan
    (uvicorn or ``TestClient`` as a context manager) and stop with it, after
    a last drain into the store.
    """
    context = as_project(project)
    settings = settings or ServerSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServerState(context, settings)
        app.state.jalon = state
        state.start()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title=API_TITLE, version=_version(), lifespan=lifespan)
    app.include_router(read_api.router)
    app.include_router(ingest_api.router)
    app.include_router(importlib.import_module("jalon.web.dashboard").router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(JalonError, _project_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
