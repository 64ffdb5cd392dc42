"""Locale-aware formatting of numbers, shares, durations and dates with Babel."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from babel import dates as babel_dates
from babel import numbers as babel_numbers

BABEL_LOCALES = {"en": "en_GB", "fr": "fr_FR"}
MISSING = "–"


@dataclass(frozen=True)
class Formatter:
    """Format values for one language; ``None`` and NaN print as a dash.

    >>> Formatter("fr").number(1234.5, 1)
    '1\\u202f234,5'
    >>> Formatter("en").percent(0.125, 1)
    '12.5%'
    """

    lang: str

    @property
    def locale(self) -> str:
        return BABEL_LOCALES[self.lang]

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if _missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=self.locale)

    def integer(self, value: int | None) -> str:
        return self.number(value, 0)

    def percent(self, share: float | None, digits: int = 1) -> str:
        if _missing(share):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
        return babel_numbers.format_percent(share, format=pattern, locale=self.locale)

    def days(self, value: float | None, digits: int = 1) -> str:
        """Format a duration given in days, with the unit."""
        if _missing(value):
            return MISSING
        unit = "d" if self.lang == "en" else "j"
        return f"{self.number(value, digits)}\u00a0{unit}"

    def currency(self, value: float | None, currency: str = "EUR") -> str:
        if _missing(value):
            return MISSING
        return babel_numbers.format_currency(value, currency, locale=self.locale)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return MISSING
        if isinstance(value, dt.datetime):
            value = value.date()
        return babel_dates.format_date(value, format="short", locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return MISSING
        pattern = "dd/MM/yyyy HH:mm" if self.lang == "fr" else "yyyy-MM-dd HH:mm"
        return babel_dates.format_datetime(value, pattern, locale=self.locale)

    def value(self, value: object) -> str:
        """Format any parameter of a message: numbers by locale, others as text."""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int):
            return self.integer(value)
        if isinstance(value, float):
            return self.number(value, 2)
        if isinstance(value, dt.datetime):
            return self.datetime(value)
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, (list, tuple)):
            return ", ".join(str(item) for item in value)
        return str(value)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
