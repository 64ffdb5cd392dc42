"""Every message of jalon.funnels and jalon.cohorts has French and English entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

SOURCE = Path(__file__).parents[2] / "src" / "jalon"
LOCALES = SOURCE / "i18n" / "locales"


def marked_messages(package: str) -> set[str]:
    found = extract_from_dir(SOURCE / package, keywords={"N_": None}, comment_tags=())
    return {message for _, _, message, _, _ in found}


def catalog(lang: str, area: str):
    with (LOCALES / lang / "LC_MESSAGES" / f"{area}.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("package", ["funnels", "cohorts"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_message_in_catalog(package, lang):
    entries = {message.id for message in catalog(lang, package) if message.id}
    merged = set(entries)
    for path in (LOCALES / lang / "LC_MESSAGES").glob("*.po"):
        merged |= {message.id for message in catalog(lang, path.stem) if message.id}

    missing = marked_messages(package) - merged
    assert not missing, f"messages missing from {lang}: {sorted(missing)}"


@pytest.mark.parametrize("package", ["funnels", "cohorts"])
def test_french_entries_translated(package):
    untranslated = [
        message.id
        for message in catalog("fr", package)
        if message.id and not message.string
    ]

    assert untranslated == []


@pytest.mark.parametrize("package", ["funnels", "cohorts"])
def test_french_placeholders_kept(package):
    for message in catalog("fr", package):
        if not message.id:
            continue
        names = sorted(part.split("}")[0] for part in message.id.split("{")[1:])
        translated = sorted(
            part.split("}")[0] for part in message.string.split("{")[1:]
        )
        assert translated == names, message.id
