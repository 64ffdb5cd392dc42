"""Dashboard pages under ``/dashboard`` and their JSON twins under ``/api/dashboard``.

Pages are the report's Jinja2 templates and views (:mod:`jalon.report`)
with one page's sections shown, plus the late-accounts list and an account
page. Everything a page loads is served by this router, so the dashboard
works without network access. The language comes from ``?lang=``, then the
``jalon_lang`` cookie, then the Accept-Language header.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from jalon.errors import N_, ApiError
from jalon.i18n import Formatter
from jalon.report.render import environment
from jalon.report.report_view import report_view
from jalon.report.text import Text
from jalon.web.dashboard_data import (
    AlertScheduler,
    FiguresCache,
    account_events,
    read_interval_minutes,
)
from jalon.web.dashboard_views import (
    account_view,
    late_csv,
    late_summary,
    late_view,
    nav_items,
)
from jalon.web.read_api import require_read_key

logger = logging.getLogger(__name__)

PREFIX = "/dashboard"
LANG_COOKIE = "jalon_lang"
LANGUAGES = ("en", "fr")
COOKIE_MAX_AGE_S = 365 * 24 * 3600
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
REPORT_PAGES = ("milestones", "funnels", "cohorts", "churn", "revenue")
MAIN_TEMPLATE = "dashboard.html"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the figures cache beside the server state, and the alert scheduler."""
    state = app.state.jalon
    cache_ = FiguresCache(state.project, drain=state.drain)
    app.state.jalon_dashboard = cache_
    scheduler = None
    interval = read_interval_minutes(state.project)
    if interval > 0:
        scheduler = AlertScheduler(cache_, interval)
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.stop()


router = APIRouter(tags=["dashboard"], lifespan=lifespan)


@cache
def dashboard_environment(lang: str) -> jinja2.Environment:
    """Return the report's Jinja2 environment in ``lang``, with the dashboard templates first."""
    env = environment(lang)
    env.loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(TEMPLATES_DIR), env.loader]
    )
    return env


def request_language(request: Request) -> str:
    """Return the page language: ``?lang=``, the cookie, then Accept-Language."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    header = request.headers.get("accept-language", "")
    return "fr" if header.strip().lower().startswith("fr") else "en"


def _figures(request: Request):
    cache_: FiguresCache = request.app.state.jalon_dashboard
    return cache_, cache_.get(force=request.query_params.get("refresh") == "1")


def _render(request: Request, page: str, **context: Any) -> HTMLResponse:
    lang = request_language(request)
    cache_, figures = _figures(request)
    key = ("view", lang)
    view = cache_.pages.get(key)
    if view is None:
        view = report_view(figures.analysis, lang)
        cache_.pages[key] = view
    text = Text(lang)
    html = (
        dashboard_environment(lang)
        .get_template(MAIN_TEMPLATE)
        .render(
            view=view,
            fmt=Formatter(lang),
            page=page,
            prefix=PREFIX,
            nav=nav_items(figures.analysis, text, PREFIX),
            computed_at=text.fmt.datetime(
                figures.snapshot.computed_at.replace(tzinfo=None)
            ),
            rule_text=rule_text(figures.alerts, text),
            late_summary=late_summary(figures.analysis, figures.late, text),
            **context,
        )
    )
    response = HTMLResponse(html)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=COOKIE_MAX_AGE_S, samesite="lax")
    return response


def rule_text(settings: Any, text: Text) -> str:
    """Describe when an account counts as late, in the page language."""
    _ = text._
    if settings.rule == "days":
        if isinstance(settings.days, dict):
            return _(
                "An account is late when it has not reached the milestone nor churned after the number of days set for that milestone."
            )
        return _(
            "An account is late when it has not reached the milestone nor churned within the expected time ({days})."
        ).format(days=text.fmt.days(settings.days, 0))
    share = text.fmt.percent(settings.percentile, 0)
    if settings.segment:
        return _(
            "An account is late when it has not reached the milestone nor churned, past the time by which {share} of its {segment} segment reached it (Kaplan-Meier)."
        ).format(share=share, segment=settings.segment)
    return _(
        "An account is late when it has not reached the milestone nor churned, past the time by which {share} of all accounts reached it (Kaplan-Meier)."
    ).format(share=share)


def parse_min_days(value: str | None) -> float | None:
    """Read the ``min_days`` filter; an empty form field means no filter."""
    if value is None or not value.strip():
        return None
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not days >= 0:
        raise ApiError(
            "dashboard.invalid_min_days",
            N_(
                "min_days has the invalid value {value!r}: give a number of days of at least 0."
            ),
            status=400,
            value=value,
        )
    return days


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/")


@router.get(f"{PREFIX}/", response_class=HTMLResponse, summary="Dashboard overview")
def overview(request: Request) -> HTMLResponse:
    return _render(request, "overview")


@router.get(
    f"{PREFIX}/late", response_class=HTMLResponse, summary="Accounts late to value"
)
def late_page(
    request: Request,
    milestone: str | None = None,
    segment: str | None = None,
    min_days: str | None = None,
) -> HTMLResponse:
    lang = request_language(request)
    _cache, figures = _figures(request)
    view = late_view(
        figures.late, Text(lang), milestone, segment, parse_min_days(min_days)
    )
    query = urlencode({k: v for k, v in view["selected"].items() if v})
    return _render(request, "late", late=view, query=query)


@router.get(f"{PREFIX}/late.csv", summary="Accounts late to value, as CSV")
def late_csv_export(
    request: Request,
    milestone: str | None = None,
    segment: str | None = None,
    min_days: str | None = None,
) -> Response:
    from jalon.alerts import filter_late

    _cache, figures = _figures(request)
    body = late_csv(
        filter_late(figures.late, milestone, segment, parse_min_days(min_days))
    )
    headers = {"Content-Disposition": 'attachment; filename="late-accounts.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    PREFIX + "/accounts/{account_id}",
    response_class=HTMLResponse,
    summary="One account",
)
def account_page(account_id: str, request: Request) -> HTMLResponse:
    lang = request_language(request)
    _cache, figures = _figures(request)
    events = account_events(figures.snapshot.config.store_path, account_id)
    account = account_view(figures, account_id, events, Text(lang))
    if account is None:
        raise ApiError(
            "dashboard.unknown_account",
            N_("No account {value!r} is in the analysis."),
            status=404,
            value=account_id,
        )
    return _render(request, "account", account=account)


@router.get(PREFIX + "/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if Path(name).name != name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise ApiError(
            "dashboard.not_found",
            N_("No file {value!r} in the dashboard."),
            status=404,
            value=name,
        )
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix])


@router.get(
    PREFIX + "/{page}",
    response_class=HTMLResponse,
    summary="A report section as a page",
)
def report_page(page: str, request: Request) -> HTMLResponse:
    if page not in REPORT_PAGES:
        raise ApiError(
            "dashboard.not_found",
            N_("No dashboard page {value!r}."),
            status=404,
            value=page,
        )
    return _render(request, page)


@router.get("/api/dashboard/figures", summary="Key figures per milestone (read key)")
def figures_json(request: Request) -> dict[str, Any]:
    require_read_key(request)
    _cache, figures = _figures(request)
    return key_figures_json(figures)


@router.get("/api/dashboard/late", summary="Accounts late to value (read key)")
def late_json(
    request: Request,
    milestone: str | None = None,
    segment: str | None = None,
    min_days: str | None = None,
) -> list[dict[str, Any]]:
    from jalon.alerts import filter_late
    from jalon.alerts.run import late_payload

    require_read_key(request)
    _cache, figures = _figures(request)
    kept = filter_late(figures.late, milestone, segment, parse_min_days(min_days))
    return late_payload(figures.analysis.project_name, kept, figures.alerts)["accounts"]


def key_figures_json(figures: Any) -> dict[str, Any]:
    """Return the overall figures of each milestone as numbers (shares in 0..1, days)."""
    analysis = figures.analysis
    milestones = []
    for result in analysis.milestones:
        summary = result.overall
        milestones.append(
            {
                "id": result.id,
                "name": result.name,
                "n_accounts": summary.n_accounts,
                "n_reached": summary.n_reached,
                "n_churned_first": summary.n_churned_first,
                "n_censored": summary.n_censored,
                "horizons": [
                    {
                        "days": h.days,
                        "share": h.share,
                        "lower": h.lower,
                        "upper": h.upper,
                        "method": h.method,
                    }
                    for h in summary.horizons
                ],
                "percentiles": [
                    {"q": p.q, "days": p.days, "lower": p.lower, "upper": p.upper}
                    for p in summary.percentiles
                ],
                "late": int((figures.late["milestone"] == result.id).sum()),
            }
        )
    return {
        "project": analysis.project_name,
        "n_accounts": analysis.population.n_accounts,
        "computed_at": figures.snapshot.computed_at.isoformat(timespec="seconds"),
        "milestones": milestones,
    }
