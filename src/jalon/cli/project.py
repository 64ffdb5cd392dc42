"""``jalon demo``, ``jalon load`` and ``jalon report``."""


import logging
from pathlib import Path
from typing import Annotated

import typer

from jalon.cli.common import (
    config_option,
    console,
    lang_option,
    print_summary,
    progress_steps,
    resolve_language,
    user_errors,
)
from jalon.i18n import Formatter, translations

logger = logging.getLogger(__name__)
DEMO_FOLDER = Path("jalon-demo")
DEMO_SEED = 2026


def register(app: typer.Typer, _) -> None:
    Lang = lang_option(_)
    ConfigPath = config_option(_)

    @app.command(help=_("Generate a synthetic company, analyse it and write its report."))
    def demo(
        out: Annotated[
            Path, typer.Option("--out", "-o", help=_("Folder for the generated data and the report."))
        ] = DEMO_FOLDER,
        accounts: Annotated[
            int, typer.Option("--accounts", help=_("Number of synthetic accounts."), min=50)
        ] = 3000,
        seed: Annotated[int, typer.Option("--seed", help=_("Random seed of the generator."))] = DEMO_SEED,
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            path = run_demo(out, accounts, seed, language)
        console.print(translations(language).gettext("Report written to {path}").format(path=path))

    export_command(app, _, Lang, ConfigPath)

    @app.command(help=_("Load new data files of a project into its store."))
    def load(config: ConfigPath = Path("jalon.toml"), lang: Lang = None) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            summary = load_only(config, language)
        _t = translations(language).gettext
        fmt = Formatter(language)
        console.print(
            _t("{events} events and {accounts} accounts in the store.").format(
                events=fmt.integer(summary.events_total), accounts=fmt.integer(summary.accounts_total)
            )
        )

    @app.command(help=_("Load new data, compute every figure and write the HTML report."))
    def report(
        config: ConfigPath = Path("jalon.toml"),
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help=_("Path of the HTML report (default: report.html beside jalon.toml).")),
        ] = None,
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            path = run_report(config, out, language)
        console.print(translations(language).gettext("Report written to {path}").format(path=path))


def export_command(app: typer.Typer, _, Lang, ConfigPath) -> None:
    @app.command(
        "export-parquet",
        help=_(
            "Write the project's events and accounts to Parquet files, for the "
            "Spark engine (engine = \"spark\")."
        ),
    )
    def export_parquet_command(
        config: ConfigPath = Path("jalon.toml"),
        out: Annotated[
            Path, typer.Option("--out", "-o", help=_("Folder that receives the Parquet files."))
        ] = Path("parquet"),
        lang: Lang = None,
    ) -> None:
        from jalon.config import load_config
        from jalon.store import Store
        from jalon.store.engine import export_parquet

        language = resolve_language(lang)
        with user_errors(language):
            loaded = load_config(config)
            folder = out if out.is_absolute() else loaded.base_dir / out
            with Store.open(
                loaded.store_path, read_only=True, memory_limit=loaded.memory_limit
            ) as store:
                written = export_parquet(store, folder)
        console.print(translations(language).gettext("Parquet files written to {path}").format(path=written))


def run_project(config_path: Path, language: str, synthetic: bool, step):
    """Load new files and run the analysis; return (config, analysis)."""
    from jalon.analysis import run_analysis
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store.engine import open_store

    config = load_config(config_path)
    with open_store(config) as store:
        ingest = None
        if config.engine == "duckdb":
            step("load")
            drain_api_events(config, store)
            ingest = load_project(
                store,
                config.events,
                config.accounts,
                base_dir=config.base_dir,
                timezone=config.timezone,
                progress=lambda name, done, total: step("load", done, total),
            )
        analysis = run_analysis(config, store, synthetic=synthetic, ingest=ingest, progress=step)
    return config, analysis


def drain_api_events(config, store) -> int:
    """Move events received by ``jalon serve`` into the store before an analysis."""
    from jalon.web.drain import drain_spool
    from jalon.web.project import ProjectContext

    project = ProjectContext.from_path(config.path)
    if not project.spool_path.exists():
        return 0
    return drain_spool(store, project.spool_path)


def run_report(config_path: Path, out: Path | None, language: str) -> Path:
    from jalon.report import write_report

    with progress_steps(language) as step:
        config, analysis = run_project(config_path, language, synthetic=False, step=step)
        step("report")
        path = write_report(analysis, out or config.base_dir / "report.html", language)
    print_summary(analysis, language)
    return path


def run_demo(out: Path, accounts: int, seed: int, language: str) -> Path:
    from jalon.demo import generate_demo
    from jalon.report import write_report

    data_dir = out / "data"
    with progress_steps(language) as step:
        step("generate")
        generate_demo(data_dir, seed=seed, n_accounts=accounts, language=language)
        config, analysis = run_project(data_dir / "jalon.toml", language, synthetic=True, step=step)
        step("report")
        path = write_report(analysis, out / f"report-{language}.html", language)
    print_summary(analysis, language)
    return path


def load_only(config_path: Path, language: str):
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.store import Store

    config = load_config(config_path)
    with progress_steps(language) as step, Store.open(
        config.store_path, memory_limit=config.memory_limit
    ) as store:
        return load_project(
            store,
            config.events,
            config.accounts,
            base_dir=config.base_dir,
            timezone=config.timezone,
            progress=lambda name, done, total: step("load", done, total),
        )
