"""``jalon check``: validate a project's config against its data."""


from pathlib import Path

import typer
from rich.markup import escape

from jalon.cli.common import config_option, console, lang_option, resolve_language, user_errors
from jalon.i18n import Formatter, translations

EXIT_FINDINGS = 1


def register(app: typer.Typer, _) -> None:
    Lang = lang_option(_)
    ConfigPath = config_option(_)

    @app.command(
        help=_(
            "Validate jalon.toml against the loaded data: unknown event, property "
            "and column names, milestones no account reaches."
        )
    )
    def check(config: ConfigPath = Path("jalon.toml"), lang: Lang = None) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            result = run_check(config)
        print_findings(result, language)
        if not result.ok:
            raise typer.Exit(EXIT_FINDINGS)


def run_check(config_path: Path):
    from jalon.checks import check_project
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    config = load_config(config_path)
    with Store.open(config.store_path, memory_limit=config.memory_limit) as store:
        load_project(
            store, config.events, config.accounts, base_dir=config.base_dir, timezone=config.timezone
        )
        return check_project(config, store)


def print_findings(result, language: str) -> None:
    _ = translations(language).gettext
    fmt = Formatter(language)
    labels = {"error": _("error"), "warning": _("warning")}
    styles = {"error": "bold red", "warning": "yellow"}
    for finding in result.findings:
        params = {k: fmt.value(v) if not isinstance(v, str) else v for k, v in finding.params.items()}
        message = _(finding.template).format(**params)
        console.print(f"[{styles[finding.severity]}]{labels[finding.severity]}[/]: {escape(message)}")
    if result.ok and not result.findings:
        console.print(
            _("The configuration is valid: {events} events, {accounts} accounts.").format(
                events=fmt.integer(result.n_events), accounts=fmt.integer(result.n_accounts)
            )
        )
