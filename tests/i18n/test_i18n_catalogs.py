"""Every message of the code has a French translation with the same placeholders.

Messages are extracted from ``src/jalon`` with Babel's extractor API and the
mapping in ``babel.cfg`` (Python and Jinja2 templates), the same way
``pybabel extract`` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from jalon.i18n import LANGUAGES, LOCALES_DIR, PLURAL_FORMS, merged_catalog

REPO_ROOT = Path(__file__).parents[2]
BABEL_CONFIG = REPO_ROOT / "babel.cfg"
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^}]*)?\}")
PERCENT_PLACEHOLDER = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)[sdifr]")
ALL_PO_FILES = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/*.po"))


def extracted_messages() -> dict[str | tuple[str, ...], list[str]]:
    """Return every msgid of ``src/jalon`` with the places it comes from."""
    with BABEL_CONFIG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    messages: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO_ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        messages.setdefault(message, []).append(f"{filename}:{lineno}")
    return messages


def placeholders(text: str) -> set[str]:
    """Return the names of ``{name}`` and ``%(name)s`` placeholders in ``text``."""
    return set(BRACE_PLACEHOLDER.findall(text)) | set(PERCENT_PLACEHOLDER.findall(text))


def test_placeholders_helper_finds_both_styles():
    found = placeholders("{count} of {total} at %(date)s, 95%% and {{literal}}")

    assert found == {"count", "total", "date"}


def test_extraction_finds_report_messages():
    messages = extracted_messages()

    # One message from Python code and one from a template.
    assert "Median time" in messages
    assert "Key figures" in messages


@pytest.mark.parametrize(
    "po_path", ALL_PO_FILES, ids=lambda path: str(path.relative_to(LOCALES_DIR))
)
def test_catalog_parses(po_path: Path):
    lang = po_path.parts[-3]
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)

    assert len(catalog) > 0, f"{po_path} has no message"


@pytest.mark.parametrize(
    "po_path", ALL_PO_FILES, ids=lambda path: str(path.relative_to(LOCALES_DIR))
)
def test_catalog_plural_forms_have_two_forms(po_path: Path):
    # Catalogs merge under PLURAL_FORMS (two forms), so a translated plural
    # entry must fill forms 0 and 1 only, and a file with plural entries must
    # declare the same rule.
    lang = po_path.parts[-3]
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    plurals = [message for message in catalog if message.id and message.pluralizable]
    header = dict(catalog.mime_headers).get("Plural-Forms", "")
    wrong_forms = [
        message.id[0]
        for message in plurals
        if any(message.string)
        and [bool(form) for form in message.string]
        != [True, True] + [False] * (len(message.string) - 2)
    ]

    assert wrong_forms == [], (
        f"{po_path}: plural entries without 2 forms: {wrong_forms}"
    )
    if plurals:
        assert header.replace(" ", "") == PLURAL_FORMS[lang].replace(" ", ""), (
            f"{po_path}: Plural-Forms is {header!r}, expected {PLURAL_FORMS[lang]!r}"
        )


def test_every_message_has_french_translation():
    french = merged_catalog("fr")
    missing = []
    for message_id, places in sorted(extracted_messages().items(), key=str):
        entry = french.get(message_id)
        strings = () if entry is None else entry.string
        strings = (strings,) if isinstance(strings, str) else strings
        # Fuzzy entries are skipped when catalogs compile, so they count as missing.
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(f"{message_id!r} ({places[0]})")

    assert missing == [], "messages without a French translation:\n" + "\n".join(
        missing
    )


def test_french_placeholders_match_msgid():
    mismatched = []
    for message in merged_catalog("fr"):
        if not message.id or not message.string:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        for index, target in enumerate(targets):
            source = sources[min(index, len(sources) - 1)]
            if target and placeholders(target) != placeholders(source):
                mismatched.append(f"{source!r} -> {target!r}")

    assert mismatched == [], "placeholders differ:\n" + "\n".join(mismatched)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_merged_catalog_includes_report_and_common(lang: str):
    catalog = merged_catalog(lang)

    assert "Key figures" in catalog
    assert "Time to Basic Value" in catalog
