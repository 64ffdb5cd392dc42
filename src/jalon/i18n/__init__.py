"""Language choice, gettext catalogs and locale-aware formatting.

Catalogs are the ``.po`` files under ``locales/<lang>/LC_MESSAGES/``. Each
area of the code owns one file (``cli.po``, ``report.po``...); all files of a
language are merged into one translation object at first use. English msgids
are the source text, so the English catalogs only need entries whose wording
differs from the msgid (plural forms, for instance).

The language is chosen, in order, by an explicit ``--lang``, the
``JALON_LANG`` environment variable, then the POSIX locale variables
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``); French when one of them starts with
``fr``, English otherwise.
"""

from __future__ import annotations

import functools
import gettext
import io
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from jalon.i18n.format import Formatter

__all__ = [
    "LANGUAGES",
    "Formatter",
    "choose_language",
    "render_error",
    "translations",
]

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGE_ENV = "JALON_LANG"


def choose_language(explicit: str | None = None) -> str:
    """Return ``"fr"`` or ``"en"`` from ``explicit``, then the environment.

    >>> choose_language("fr")
    'fr'
    """
    candidates = [explicit, os.environ.get(LANGUAGE_ENV)]
    candidates += [os.environ.get(name) for name in ("LC_ALL", "LC_MESSAGES", "LANG")]
    for value in candidates:
        if not value:
            continue
        code = value.strip().lower()[:2]
        if code in LANGUAGES:
            return code
        if value is explicit or value is candidates[1]:
            # An explicit but unknown language is a user mistake; the locale
            # variables may legitimately name any language.
            raise ValueError(
                f"unsupported language {value!r}: use one of {', '.join(LANGUAGES)}"
            )
    return DEFAULT_LANGUAGE


@functools.cache
def translations(lang: str) -> gettext.GNUTranslations | gettext.NullTranslations:
    """Return the merged translations of every catalog file of ``lang``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {LANGUAGES}")
    merged: gettext.GNUTranslations | gettext.NullTranslations | None = None
    for po_path in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = gettext.GNUTranslations(buffer)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    return merged or gettext.NullTranslations()


def render_error(error: Exception, lang: str) -> str:
    """Return the message of a jalon error in ``lang``.

    Errors that are not :class:`jalon.errors.JalonError` keep their own text.
    """
    from jalon.errors import JalonError

    if not isinstance(error, JalonError):
        return str(error)
    template = translations(lang).gettext(error.template)
    formatter = Formatter(lang)
    params = {
        key: formatter.value(value) if not isinstance(value, str) else value
        for key, value in error.params.items()
    }
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return error.english()
