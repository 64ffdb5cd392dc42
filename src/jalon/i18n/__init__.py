"""Language choice, gettext catalogs and locale-aware formatting.

Catalogs are the ``.po`` files under ``locales/<lang>/LC_MESSAGES/``. Each
area of the code owns one file (``cli.po``, ``report.po``...). At first use,
all files of a language are merged and compiled in memory into one
translation object, so no ``.mo`` file is committed. English msgids are the source text,
so the English catalogs only need entries whose wording differs from the
msgid (plural forms, for instance).

The language is chosen, in order, by an explicit ``--lang``, the
``JALON_LANG`` environment variable, then the first POSIX locale variable
that is set (``LC_ALL``, ``LC_MESSAGES``, ``LANG``): French when it starts
with ``fr``, English otherwise.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from jalon.i18n.format import Formatter

__all__ = [
    "LANGUAGES",
    "Formatter",
    "catalog_paths",
    "choose_language",
    "merged_catalog",
    "render_error",
    "translations",
]

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGE_ENV = "JALON_LANG"
POSIX_LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")
# Every catalog of a language uses these two-form gettext plural rules. Babel
# 2.19 proposes three forms for French (CLDR adds one for millions), which
# would leave the third form of two-form entries empty.
PLURAL_FORMS = {
    "en": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
}


def choose_language(explicit: str | None = None) -> str:
    """Return ``"fr"`` or ``"en"`` from ``explicit``, then the environment.

    Parameters
    ----------
    explicit
        A language the user asked for (``--lang``), such as ``"fr"`` or
        ``"fr_CA"``; ``None`` or ``""`` to use the environment.

    Raises
    ------
    ValueError
        When ``explicit`` or ``JALON_LANG`` names a language jalon does not
        have. The POSIX variables may name any language; an unknown one
        selects English.

    Examples
    --------
    >>> choose_language("fr")
    'fr'
    """
    for value in (explicit, os.environ.get(LANGUAGE_ENV)):
        if value:
            return _supported_language(value)
    for name in POSIX_LOCALE_ENVS:
        value = os.environ.get(name)
        if value:
            code = value.strip().lower()[:2]
            return code if code in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _supported_language(value: str) -> str:
    code = value.strip().lower()[:2]
    if code not in LANGUAGES:
        raise ValueError(
            f"unsupported language {value!r}: use one of {', '.join(LANGUAGES)}"
        )
    return code


def catalog_paths(lang: str) -> list[Path]:
    """Return the ``.po`` files of ``lang``, sorted by name."""
    _check_language(lang)
    return sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po"))


def merged_catalog(lang: str) -> Catalog:
    """Read every catalog file of ``lang`` into one Babel catalog.

    When two files translate the same msgid, the first file in name order
    wins and the conflict is logged at WARNING. The plural rules are those of
    :data:`PLURAL_FORMS`, whatever the files' headers declare.
    """
    merged = Catalog(locale=lang, domain="jalon", fuzzy=False)
    merged.mime_headers = [("Plural-Forms", PLURAL_FORMS[lang])]
    origin: dict[object, str] = {}
    for po_path in catalog_paths(lang):
        with po_path.open("rb") as handle:
            part = read_po(handle, locale=lang)
        for message in part:
            if not message.id:
                continue
            existing = merged.get(message.id, message.context)
            if existing is not None and existing.string:
                if message.string and message.string != existing.string:
                    logger.warning(
                        "msgid %r has different translations in %s and %s, "
                        "so the one in %s is used",
                        message.id,
                        origin[message.id],
                        po_path.name,
                        origin[message.id],
                    )
                continue
            if existing is not None:
                # Assigning onto an existing entry would keep its empty string.
                merged.delete(message.id, message.context)
            merged[message.id] = message
            origin[message.id] = po_path.name
    return merged


@functools.cache
def translations(lang: str) -> gettext.GNUTranslations:
    """Return the merged translations of every catalog file of ``lang``.

    The result is cached per language; use ``.gettext`` and ``.ngettext``.
    """
    catalog = merged_catalog(lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


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
        logger.exception(
            "translated template of %s does not match its params", error.code
        )
        return error.english()


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {LANGUAGES}")
