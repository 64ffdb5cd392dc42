"""Run every analysis of a project and gather the results in one object.

:func:`run_analysis` is the single place where figures are computed. The CLI
summary, the HTML report and the dashboard all format the :class:`Analysis`
it returns and never recompute a figure, so they always agree.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from jalon.cohorts.ttv import COHORT_LABEL, with_cohort_label
from jalon.config import ChurnSpec, Config
from jalon.errors import N_, InputError
from jalon.milestones.accounts import (
    AccountTable,
    build_account_table,
    date_column_problems,
    observation_end,
)
from jalon.survival import MilestoneSummary, summarize, summarize_groups
from jalon.survival.lifetable import life_tables

logger = logging.getLogger(__name__)

ACCOUNT_TABLE_NAME = "_jalon_account_table"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Window:
    """Observation window: first and last start among included accounts, and the end."""

    first_start: dt.datetime | None
    last_start: dt.datetime | None
    end: dt.datetime


@dataclass(frozen=True)
class Population:
    """Population counts: included accounts and exclusions by reason code."""

    n_accounts: int
    excluded_accounts: dict[str, int]
    n_events_used: int
    excluded_events: dict[str, int]


@dataclass(frozen=True)
class MilestoneDefinition:
    id: str
    name: str
    tier: str
    start: str | None
    condition: dict[str, Any]


@dataclass(frozen=True)
class Definitions:
    """Definitions behind the figures, as structured data the presentation describes."""

    start: dict[str, Any]
    churn: dict[str, Any] | None
    milestones: tuple[MilestoneDefinition, ...]
    horizons: tuple[float, ...]
    segments: tuple[str, ...]
    timezone: str
    end_configured: bool


@dataclass(frozen=True)
class MilestoneResult:
    """Time-to-value figures of one milestone, overall and per segment value."""

    id: str
    name: str
    tier: str
    overall: MilestoneSummary
    by_segment: dict[str, tuple[MilestoneSummary, ...]]
    excluded: dict[str, int]

    def __repr__(self) -> str:
        return f"MilestoneResult({self.id}: {self.overall!r})"


@dataclass(frozen=True)
class Analysis:
    """Every figure of a project, for the CLI, the report and the dashboard."""

    project_name: str
    synthetic: bool
    generated_at: dt.datetime
    window: Window
    population: Population
    definitions: Definitions
    milestones: tuple[MilestoneResult, ...]
    ingest: Any = None
    funnels: tuple[Any, ...] = ()
    cohorts: Any = None
    churn_link: Any = None
    revenue: Any = None
    caveats: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        return (
            f"Analysis({self.project_name}: {self.population.n_accounts:,} accounts, "
            f"{len(self.milestones)} milestones, end {self.window.end:%Y-%m-%d})"
        )

    def local_window(self) -> Window:
        """Return the window in the project's time zone, for display.

        Times are stored in UTC; an end configured as midnight in
        Europe/Paris is 23:00 UTC the day before, which must not be shown as
        that earlier day.
        """
        zone = zoneinfo.ZoneInfo(self.definitions.timezone)

        def local(moment: dt.datetime | None) -> dt.datetime | None:
            if moment is None:
                return None
            return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)

        window = self.window
        return Window(local(window.first_start), local(window.last_start), local(window.end))

    def milestone(self, identifier: str) -> MilestoneResult:
        for result in self.milestones:
            if result.id == identifier:
                return result
        raise KeyError(identifier)


def run_analysis(
    config: Config,
    store,
    *,
    synthetic: bool = False,
    ingest: Any = None,
    progress: Progress | None = None,
) -> Analysis:
    """Compute every figure the project's config requests.

    Parameters
    ----------
    config
        The validated project configuration.
    store
        An open :class:`jalon.store.Store`.
    synthetic
        Mark the results as computed on generated data.
    ingest
        The :class:`jalon.ingest.IngestSummary` of the load, shown in reports.
    progress
        Called with a step name before each long step.
    """
    step = progress or (lambda name: None)
    events = store.events()
    properties = store.properties()
    end = observation_end(config, events, lambda expr: scalar(store, expr))

    step("milestones")
    check_date_columns(config, store)
    accounts = build_account_table(config, events, store.accounts(), properties, end)
    table = _materialize(store, accounts.table)
    population = _population(store, accounts, table)
    window = _window(store, table, end)

    step("statistics")
    tables = {m.id: _life_tables(store, table, config, m) for m in config.milestones}
    milestones = tuple(_milestone_result(tables[m.id], config, m) for m in config.milestones)
    cohort_tables = None
    if config.cohorts is not None:
        cohort_tables = {key: value[COHORT_LABEL] for key, value in tables.items()}
    extras = _extra_analyses(
        config, store, accounts, table, properties, step, synthetic, cohort_tables
    )
    return Analysis(
        project_name=config.name,
        synthetic=synthetic,
        generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        window=window,
        population=population,
        definitions=_definitions(config),
        milestones=milestones,
        ingest=ingest,
        **extras,
    )


def check_date_columns(config: Config, store) -> None:
    """Raise :class:`InputError` on an accounts date that cannot be read.

    Without this check such a value would silently become a missing start
    (the account excluded) or a missing churn date.
    """
    for path, column, rows in date_column_problems(config, store.accounts()):
        found = store.execute(rows)
        if len(found):
            raise InputError(
                "input.bad_account_date",
                N_(
                    "{file}: account {account} has \"{value}\" in column {column} ({path}), "
                    "which is not a date. Write dates as 2024-03-01 or "
                    "2024-03-01T10:00:00Z, or leave the cell empty."
                ),
                file=config.accounts.path if config.accounts else "",
                account=str(found["account_id"].iloc[0]),
                value=str(found["value"].iloc[0]),
                column=column,
                path=path,
            )


def _materialize(store, table: ir.Table) -> ir.Table:
    """Compute the per-account table once, so each statistic reads a small table."""
    from jalon.store.engine import materialize

    return materialize(store, table, ACCOUNT_TABLE_NAME)


def _population(store, accounts: AccountTable, table: ir.Table) -> Population:
    account_counts = store.execute(accounts.account_exclusions).iloc[0].to_dict()
    event_counts = store.execute(accounts.event_exclusions).iloc[0].to_dict()
    n_events = int(event_counts.pop("used"))
    n_accounts = int(scalar(store, table.count()))
    excluded_events = {k: int(v) for k, v in event_counts.items() if int(v) > 0}
    loaded = store.exclusions()
    for reason, count in zip(loaded["reason"], loaded["rows"]):
        excluded_events[reason] = excluded_events.get(reason, 0) + int(count)
    population = Population(
        n_accounts=n_accounts,
        excluded_accounts={k: int(v) for k, v in account_counts.items() if int(v) > 0},
        n_events_used=n_events,
        excluded_events=dict(sorted(excluded_events.items())),
    )
    logger.info("%s accounts included, %s events used", n_accounts, n_events)
    for reason, count in population.excluded_accounts.items():
        logger.warning("excluded accounts, %s: %s", reason, count)
    for reason, count in population.excluded_events.items():
        logger.warning("excluded events, %s: %s", reason, count)
    return population


def _window(store, table: ir.Table, end: dt.datetime) -> Window:
    bounds = store.execute(
        table.aggregate(first=table.start_at.min(), last=table.start_at.max())
    ).iloc[0]
    return Window(_python_time(bounds["first"]), _python_time(bounds["last"]), end)


def scalar(store, expr):
    """Execute a scalar expression through the store and return its value."""
    return store.execute(expr).iloc[0, 0]


def _python_time(value) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _life_tables(store, table: ir.Table, config: Config, milestone) -> dict:
    """Build a milestone's life tables overall, per segment and per cohort, in one query.

    Keys are None (overall), each segment column and, with cohorts,
    :data:`jalon.cohorts.ttv.COHORT_LABEL`.
    """
    days, status = f"m_{milestone.id}_days", f"m_{milestone.id}_status"
    groups = list(config.segments)
    if config.cohorts is not None:
        table = with_cohort_label(table, config.cohorts)
        groups.append(COHORT_LABEL)
    return life_tables(table, days, status, groups, execute=store.execute)


def _milestone_result(tables: dict, config: Config, milestone) -> MilestoneResult:
    overall = summarize(tables[None], horizons=config.horizons)
    by_segment = {
        segment: summarize_groups(tables[segment], horizons=config.horizons)
        for segment in config.segments
    }
    missing = int(tables[None].attrs["n_excluded"])
    excluded = {"no_milestone_start": missing} if missing else {}
    return MilestoneResult(
        milestone.id, milestone.name, milestone.tier, overall, by_segment, excluded
    )


def _definitions(config: Config) -> Definitions:
    return Definitions(
        start=config.start.describe(),
        churn=_describe_churn(config.churn),
        milestones=tuple(
            MilestoneDefinition(m.id, m.name, m.tier, m.start, _condition_dict(m.raw_dict))
            for m in config.milestones
        ),
        horizons=config.horizons,
        segments=config.segments,
        timezone=config.timezone,
        end_configured=config.observation_end is not None,
    )


def _condition_dict(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in ("id", "name", "tier")}


def _churn_link_enabled(config: Config) -> bool:
    """Tell whether ``[analysis] churn_link`` leaves the churn link analysis on."""
    from jalon.churn_link.settings import parse_settings

    milestone_ids = tuple(m.id for m in config.milestones)
    return parse_settings(config.analysis, tuple(config.segments), milestone_ids).churn_link


def _churn_delay_days(churn: ChurnSpec | None) -> float:
    """Days after which a churn is known: N for inactivity churn, else 0."""
    if churn is None or churn.inactivity_days is None:
        return 0.0
    return float(churn.inactivity_days)


def _describe_churn(churn: ChurnSpec | None) -> dict[str, Any] | None:
    if churn is None:
        return None
    if churn.condition is not None:
        return {"event": list(churn.condition.events or ())}
    if churn.inactivity_days is not None:
        return {"inactivity_days": churn.inactivity_days, "last_seen_column": churn.last_seen_column}
    return {"column": churn.column}


def _extra_analyses(
    config: Config,
    store,
    accounts: AccountTable,
    table: ir.Table,
    properties: dict[str, str],
    step: Progress,
    synthetic: bool,
    cohort_tables: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Compute funnels, cohorts, churn link and revenue when the config requests them."""
    from jalon.cohorts import compute_cohorts
    from jalon.funnels import compute_funnel

    extras: dict[str, Any] = {}
    if config.funnels:
        step("funnels")
        extras["funnels"] = tuple(
            compute_funnel(
                store.events(),
                spec,
                accounts=table,
                segments=config.segments,
                properties=properties,
                observation_end=accounts.end,
            )
            for spec in config.funnels
        )
    if config.cohorts is not None:
        step("cohorts")
        extras["cohorts"] = compute_cohorts(
            store.events(),
            table,
            config.cohorts,
            milestones=accounts.milestone_ids,
            observation_end=accounts.end,
            life_tables=cohort_tables,
            churn_known_after_days=_churn_delay_days(config.churn),
        )
    if config.churn is not None and _churn_link_enabled(config):
        from jalon.churn_link import analyze_churn_link

        step("churn_link")
        extras["churn_link"] = analyze_churn_link(
            config, table, accounts.events_used, store.execute, properties
        )
    if config.revenue is not None:
        from jalon.revenue import run_revenue

        step("revenue")
        extras["revenue"] = run_revenue(
            config.revenue, store, synthetic=synthetic, accounts=store.execute(table)
        )
    return extras
