"""Exceptions and warnings raised by jalon.

Every error carries a stable ``code`` and an English message template whose
``{placeholders}`` are filled from ``params``. The template is a gettext msgid:
presentation layers translate it with :func:`jalon.i18n.render_error`, so the
same error reads in French or English.

Exception tree::

    JalonError
    ├── ConfigError            invalid jalon.toml: key path, value, allowed values
    ├── InputError             unreadable or malformed data file: file, row, column, value
    │   └── TimestampError     a timestamp that cannot be parsed
    ├── StoreError             the DuckDB store or another engine failed
    ├── AnalysisError          an analysis cannot run on the data it was given
    └── ApiError               a request to the HTTP API was rejected

    JalonWarning               a statistical caveat stored on a result
    └── FewAtRiskWarning       an estimate rests on few accounts at risk
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for extraction into the gettext catalogs, unchanged."""
    return message


class JalonError(Exception):
    """Base of every error jalon raises on purpose.

    Parameters
    ----------
    code
        Stable identifier such as ``"input.missing_column"``; tests and the
        HTTP API rely on it.
    template
        English message with ``{name}`` placeholders, marked with ``N_``.
    params
        Values for the placeholders.
    """

    def __init__(self, code: str, template: str, **params: Any) -> None:
        self.code = code
        self.template = template
        self.params = params
        super().__init__(self.english())

    def english(self) -> str:
        """Return the message in English, with its placeholders filled."""
        return self.template.format(**self.params)


class ConfigError(JalonError):
    """The configuration is invalid. ``params['path']`` is the key path."""


class InputError(JalonError):
    """A data file is unreadable or malformed.

    ``params`` names at least ``file``; ``row``, ``column`` and ``value`` are
    set when the problem sits in one cell. Rows are numbered from 1, counting
    the header line of a CSV file as row 1.
    """


class TimestampError(InputError):
    """A timestamp cannot be parsed."""


class StoreError(JalonError):
    """The store or the engine failed."""


class AnalysisError(JalonError):
    """An analysis cannot run on the data it was given."""


class ApiError(JalonError):
    """A request to the HTTP API was rejected; ``status`` is its HTTP status."""

    def __init__(self, code: str, template: str, status: int = 400, **params: Any):
        self.status = status
        super().__init__(code, template, **params)


class JalonWarning(UserWarning):
    """A statistical caveat; results store it in their ``caveats`` field."""


class FewAtRiskWarning(JalonWarning):
    """An estimate rests on few accounts at risk, so its interval is wide."""
