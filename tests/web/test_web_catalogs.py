"""Every message of the ingest API and of its commands is in both catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

SRC = Path(__file__).parents[2] / "src" / "jalon"
SOURCES = sorted((SRC / "web").glob("*.py")) + [
    SRC / "cli" / "serve.py",
    SRC / "cli" / "keys.py",
]
KEYWORDS = {"_": None, "N_": None, "_t": None}


def _message_ids() -> set[str]:
    found = set()
    for path in SOURCES:
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords=KEYWORDS
        ):
            found.add(message)
    return found


def _catalog(lang: str, name: str = "web"):
    path = SRC / "i18n" / "locales" / lang / "LC_MESSAGES" / f"{name}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _all_message_ids(lang: str) -> set[str]:
    # Catalogs of all areas are merged at load, so a message may live in another area's file.
    folder = SRC / "i18n" / "locales" / lang / "LC_MESSAGES"
    return {
        message.id
        for path in folder.glob("*.po")
        for message in _catalog(lang, path.stem)
        if message.id
    }


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_message_in_catalog(lang):
    known = _all_message_ids(lang)

    missing = sorted(message for message in _message_ids() if message not in known)

    assert missing == []


def test_french_catalog_translates_everything():
    catalog = _catalog("fr")

    untranslated = sorted(
        message.id for message in catalog if message.id and not message.string
    )

    assert untranslated == []


def test_extraction_finds_messages():
    # Guards the two tests above against an extraction that finds nothing.
    assert len(_message_ids()) >= 40
