"""Exact money and calendar arithmetic shared by the revenue modules.

Amounts travel as ``int`` minor units (cents) of their currency so that sums
are exact. A ``Decimal`` or ``Fraction`` appears only inside one computation,
which rounds half-even back to minor units. Months are the ``datetime.date``
of their first day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

# ISO 4217 currencies without a minor unit, as Stripe lists them.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


def minor_digits(currency: str) -> int:
    """Return the number of decimal digits of ``currency`` (2 for EUR, 0 for JPY)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor(amount: Decimal | Fraction, currency: str) -> int:
    """Round ``amount`` (major units) half-even to integer minor units.

    >>> to_minor(Decimal("12.345"), "EUR")
    1234
    """
    if isinstance(amount, Fraction):
        amount = Decimal(amount.numerator) / Decimal(amount.denominator)
    scaled = amount * (10 ** minor_digits(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def round_fraction(value: Fraction) -> int:
    """Round a fraction half-even to an integer, exactly."""
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2):
        return floor + 1
    return floor


def to_major(minor: int, currency: str) -> Decimal:
    """Return integer minor units as a Decimal in major units."""
    return Decimal(minor).scaleb(-minor_digits(currency))


def month_start(day: dt.date) -> dt.date:
    """Return the first day of the month of ``day``."""
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """Shift ``day`` by whole months, clamping to the month's last day.

    >>> add_months(dt.date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(month: dt.date) -> dt.date:
    """Return the last day of ``month``."""
    return add_months(month_start(month), 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Return every month from the month of ``first`` to that of ``last``."""
    months = []
    current = month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def month_index(month: dt.date) -> int:
    """Return a month as a count of months since year 0, for differences."""
    return month.year * 12 + month.month - 1


def term_months(start: dt.date, end_exclusive: dt.date) -> Fraction:
    """Return the length of a service period in calendar months, exactly.

    Whole months are counted from ``start`` on the same day of the month. The
    remaining days count as a share of the month that follows them. So
    1 January to 1 February is 1, 15 January to 1 February is 17/31, and
    1 January 2024 to 1 January 2026 is 24.

    >>> term_months(dt.date(2024, 1, 15), dt.date(2024, 2, 1))
    Fraction(17, 31)
    """
    if end_exclusive <= start:
        raise ValueError(f"empty service period {start} to {end_exclusive}")
    whole = (end_exclusive.year - start.year) * 12 + end_exclusive.month - start.month
    while whole > 0 and add_months(start, whole) > end_exclusive:
        whole -= 1
    anchor = add_months(start, whole)
    rest_days = (end_exclusive - anchor).days
    if rest_days == 0:
        return Fraction(whole)
    next_anchor = add_months(start, whole + 1)
    return whole + Fraction(rest_days, (next_anchor - anchor).days)


def split_exact(total: int, weights: list[int]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights``, summing exactly.

    Largest-remainder rounding: each share is floored, then the units left
    over go to the largest remainders (earliest first on ties).

    >>> split_exact(100, [1, 1, 1])
    [34, 33, 33]
    """
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("cannot split over zero total weight")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [Fraction(magnitude * w, weight_sum) for w in weights]
    floors = [s.numerator // s.denominator for s in shares]
    left = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * value for value in floors]
