"""``jalon revenue report|export|check``: recurring revenue from billing exports."""

# No "from __future__ import annotations": Typer must evaluate the
# option types defined inside build_revenue_app.
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jalon.cli.common import (
    config_option,
    console,
    lang_option,
    resolve_language,
    user_errors,
)
from jalon.errors import N_, ConfigError
from jalon.i18n import Formatter, render_error, translations

logger = logging.getLogger(__name__)

REPORT_MONTHS = 12
FINDINGS_SHOWN = 20
EXIT_FINDINGS = 1
WORKBOOK_NAME = "revenue-{lang}.xlsx"
RECOGNITION_NAME = "revenue-recognition-{lang}.csv"
RECOGNITION_DETAIL_NAME = "revenue-recognition-lines-{lang}.csv"
DEMO_TRUTH_FILE = "truth.json"
RECENT_ROWS = 6


def register(app: typer.Typer, _) -> None:
    """Add the ``revenue`` command group to ``app`` with help texts in its language."""
    app.add_typer(build_revenue_app(_), name="revenue")


def build_revenue_app(_) -> typer.Typer:
    """Return the ``revenue`` sub-app with help texts translated by ``_``."""
    Lang = lang_option(_)
    ConfigPath = config_option(_)
    group = typer.Typer(no_args_is_help=True, add_completion=False,
                        help=_("Recurring revenue from billing exports: MRR, churn, LTV, recognition."))  # fmt: skip

    @group.callback()
    def revenue_group(lang: Lang = None) -> None:
        # Accepts --lang after "revenue" too; main() already read it from the arguments.
        pass

    @group.command(
        "report", help=_("Print MRR, movements, retention and unit economics.")
    )
    def report(config: ConfigPath = Path("jalon.toml"), lang: Lang = None,
               months: Annotated[int, typer.Option("--months", help=_("Number of recent months to show."), min=1)] = REPORT_MONTHS) -> None:  # fmt: skip
        language = resolve_language(lang)
        with user_errors(language):
            print_report(load_result(config), language, months)

    @group.command(
        "export",
        help=_("Write the Excel workbook and the revenue recognition CSV files."),
    )
    def export(config: ConfigPath = Path("jalon.toml"), lang: Lang = None,
               out: Annotated[Path | None, typer.Option("--out", "-o", help=_("Output folder (default: beside jalon.toml)."))] = None) -> None:  # fmt: skip
        language = resolve_language(lang)
        with user_errors(language):
            paths = export_files(config, out, language)
        _t = translations(language).gettext
        for path in paths:
            console.print(escape(_t("Written: {path}").format(path=path)))

    @group.command(
        "check",
        help=_("List rejected billing rows and billing anomalies; exit 1 if any."),
    )
    def check(config: ConfigPath = Path("jalon.toml"), lang: Lang = None) -> None:
        language = resolve_language(lang)
        with user_errors(language):
            found = print_checks(load_result(config), language)
        if found:
            raise typer.Exit(EXIT_FINDINGS)

    return group


# The sub-app with English help, for callers that register it themselves.
revenue_app = build_revenue_app(lambda text: text)


def load_result(config_path: Path):
    """Read jalon.toml, load the billing files into the store and analyse them."""
    from jalon.config import load_config
    from jalon.revenue import run_revenue
    from jalon.store import Store

    config = load_config(config_path)
    if config.revenue is None:
        raise ConfigError(
            "config.revenue_missing",
            N_("{path} has no [revenue] section; add one that names your billing files."),
            path=str(config.path), value="", allowed="[revenue]",
        )  # fmt: skip
    with Store.open(config.store_path, memory_limit=config.memory_limit) as store:
        return run_revenue(
            config.revenue, store, synthetic=is_synthetic(config.base_dir)
        )


def is_synthetic(folder: Path) -> bool:
    """Return True when ``truth.json`` in ``folder`` marks the data as synthetic (``jalon demo``)."""
    truth = folder / DEMO_TRUTH_FILE
    if not truth.exists():
        return False
    try:
        return json.loads(truth.read_text(encoding="utf-8")).get("synthetic") is True
    except (json.JSONDecodeError, AttributeError):
        logger.warning("%s is not a jalon demo truth file", truth)
        return False


def export_files(config_path: Path, out: Path | None, language: str) -> list[Path]:
    """Write the workbook and the recognition CSV files; return their paths."""
    from jalon.config import load_config
    from jalon.revenue import export_excel, export_recognition_csv

    result = load_result(config_path)
    folder = out or load_config(config_path).base_dir
    return [
        export_excel(result, folder / WORKBOOK_NAME.format(lang=language), language),
        export_recognition_csv(result, folder / RECOGNITION_NAME.format(lang=language), language),
        export_recognition_csv(result, folder / RECOGNITION_DETAIL_NAME.format(lang=language),
                               language, detail=True),
    ]  # fmt: skip


def _money(result, fmt: Formatter, minor) -> str:
    """Format an amount without its currency; table titles name the currency."""
    return fmt.number(result.money(minor), result.minor_digits)


def _value(result, _, key: str) -> str:
    return _(result.labels["values"].get(key, key)) if key else ""


def print_report(result, language: str, months: int) -> None:
    """Print the revenue figures of ``result`` as tables."""
    _ = translations(language).gettext
    fmt = Formatter(language)
    labels = result.labels
    if result.synthetic:
        console.print(f"[yellow]{_(labels['caveats']['revenue.synthetic'])}[/yellow]")
    first, last = result.months[0], result.months[-1]
    console.print(_("{accounts} paying accounts from {first} to {last}, observed until {end}; "
                    "amounts in {currency}, excluding tax.").format(
        accounts=fmt.integer(result.n_accounts), first=f"{first:%Y-%m}", last=f"{last:%Y-%m}",
        end=fmt.date(result.as_of), currency=result.base_currency))  # fmt: skip
    console.print(_headline_table(result, _, fmt))
    console.print(_movements_table(result, _, fmt, months))
    console.print(_recognition_table(result, _, fmt))
    console.print(_renewals_table(result, _, fmt))
    console.print(_unit_economics_table(result, _, fmt))
    for key in ("ltv", "cac", "payback"):
        console.print(f"[dim]{_(result.formulas[key])}[/dim]")
    for code in result.caveats:
        console.print(f"[yellow]{_(labels['caveats'][code])}[/yellow]")


def _headline_table(result, _, fmt: Formatter) -> Table:
    figures = result.headline()
    cols = result.labels["columns"]
    table = Table(title=_("Key revenue figures, {month} ({currency})").format(
        month=f"{figures['month']:%Y-%m}", currency=result.base_currency), title_justify="left")  # fmt: skip
    table.add_column(_("Figure"))
    table.add_column(_("Value"), justify="right")
    for key in ("mrr_minor", "arr_minor", "arpa_minor"):
        table.add_row(_(cols[key]), _money(result, fmt, figures[key]))
    table.add_row(_(cols["customers"]), fmt.integer(figures["customers"]))
    for key in ("logo_churn", "revenue_churn", "gross_mrr_churn", "net_mrr_churn"):
        table.add_row(_(cols[key]), fmt.percent(figures.get(key)))
    for key in ("nrr_1", "grr_1", "nrr_12", "grr_12"):
        table.add_row(_(cols[key]), fmt.percent(figures[key]))
    return table


def _movements_table(result, _, fmt: Formatter, months: int) -> Table:
    cols = result.labels["columns"]
    table = Table(title=_("MRR movements by month ({currency})").format(currency=result.base_currency),
                  title_justify="left")  # fmt: skip
    keys = (
        "mrr_minor",
        "new",
        "expansion",
        "contraction",
        "churn",
        "reactivation",
        "net_change",
    )
    table.add_column(_(cols["month"]))
    for key in keys:
        table.add_column(_(cols[key]), justify="right")
    for row in result.totals.tail(months).itertuples(index=False):
        table.add_row(
            f"{row.month:%Y-%m}",
            *(_money(result, fmt, getattr(row, key)) for key in keys),
        )
    return table


def _recognition_table(result, _, fmt: Formatter) -> Table:
    cols = result.labels["columns"]
    table = Table(title=_("Revenue recognition ({currency})").format(currency=result.base_currency),
                  title_justify="left")  # fmt: skip
    keys = ("invoiced_minor", "recognized_minor", "deferred_minor", "accrued_minor")
    table.add_column(_(cols["month"]))
    for key in keys:
        table.add_column(_(cols[key]), justify="right")
    observed = result.recognition[result.recognition["month"] <= result.months[-1]]
    for row in observed.tail(RECENT_ROWS).itertuples(index=False):
        table.add_row(
            f"{row.month:%Y-%m}",
            *(_money(result, fmt, getattr(row, key)) for key in keys),
        )
    return table


def _renewals_table(result, _, fmt: Formatter) -> Table:
    cols = result.labels["columns"]
    table = Table(title=_("Renewals due ({currency})").format(currency=result.base_currency),
                  title_justify="left")  # fmt: skip
    table.add_column(_(cols["month"]))
    for key in ("renewals", "mrr_at_stake_minor"):
        table.add_column(_(cols[key]), justify="right")
    upcoming = result.renewals[result.renewals["month"] > result.months[-1]]
    for row in upcoming.head(RECENT_ROWS).itertuples(index=False):
        table.add_row(
            f"{row.month:%Y-%m}",
            fmt.integer(row.renewals),
            _money(result, fmt, row.mrr_at_stake_minor),
        )
    return table


def _unit_economics_table(result, _, fmt: Formatter) -> Table:
    cols = result.labels["columns"]
    table = Table(title=_("Unit economics over the last {months} months ({currency})").format(
        months=result.rules["trailing_months"], currency=result.base_currency), title_justify="left")  # fmt: skip
    table.add_column(_(cols["dimension"]))
    table.add_column(_(cols["value"]))
    for key in (
        "arpa_minor",
        "revenue_churn",
        "ltv_minor",
        "cac_minor",
        "ltv_cac",
        "payback_months",
    ):
        table.add_column(_(cols[key]), justify="right")
    for row in result.unit_economics.itertuples(index=False):
        value = "" if row.value == "all" else escape(str(row.value))
        table.add_row(_value(result, _, row.dimension), value, _money(result, fmt, row.arpa_minor),
                      fmt.percent(row.revenue_churn), _money(result, fmt, row.ltv_minor),
                      _money(result, fmt, row.cac_minor), fmt.number(row.ltv_cac, 1),
                      fmt.number(row.payback_months, 1))  # fmt: skip
    return table


def print_checks(result, language: str) -> int:
    """Print rejected rows and billing check findings; return how many."""
    _ = translations(language).gettext
    fmt = Formatter(language)
    for error in result.rejections:
        # Messages quote cell values and "[revenue]" keys, which Rich would read as markup.
        console.print(f"[red]{escape(render_error(error, language))}[/red]")
    table = Table(title=_("Billing checks ({currency})").format(currency=result.base_currency),
                  title_justify="left")  # fmt: skip
    cols = result.labels["columns"]
    for key in (
        "check",
        "account_id",
        "reference",
        "period_start",
        "amount_at_stake_minor",
    ):
        table.add_column(_(cols[key]))
    for row in result.checks.head(FINDINGS_SHOWN).itertuples(index=False):
        table.add_row(_value(result, _, row.check), escape(row.account_id), escape(row.reference),
                      fmt.date(row.period_start), _money(result, fmt, row.amount_at_stake_minor))  # fmt: skip
    console.print(table)
    counts = result.checks["check"].value_counts().sort_index()
    for check, count in counts.items():
        console.print(
            _("{check}: {count}").format(
                check=_value(result, _, check), count=fmt.integer(int(count))
            )
        )
    if "revenue.no_subscriptions" in result.caveats:
        console.print(
            f"[yellow]{_(result.labels['caveats']['revenue.no_subscriptions'])}[/yellow]"
        )
    total = len(result.rejections) + len(result.checks)
    console.print(_("{rows} rejected rows, {findings} billing findings.").format(
        rows=fmt.integer(len(result.rejections)), findings=fmt.integer(len(result.checks))))  # fmt: skip
    return total
