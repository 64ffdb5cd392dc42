"""Every revenue message is in both catalogs and every key and command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

import jalon.revenue
from jalon.revenue import config

ROOT = Path(__file__).parents[2]
SOURCES = [
    *sorted((ROOT / "src/jalon/revenue").glob("*.py")),
    ROOT / "src/jalon/cli/revenue.py",
]
TEMPLATE = ROOT / "src/jalon/report/templates/_revenue.html.j2"
DOCS = {
    lang: (ROOT / "docs" / lang / "revenue.md").read_text(encoding="utf-8")
    for lang in ("en", "fr")
}


def source_messages() -> set[str]:
    found = set()
    for path in SOURCES:
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords={"N_": None, "_": None, "_t": None}
        ):
            found.add(message)
    with TEMPLATE.open("rb") as handle:
        for _, _, message, _ in babel_extract(
            handle, ["_"], [], {"extensions": "jinja2.ext.i18n"}
        ):
            if isinstance(message, str):
                found.add(message)
    from jalon.revenue import labels, unit_economics

    for table in (
        labels.COLUMN_LABELS,
        labels.VALUE_LABELS,
        labels.EXCLUSION_LABELS,
        labels.RULE_LABELS,
        labels.RULE_VALUE_LABELS,
    ):
        found.update(table.values())
    found.update(
        (
            unit_economics.LTV_FORMULA,
            unit_economics.CAC_FORMULA,
            unit_economics.PAYBACK_FORMULA,
        )
    )
    return found


def catalog(lang: str) -> dict[str, str]:
    path = ROOT / f"src/jalon/i18n/locales/{lang}/LC_MESSAGES/revenue.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_message_in_catalog(lang):
    missing = source_messages() - set(catalog(lang))
    assert not missing, sorted(missing)


def test_every_french_message_translated():
    untranslated = [msgid for msgid, text in catalog("fr").items() if not text]
    assert not untranslated, untranslated


def test_every_sheet_title_in_catalog():
    from jalon.revenue import export

    names = {
        export.SUMMARY_TITLE,
        export.REJECTED_TITLE,
        export.TTV_TITLE,
        export.HEATMAP_TITLE,
        export.HEADLINE_TITLE,
    }
    names |= {title for title, _ in export.SHEETS}
    names.add(export.TRUNCATED_NOTE)
    assert names <= set(catalog("fr"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_key_documented(lang):
    keys = (
        config.TOP_KEYS + config.PLAN_KEYS + config.FORECAST_KEYS + config.SCENARIO_KEYS
    )
    missing = [key for key in keys if f"`{key}`" not in DOCS[lang]]
    assert not missing, missing


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_command_documented(lang):
    for command in ("report", "export", "check"):
        assert f"jalon revenue {command}" in DOCS[lang], command


def test_public_api():
    assert sorted(jalon.revenue.__all__) == [
        "BillingData",
        "CAVEAT_MESSAGES",
        "RevenueResult",
        "RevenueSpec",
        "analyse",
        "export_excel",
        "export_recognition_csv",
        "load_billing",
        "parse_revenue_config",
        "run_revenue",
    ]
