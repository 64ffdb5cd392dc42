"""Formatter output in both languages, language choice and catalog merging.

Expected strings follow the CLDR data in Babel 2.19: French uses a decimal
comma, U+202F (narrow no-break space) between thousands and U+00A0
(no-break space) before ``%`` and ``€``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

import pytest

import jalon.i18n as i18n
from jalon.errors import ConfigError
from jalon.i18n import (
    Formatter,
    choose_language,
    merged_catalog,
    render_error,
    translations,
)

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"
DECEMBER_4 = dt.date(2026, 12, 4)

FORMAT_CASES = [
    # (method, args, English, French)
    ("number", (1234.56, 2), "1,234.56", f"1{NARROW_NBSP}234,56"),
    ("number", (1234567, 0), "1,234,567", f"1{NARROW_NBSP}234{NARROW_NBSP}567"),
    ("number", (0.5, 1), "0.5", "0,5"),
    # Half-even rounding: 0.125 is exact in binary and rounds down to 0.12.
    ("number", (0.125, 2), "0.12", "0,12"),
    ("integer", (1234,), "1,234", f"1{NARROW_NBSP}234"),
    ("percent", (0.125,), "12.5%", f"12,5{NBSP}%"),
    ("percent", (0.4, 0), "40%", f"40{NBSP}%"),
    ("percent", (1.0, 1), "100.0%", f"100,0{NBSP}%"),
    ("percent_range", (0.101, 0.15), "10.1–15.0%", f"10,1–15,0{NBSP}%"),
    ("days", (3.5,), f"3.5{NBSP}d", f"3,5{NBSP}j"),
    ("days", (12, 0), f"12{NBSP}d", f"12{NBSP}j"),
    ("days_range", (2.0, 5.5), f"2.0–5.5{NBSP}d", f"2,0–5,5{NBSP}j"),
    ("days_range", (2.0, None), f"≥{NBSP}2.0{NBSP}d", f"≥{NBSP}2,0{NBSP}j"),
    ("currency", (1234.5,), "€1,234.50", f"1{NARROW_NBSP}234,50{NBSP}€"),
    ("date", (DECEMBER_4,), "2026-12-04", "04/12/2026"),
    ("date", (dt.datetime(2026, 12, 4, 23, 59),), "2026-12-04", "04/12/2026"),
    (
        "datetime",
        (dt.datetime(2026, 12, 4, 9, 5),),
        "2026-12-04 09:05",
        "04/12/2026 09:05",
    ),
]


@pytest.mark.parametrize(("method", "args", "english", "french"), FORMAT_CASES)
def test_formatter_english(method, args, english, french):
    assert getattr(Formatter("en"), method)(*args) == english


@pytest.mark.parametrize(("method", "args", "english", "french"), FORMAT_CASES)
def test_formatter_french(method, args, english, french):
    assert getattr(Formatter("fr"), method)(*args) == french


@pytest.mark.parametrize("method", ["number", "integer", "percent", "days", "currency"])
@pytest.mark.parametrize("missing", [None, math.nan])
def test_formatter_missing_values_print_dash(method, missing):
    assert getattr(Formatter("fr"), method)(missing) == "–"


def test_formatter_rejects_unknown_language():
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        Formatter("de")


def test_formatter_value_formats_by_type():
    french = Formatter("fr")

    assert french.value(1234) == f"1{NARROW_NBSP}234"
    assert french.value(0.5) == "0,50"
    assert french.value(True) == "true"
    assert french.value(DECEMBER_4) == "04/12/2026"
    assert french.value(["a", "b"]) == "a, b"


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("JALON_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_choose_language_defaults_to_english(clean_environment):
    assert choose_language() == "en"


def test_choose_language_explicit_wins(clean_environment):
    clean_environment.setenv("JALON_LANG", "en")
    clean_environment.setenv("LANG", "en_US.UTF-8")

    assert choose_language("fr_CA") == "fr"


def test_choose_language_environment_variable(clean_environment):
    clean_environment.setenv("JALON_LANG", "fr")
    clean_environment.setenv("LC_ALL", "en_GB.UTF-8")

    assert choose_language() == "fr"


def test_choose_language_posix_order(clean_environment):
    clean_environment.setenv("LC_MESSAGES", "fr_FR.UTF-8")
    clean_environment.setenv("LANG", "en_US.UTF-8")

    assert choose_language() == "fr"


def test_choose_language_first_posix_variable_decides(clean_environment):
    # LC_ALL overrides LANG even when it names a language jalon lacks.
    clean_environment.setenv("LC_ALL", "de_DE.UTF-8")
    clean_environment.setenv("LANG", "fr_FR.UTF-8")

    assert choose_language() == "en"


def test_choose_language_rejects_unknown_explicit(clean_environment):
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        choose_language("de")


def test_choose_language_rejects_unknown_jalon_lang(clean_environment):
    clean_environment.setenv("JALON_LANG", "xx")

    with pytest.raises(ValueError, match="unsupported language 'xx'"):
        choose_language()


def test_translations_french_text():
    assert translations("fr").gettext("Key figures") == "Chiffres clés"


def test_translations_english_keeps_msgid():
    assert translations("en").gettext("Key figures") == "Key figures"


@pytest.mark.parametrize(
    ("count", "expected"),
    # French treats 0 and 1 as singular, English only 1.
    [(0, "{count} jour"), (1, "{count} jour"), (2, "{count} jours")],
)
def test_translations_french_plural(count, expected):
    assert translations("fr").ngettext("{count} day", "{count} days", count) == expected


def test_translations_english_plural_zero():
    assert (
        translations("en").ngettext("{count} day", "{count} days", 0) == "{count} days"
    )


def test_render_error_formats_params_in_french():
    error = ConfigError("config.test", "Reached by day {days}", days=1234)

    assert render_error(error, "fr") == f"Atteint à J+1{NARROW_NBSP}234"


def test_render_error_keeps_other_exceptions():
    assert render_error(KeyError("plan"), "fr") == "'plan'"


def write_po(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f'msgid "{source}"\nmsgstr "{target}"\n\n' for source, target in entries
    )
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    path.write_text(header + body, encoding="utf-8")


def test_merged_catalog_first_file_wins(tmp_path, monkeypatch, caplog):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    write_po(folder / "a.po", [("Start", "Point de départ"), ("Churn", "")])
    write_po(folder / "b.po", [("Start", "Début"), ("Churn", "Attrition")])
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)

    with caplog.at_level(logging.WARNING, logger="jalon.i18n"):
        catalog = merged_catalog("fr")

    assert catalog.get("Start").string == "Point de départ"
    # An empty translation in the first file does not hide a later one.
    assert catalog.get("Churn").string == "Attrition"
    assert "different translations" in caplog.text


def test_merged_catalog_sets_two_plural_forms(tmp_path, monkeypatch):
    write_po(tmp_path / "fr" / "LC_MESSAGES" / "a.po", [("Start", "Point de départ")])
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)

    assert merged_catalog("fr").num_plurals == 2


def test_choose_language_c_locale_is_english(clean_environment):
    clean_environment.setenv("LANG", "C.UTF-8")

    assert choose_language() == "en"
