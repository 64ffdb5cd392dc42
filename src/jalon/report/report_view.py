"""Turn an :class:`jalon.analysis.Analysis` into the text the report displays.

Each section's view is ``None`` or empty when its part of the analysis is
missing, and the template hides the section then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jalon.i18n.labels import (
    caveat_label,
    file_kind_label,
    file_status_label,
    tier_label,
)
from jalon.report.cohort_view import CohortView, cohort_view
from jalon.report.describe import describe_churn, describe_condition, describe_start
from jalon.report.funnel_view import FunnelView, funnel_views
from jalon.report.milestone_view import MilestoneView, milestone_view
from jalon.report.text import Text

MEDIAN_Q = 0.5


@dataclass(frozen=True)
class KeyFigure:
    """One row of the key figures table: a milestone's overall figures."""

    id: str
    name: str
    tier: str
    n_accounts: str
    shares: tuple[str, ...]
    median: str


@dataclass(frozen=True)
class Exclusion:
    """One exclusion reason, translated, with its count."""

    scope: str
    reason: str
    code: str
    count: str


@dataclass(frozen=True)
class MilestoneDefinitionView:
    """A milestone's definition in words."""

    id: str
    name: str
    tier: str
    condition: str


@dataclass(frozen=True)
class DefinitionsView:
    """The definitions section: start, churn, window, milestones, exclusions."""

    start: str
    churn: str
    window: str
    end_source: str
    timezone: str
    horizons: str
    segments: str
    milestones: tuple[MilestoneDefinitionView, ...]
    exclusions: tuple[Exclusion, ...]
    files: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class ReportView:
    """Everything the report template displays, formatted for one language."""

    lang: str
    title: str
    project_name: str
    synthetic: bool
    generated_at: str
    window: str
    population: str
    key_horizons: tuple[str, ...]
    key_figures: tuple[KeyFigure, ...]
    milestones: tuple[MilestoneView, ...]
    funnels: tuple[FunnelView, ...]
    cohorts: CohortView | None
    definitions: DefinitionsView | None
    caveats: tuple[str, ...]
    analysis: Any


def report_view(analysis: Any, lang: str) -> ReportView:
    """Build the view of ``analysis`` in ``lang`` (``"en"`` or ``"fr"``)."""
    text = Text(lang)
    _ = text._
    window = window_text(analysis.local_window(), text)
    population = analysis.population
    return ReportView(
        lang=lang,
        title=_("Time to Value report: {project}").format(
            project=analysis.project_name
        ),
        project_name=analysis.project_name,
        synthetic=bool(analysis.synthetic),
        generated_at=text.fmt.datetime(analysis.generated_at),
        window=window,
        population=_population_text(population, text),
        key_horizons=_key_horizons(analysis, text),
        key_figures=tuple(_key_figure(result, text) for result in analysis.milestones),
        milestones=tuple(
            milestone_view(result, window, text) for result in analysis.milestones
        ),
        funnels=funnel_views(analysis.funnels or (), text),
        cohorts=_cohorts(analysis, text),
        definitions=_definitions_view(analysis, text),
        caveats=tuple(
            dict.fromkeys(caveat_label(code, _) for code in analysis.caveats or ())
        ),
        analysis=analysis,
    )


def _cohorts(analysis: Any, text: Text) -> CohortView | None:
    if analysis.cohorts is None:
        return None
    names = {result.id: result.name for result in analysis.milestones}
    return cohort_view(analysis.cohorts, names, text)


def window_text(window: Any, text: Text) -> str:
    """Describe the observation window: start range and end of observation."""
    fmt = text.fmt
    if window.first_start is None:
        return text._("no account started before {end}").format(
            end=fmt.date(window.end)
        )
    return text._("started from {first} to {last}, observed until {end}").format(
        first=fmt.date(window.first_start),
        last=fmt.date(window.last_start),
        end=fmt.date(window.end),
    )


def _population_text(population: Any, text: Text) -> str:
    fmt = text.fmt
    excluded = sum(population.excluded_accounts.values())
    template = text.ngettext(
        "{accounts} account included ({excluded} excluded), {events} events used.",
        "{accounts} accounts included ({excluded} excluded), {events} events used.",
        population.n_accounts,
    )
    return template.format(
        accounts=fmt.integer(population.n_accounts),
        excluded=fmt.integer(excluded),
        events=fmt.integer(population.n_events_used),
    )


def _key_horizons(analysis: Any, text: Text) -> tuple[str, ...]:
    if not analysis.milestones:
        return ()
    days = [share.days for share in analysis.milestones[0].overall.horizons]
    return tuple(
        text._("Reached by day {days}").format(
            days=text.fmt.number(day, 0 if float(day).is_integer() else 1)
        )
        for day in days
    )


def _key_figure(result: Any, text: Text) -> KeyFigure:
    fmt = text.fmt
    overall = result.overall
    median = next((p for p in overall.percentiles if p.q == MEDIAN_Q), None)
    if median is None:
        median_text = fmt.days(None)
    elif median.days is None:
        median_text = text._("not reached by half of accounts within the window")
    else:
        median_text = fmt.days(median.days)
    return KeyFigure(
        id=result.id,
        name=result.name,
        tier=tier_label(result.tier, text._),
        n_accounts=fmt.integer(overall.n_accounts),
        shares=tuple(fmt.percent(share.share) for share in overall.horizons),
        median=median_text,
    )


def _definitions_view(analysis: Any, text: Text) -> DefinitionsView | None:
    definitions = analysis.definitions
    if definitions is None:
        return None
    _ = text._
    fmt = text.fmt
    names = {result.id: result.name for result in analysis.milestones}
    milestones = tuple(
        MilestoneDefinitionView(
            id=item.id,
            name=item.name,
            tier=tier_label(item.tier, _),
            condition=_condition_text(item, text),
        )
        for item in definitions.milestones
    )
    if getattr(definitions, "end_configured", False):
        end_source = _("set in the configuration")
    else:
        end_source = _("the latest event in the data")
    return DefinitionsView(
        start=describe_start(definitions.start, _, text.lang),
        churn=describe_churn(definitions.churn, _, text.lang),
        window=window_text(analysis.local_window(), text),
        end_source=end_source,
        timezone=getattr(definitions, "timezone", "UTC"),
        horizons=", ".join(
            fmt.days(day, 0 if float(day).is_integer() else 1)
            for day in definitions.horizons
        ),
        segments=", ".join(definitions.segments),
        milestones=milestones,
        exclusions=_exclusions(analysis, names, text),
        files=_ingest_files(analysis.ingest, text),
    )


def _condition_text(item: Any, text: Text) -> str:
    condition = dict(
        getattr(item, "condition", None) or getattr(item, "text", {}) or {}
    )
    start = getattr(item, "start", None)
    if start and "start" not in condition:
        condition["start"] = start
    return describe_condition(condition, text._, text.lang)


def _exclusions(
    analysis: Any, milestone_names: Mapping[str, str], text: Text
) -> tuple[Exclusion, ...]:
    _ = text._
    population = analysis.population
    scopes = [
        (_("Accounts"), population.excluded_accounts),
        (_("Events"), population.excluded_events),
    ]
    for result in analysis.milestones:
        scope = _("Milestone {name}").format(
            name=milestone_names.get(result.id, result.id)
        )
        scopes.append((scope, result.excluded))
    return tuple(
        Exclusion(scope, text.reason(code), code, text.fmt.integer(count))
        for scope, counts in scopes
        for code, count in sorted(counts.items())
        if count
    )


def _ingest_files(ingest: Any, text: Text) -> tuple[dict[str, str], ...]:
    files = getattr(ingest, "files", None) or ()
    fmt = text.fmt
    rows = []
    for item in files:
        excluded = getattr(item, "excluded", 0)
        if isinstance(excluded, Mapping):
            excluded = sum(excluded.values())
        rows.append(
            {
                "path": str(getattr(item, "path", "")),
                "kind": file_kind_label(str(getattr(item, "kind", "")), text._),
                "status": file_status_label(str(getattr(item, "status", "")), text._),
                "rows_read": fmt.integer(getattr(item, "rows_read", None)),
                "rows_loaded": fmt.integer(getattr(item, "rows_loaded", None)),
                "excluded": fmt.integer(excluded),
            }
        )
    return tuple(rows)
