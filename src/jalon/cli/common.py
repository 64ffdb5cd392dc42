"""Pieces every command shares: options, error display, progress, the summary."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from jalon.errors import JalonError
from jalon.i18n import Formatter, choose_language, render_error, translations
from jalon.i18n.labels import exclusion_reason_label, tier_label

logger = logging.getLogger(__name__)
console = Console()
error_console = Console(stderr=True)
EXIT_USER_ERROR = 2


def lang_option(_) -> object:
    return Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=_("Language of messages and reports: fr or en (default: JALON_LANG, then the locale)."),
            show_default=False,
        ),
    ]


def config_option(_) -> object:
    return Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            help=_("Path of the project's jalon.toml (or of its folder)."),
        ),
    ]


def resolve_language(lang: str | None) -> str:
    try:
        return choose_language(lang)
    except ValueError as error:
        error_console.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USER_ERROR) from error


@contextlib.contextmanager
def user_errors(lang: str) -> Iterator[None]:
    """Print jalon errors as translated messages and exit with status 2."""
    _ = translations(lang).gettext
    try:
        yield
    except JalonError as error:
        logger.debug("command failed", exc_info=True)
        message = escape(render_error(error, lang))
        error_console.print(_("[bold red]Error:[/bold red] {message}").format(message=message))
        raise typer.Exit(EXIT_USER_ERROR) from error
    except duckdb.OutOfMemoryException as error:
        logger.debug("command failed", exc_info=True)
        message = _(
            "DuckDB ran out of memory. Raise project.memory_limit in jalon.toml or "
            "remove it, or free memory on this machine."
        )
        error_console.print(_("[bold red]Error:[/bold red] {message}").format(message=message))
        raise typer.Exit(EXIT_USER_ERROR) from error


@contextlib.contextmanager
def progress_steps(lang: str) -> Iterator[Callable[..., None]]:
    """Yield a callback ``step(name, done=None, total=None)`` that drives a progress bar."""
    _ = translations(lang).gettext
    labels = step_labels(_)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}", style="dim"),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    ) as progress:
        tasks: dict[str, int] = {}

        def step(name: str, done: int | None = None, total: int | None = None) -> None:
            label = labels.get(name, name)
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total or 1)
            task = tasks[label]
            if total:
                progress.update(task, total=total, completed=done or 0)
            else:
                progress.update(task, completed=1, total=1)

        yield step


def step_labels(_) -> dict[str, str]:
    return {
        "generate": _("Generating the synthetic company"),
        "load": _("Loading data into the store"),
        "milestones": _("Computing milestones per account"),
        "statistics": _("Computing survival statistics"),
        "funnels": _("Computing funnels"),
        "cohorts": _("Computing cohorts"),
        "churn_link": _("Linking time to value and churn"),
        "revenue": _("Computing recurring revenue"),
        "report": _("Writing the report"),
    }


def print_summary(analysis, lang: str) -> None:
    """Print the key figures of an analysis as tables."""
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    window = analysis.local_window()
    console.print(
        _("{project}: {accounts} accounts, starts from {first} to {last}, observed until {end}.").format(
            project=analysis.project_name,
            accounts=fmt.integer(analysis.population.n_accounts),
            first=fmt.date(window.first_start),
            last=fmt.date(window.last_start),
            end=fmt.date(window.end),
        )
    )
    if analysis.synthetic:
        console.print(f"[yellow]{_('Synthetic data: these figures describe a generated company.')}[/yellow]")
    if analysis.churn_link is not None and analysis.churn_link.findings:
        console.print(findings_panel(analysis, lang))
    console.print(milestone_table(analysis, lang))
    for funnel in analysis.funnels:
        console.print(funnel_table(funnel, lang))
    if analysis.cohorts is not None:
        console.print(cohort_table(analysis.cohorts, lang))
    population = analysis.population
    # Accounts and events can be excluded for the same reason (no start), so
    # they are listed apart rather than merged by reason.
    excluded = [(_("Accounts"), population.excluded_accounts), (_("Events"), population.excluded_events)]
    if population.excluded_accounts or population.excluded_events:
        table = Table(title=_("Excluded rows and accounts"), title_justify="left")
        table.add_column(_("Reason"))
        table.add_column(_("Count"), justify="right")
        for kind, counts in excluded:
            for reason, count in counts.items():
                label = _("{kind}: {reason}").format(kind=kind, reason=exclusion_reason_label(reason, _))
                table.add_row(label, fmt.integer(count))
        console.print(table)


def milestone_table(analysis, lang: str) -> Table:
    """Return key figures per milestone: counts, shares by horizon and median TTV."""
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    table = Table(title=_("Time to value per milestone (all accounts)"), title_justify="left")
    table.add_column(_("Milestone"), ratio=3)
    table.add_column(_("Reached"), justify="right")
    table.add_column(_("Churned first"), justify="right")
    table.add_column(_("Not reached yet"), justify="right")
    for days in analysis.definitions.horizons:
        table.add_column(_("Day {days}").format(days=fmt.number(days, 0)), justify="right")
    table.add_column(_("Median TTV [95% CI]"), justify="right", ratio=2)
    for result in analysis.milestones:
        summary = result.overall
        table.add_row(
            result.name,
            fmt.integer(summary.n_reached),
            fmt.integer(summary.n_churned_first),
            fmt.integer(summary.n_censored),
            *(fmt.percent(h.share) for h in summary.horizons),
            percentile_text(summary, 0.5, fmt, _),
        )
    table.caption = _(
        "Shares reached by day t count every account, including those still observed."
    )
    return table


def findings_panel(analysis, lang: str) -> Table:
    """Return the ranked findings of the churn link as a table, one sentence each."""
    from jalon.report.churn_link_view import findings_text

    _ = translations(lang).gettext
    names = {result.id: result.name for result in analysis.milestones}
    table = Table(title=_("Main findings"), title_justify="left", show_header=False)
    table.add_column("")
    for index, sentence in enumerate(findings_text(analysis.churn_link, _, Formatter(lang), names), 1):
        table.add_row(f"{index}. {sentence}")
    return table


def funnel_table(funnel, lang: str) -> Table:
    """Return a funnel's steps for everyone: reached, conversion, drop-off, median time."""
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    table = Table(title=_("Funnel: {name}").format(name=funnel.name), title_justify="left")
    table.add_column(_("Step"), ratio=3)
    table.add_column(_("Reached"), justify="right")
    table.add_column(_("Still in window"), justify="right")
    table.add_column(_("From previous"), justify="right")
    table.add_column(_("From first"), justify="right")
    table.add_column(_("Median days from previous"), justify="right", ratio=2)
    for row in funnel.steps.itertuples():
        flags = []
        if bool(row.largest_drop_off):
            flags.append(_("largest drop-off"))
        if bool(row.slowest):
            flags.append(_("slowest"))
        name = f"{int(row.step)}. {row.step_name}" + (f" [yellow]({', '.join(flags)})[/]" if flags else "")
        median = "–" if row.step == 1 else fmt.days(row.median_days)
        table.add_row(
            name,
            fmt.integer(int(row.n_reached)),
            fmt.integer(int(row.n_still_in_window)),
            fmt.percent(row.conversion_from_previous),
            fmt.percent(row.conversion_from_first),
            median,
        )
    return table


def cohort_table(cohorts, lang: str, max_periods: int = 6) -> Table:
    """Return retention by cohort for the first periods, marking unobservable cells."""
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    period_names = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
    table = Table(title=_("Retention by cohort"), title_justify="left")
    table.add_column(_("Cohort"))
    table.add_column(_("Accounts"), justify="right")
    columns = list(cohorts.retention.columns)[:max_periods]
    for period in columns:
        table.add_column(f"{period_names.get(cohorts.period, '')} {period}", justify="right")
    for cohort, row in cohorts.retention.iterrows():
        cells = [
            fmt.percent(row[period]) if bool(cohorts.observable.loc[cohort, period]) else "·"
            for period in columns
        ]
        table.add_row(fmt.date(cohort), fmt.integer(int(cohorts.cohort_sizes[cohort])), *cells)
    table.caption = _("· = not yet observable: the period has not ended for every account.")
    return table


def percentile_text(summary, q: float, fmt: Formatter, _) -> str:
    for percentile in summary.percentiles:
        if abs(percentile.q - q) < 1e-9:
            if percentile.days is None:
                return _("not reached (plateau {share})").format(share=fmt.percent(summary.plateau))
            low = fmt.number(percentile.lower, 1) if percentile.lower is not None else "–"
            high = fmt.number(percentile.upper, 1) if percentile.upper is not None else _("n/a")
            return f"{fmt.days(percentile.days)}\n[{low}–{high}]"
    return "–"


def tier_text(tier: str, _) -> str:
    return tier_label(tier, _)
