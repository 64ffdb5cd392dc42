"""Locale-aware formatting of numbers, shares, durations and dates with Babel.

French output follows the CLDR data shipped with Babel: a decimal comma, a
narrow no-break space (U+202F) between thousands and a no-break space
(U+00A0) before the percent sign and the currency symbol. English output uses
the ``en_GB`` conventions except for dates, which are ISO 8601
(``2026-12-04``) because ``04/12/2026`` reads as April to many English readers.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

BABEL_LOCALES = {"en": "en_GB", "fr": "fr_FR"}
MISSING = "–"
DATE_PATTERNS = {"en": "yyyy-MM-dd", "fr": "dd/MM/yyyy"}
DATETIME_PATTERNS = {"en": "yyyy-MM-dd HH:mm", "fr": "dd/MM/yyyy HH:mm"}
DAY_UNITS = {"en": "d", "fr": "j"}
# CLDR skeleton of an abbreviated month and its year.
MONTH_SKELETON = "yMMM"
RANGE_DASH = "\u2013"

# The integer part of a CLDR number pattern, with its optional fraction.
_DIGITS_BLOCK = re.compile(r"#,##0(?:\.0+)?")


@dataclass(frozen=True)
class Formatter:
    """Format values for one language; ``None`` and NaN print as a dash.

    Parameters
    ----------
    lang
        ``"en"`` or ``"fr"``.

    Examples
    --------
    >>> Formatter("fr").number(1234.5, 1)
    '1\\u202f234,5'
    >>> Formatter("fr").percent(0.125, 1)
    '12,5\\xa0%'
    >>> Formatter("en").percent(0.125, 1)
    '12.5%'
    """

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in BABEL_LOCALES:
            raise ValueError(
                f"unsupported language {self.lang!r}: use one of "
                f"{', '.join(sorted(BABEL_LOCALES))}"
            )

    @property
    def locale(self) -> str:
        """Babel locale identifier, such as ``fr_FR``."""
        return BABEL_LOCALES[self.lang]

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """Format a number with exactly ``digits`` decimals (half-even rounding)."""
        if _missing(value):
            return MISSING
        pattern = "#,##0" + _fraction(digits)
        return babel_numbers.format_decimal(value, format=pattern, locale=self.locale)

    def integer(self, value: int | None) -> str:
        """Format a count with thousands separators."""
        return self.number(value, 0)

    def percent(self, share: float | None, digits: int = 1) -> str:
        """Format a share in [0, 1] as a percentage with ``digits`` decimals.

        The spacing and sign position come from the locale's CLDR pattern.
        """
        if _missing(share):
            return MISSING
        pattern = _percent_pattern(self.locale, digits)
        return babel_numbers.format_percent(share, format=pattern, locale=self.locale)

    def percent_range(
        self, lower: float | None, upper: float | None, digits: int = 1
    ) -> str:
        """Format a confidence interval of shares, such as ``10.1–15.0%``.

        >>> Formatter("fr").percent_range(0.101, 0.15)
        '10,1\\u201315,0\\xa0%'
        """
        if _missing(lower) or _missing(upper):
            return MISSING
        low = self.number(lower * 100, digits)
        high = self.percent(upper, digits)
        return f"{low}{RANGE_DASH}{high}"

    def days(self, value: float | None, digits: int = 1) -> str:
        """Format a duration given in days, with the unit (``d`` or ``j``)."""
        if _missing(value):
            return MISSING
        return f"{self.number(value, digits)}\u00a0{DAY_UNITS[self.lang]}"

    def days_range(
        self, lower: float | None, upper: float | None, digits: int = 1
    ) -> str:
        """Format a confidence interval of durations, such as ``3.0–5.5 d``.

        An upper bound of ``None`` means the interval is open on the right
        and prints as ``≥ lower``.
        """
        if _missing(lower):
            return MISSING
        if _missing(upper):
            return f"\u2265\u00a0{self.days(lower, digits)}"
        low = self.number(lower, digits)
        return f"{low}{RANGE_DASH}{self.days(upper, digits)}"

    def currency(self, value: float | None, currency: str = "EUR") -> str:
        """Format an amount in ``currency`` (ISO 4217 code)."""
        if _missing(value):
            return MISSING
        return babel_numbers.format_currency(value, currency, locale=self.locale)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        """Format a date: ``04/12/2026`` in French, ``2026-12-04`` in English."""
        if value is None:
            return MISSING
        if isinstance(value, dt.datetime):
            value = value.date()
        return babel_dates.format_date(
            value, DATE_PATTERNS[self.lang], locale=self.locale
        )

    def month(self, value: dt.date | dt.datetime | None) -> str:
        """Format the month of a date: ``janv. 2026`` or ``Jan 2026``."""
        if value is None:
            return MISSING
        if isinstance(value, dt.datetime):
            value = value.date()
        return babel_dates.format_skeleton(MONTH_SKELETON, value, locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        """Format a timestamp to the minute, without converting its time zone."""
        if value is None:
            return MISSING
        return babel_dates.format_datetime(
            value, DATETIME_PATTERNS[self.lang], locale=self.locale
        )

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


@functools.cache
def _percent_pattern(locale: str, digits: int) -> str:
    base = Locale.parse(locale).percent_formats[None].pattern
    return _DIGITS_BLOCK.sub("#,##0" + _fraction(digits), base, count=1)


def _fraction(digits: int) -> str:
    return "." + "0" * digits if digits > 0 else ""


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False
