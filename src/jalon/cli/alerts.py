"""``jalon alerts``: list accounts late to value and send alerts about them."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jalon.cli.common import (
    config_option,
    console,
    error_console,
    lang_option,
    resolve_language,
    user_errors,
)
from jalon.i18n import Formatter, translations

EXIT_DELIVERY_FAILED = 1
DAYS_DIGITS = 1


def register(app: typer.Typer, _) -> None:
    """Add the ``alerts`` command group to ``app``, with help translated by ``_``."""
    Lang = lang_option(_)
    ConfigPath = config_option(_)
    alerts = typer.Typer(
        help=_("Accounts late to value and the alerts sent about them."),
        no_args_is_help=True,
    )
    app.add_typer(alerts, name="alerts")

    @alerts.command(
        "run",
        help=_(
            "Send each new late account to the webhook and email set in jalon.toml, once per "
            "milestone until its status changes (for cron)."
        ),
    )
    def run(
        config: ConfigPath = Path("jalon.toml"),
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help=_("List the late accounts without sending or recording."),
            ),
        ] = False,
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            result = run_command(config, dry_run)
        print_run(result, language, dry_run)
        if not result.ok:
            raise typer.Exit(EXIT_DELIVERY_FAILED)

    @alerts.command("list", help=_("Print the accounts late to value, per milestone."))
    def list_late(config: ConfigPath = Path("jalon.toml"), lang: Lang = None) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            result = run_command(config, dry_run=True)
        console.print(late_table(result.late, language))


def run_command(config_path: Path, dry_run: bool):
    """Compute the analysis of the project and run (or only list) the alerts."""
    from jalon.alerts import compute_snapshot, run_alerts, settings_from_config

    snapshot = compute_snapshot(config_path)
    settings = settings_from_config(snapshot.config)
    return run_alerts(snapshot, settings, dry_run=dry_run)


def print_run(result, language: str, dry_run: bool) -> None:
    _ = translations(language).gettext
    fmt = Formatter(language)
    console.print(
        _("{count} accounts late to a milestone.").format(
            count=fmt.integer(result.n_late)
        )
    )
    if dry_run:
        console.print(late_table(result.late, language))
        return
    for destination, count in result.sent.items():
        console.print(
            _("{destination}: {count} new alerts sent.").format(
                destination=destination, count=fmt.integer(count)
            )
        )
    for destination, message in result.failed.items():
        text = _("{destination}: sending failed: {error}").format(
            destination=destination, error=message
        )
        error_console.print(f"[bold red]{escape(text)}[/]")


def late_table(late, language: str) -> Table:
    """Return the late accounts as a table: account, milestone, segment and days."""
    _ = translations(language).gettext
    fmt = Formatter(language)
    table = Table(title=_("Accounts late to value"), title_justify="left")
    table.add_column(_("Account"))
    table.add_column(_("Milestone"))
    table.add_column(_("Segment"))
    table.add_column(_("Days since start"), justify="right")
    table.add_column(_("Expected days"), justify="right")
    table.add_column(_("Days late"), justify="right")
    for row in late.itertuples(index=False):
        table.add_row(
            escape(str(row.account_id)),
            escape(str(row.milestone_name)),
            escape(str(row.segment)),
            fmt.number(row.elapsed_days, DAYS_DIGITS),
            fmt.number(row.expected_days, DAYS_DIGITS),
            fmt.number(row.days_late, DAYS_DIGITS),
        )
    return table
