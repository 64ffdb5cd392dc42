"""Cell parsers for billing files: headers, amounts, dates, statuses.

Each parser returns the typed value or raises :class:`CellError`, which
carries the code and the English message (with the fix) of the rejection.
The readers turn it into an :class:`jalon.errors.InputError` that names
file, row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from jalon.errors import N_

SPACES = re.compile(r"[\s\u00a0\u202f']")
DATE_PARTS = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})")
EXCEL_EPOCH = dt.date(1899, 12, 30)
PERCENT_CUTOFF = Decimal(1)

STATUSES = {
    "paid": "paid", "payee": "paid", "paye": "paid", "reglee": "paid", "regle": "paid",
    "open": "open", "ouverte": "open", "ouvert": "open", "impayee": "open",
    "unpaid": "open", "due": "open", "past_due": "open", "en_attente": "open",
    "void": "void", "annulee": "void", "annule": "void",
    "uncollectible": "uncollectible", "irrecouvrable": "uncollectible",
}  # fmt: skip
LINE_TYPES = {
    "subscription": "subscription", "abonnement": "subscription",
    "recurring": "subscription", "recurrent": "subscription",
    "one_off": "one_off", "oneoff": "one_off", "one_time": "one_off",
    "ponctuel": "one_off", "unique": "one_off", "setup": "one_off",
    "metered": "metered", "usage": "metered", "consommation": "metered",
    "trial": "trial", "essai": "trial",
    "discount": "discount", "remise": "discount",
    "credit_note": "credit_note", "avoir": "credit_note",
}  # fmt: skip
TRUE_WORDS = {"true", "1", "yes", "oui", "vrai", "y", "x"}
FALSE_WORDS = {"false", "0", "no", "non", "faux", "n", ""}


class CellError(ValueError):
    """A cell that cannot be parsed; ``template`` is the English message."""

    def __init__(self, code: str, template: str) -> None:
        super().__init__(template)
        self.code = code
        self.template = template


def normalise_header(header: object) -> str:
    """Return a header lower-cased, without accents, non-alphanumerics as ``_``.

    >>> normalise_header("Début de période")
    'debut_de_periode'
    """
    text = unicodedata.normalize("NFKD", str(header))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def is_blank(value: object) -> bool:
    """Return True for an empty cell (empty text, None or NaN)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def parse_amount(value: object, decimal_mark: str = "auto") -> Decimal:
    """Parse an amount such as ``1 234,56``, ``1,234.56`` or ``-12.5``.

    With ``decimal_mark="auto"`` the last of ``,`` and ``.`` is the decimal
    mark, so a lone comma is read as a decimal comma.

    >>> parse_amount("1 234,56")
    Decimal('1234.56')
    >>> parse_amount("1,234.56")
    Decimal('1234.56')
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    text = SPACES.sub("", str(value)).replace("€", "").replace("$", "")
    if text.endswith("-"):
        text = "-" + text[:-1]
    mark = decimal_mark
    if mark == "auto":
        mark = "," if text.rfind(",") > text.rfind(".") else "."
    thousands = "." if mark == "," else ","
    text = text.replace(thousands, "").replace(mark, ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError(
            "input.invalid_amount",
            N_("{file}, row {row}, column {column}: '{value}' is not an amount; "
               "write a number such as 1234.56 or 1 234,56."),
        ) from None  # fmt: skip
    if not amount.is_finite():
        raise CellError("input.invalid_amount", N_("{file}, row {row}, column {column}: "
                        "'{value}' is not a finite amount; write a number."))  # fmt: skip
    return amount


def parse_rate(value: object, decimal_mark: str = "auto") -> Decimal:
    """Parse a tax rate given as ``20``, ``20 %``, ``0,2`` or ``0.2`` into a share.

    >>> parse_rate("20 %")
    Decimal('0.2')
    """
    text = str(value).replace("%", "")
    rate = parse_amount(text, decimal_mark)
    if rate > PERCENT_CUTOFF or "%" in str(value):
        rate = rate / 100
    if rate < 0:
        raise CellError("input.invalid_rate", N_("{file}, row {row}, column {column}: "
                        "tax rate '{value}' is negative; write a rate such as 20 or 0.2."))  # fmt: skip
    return rate


def parse_date(value: object, order: str = "auto") -> dt.date:
    """Parse a date: ISO, ``dd/mm/yyyy`` (or ``mm/dd/yyyy`` when ``order="mdy"``),
    an Excel date cell or an Excel serial number. Times are dropped; UTC is assumed.

    In ``auto`` order a slashed date is read day first unless its first part
    exceeds 12.

    >>> parse_date("04/12/2026")
    datetime.date(2026, 12, 4)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = str(value).strip()
    match = DATE_PARTS.match(text)
    try:
        if not match:
            raise ValueError(text)
        first, second, third = (int(part) for part in match.groups())
        if len(match.group(1)) == 4:
            return dt.date(first, second, third)
        if order == "mdy" or (order == "auto" and first <= 12 < second):
            return dt.date(third, first, second)
        return dt.date(third, second, first)
    except ValueError:
        raise CellError(
            "input.invalid_date",
            N_("{file}, row {row}, column {column}: '{value}' is not a date; "
               "write 2024-01-31 or 31/01/2024."),
        ) from None  # fmt: skip


def parse_choice(value: object, choices: dict[str, str], code: str) -> str:
    """Map a status or line type, in English or French, to its canonical name."""
    key = normalise_header(value)
    if key in choices:
        return choices[key]
    if code == "input.invalid_status":
        template = N_("{file}, row {row}, column {column}: unknown status '{value}'; "
                      "use paid, open, void or uncollectible.")  # fmt: skip
    else:
        template = N_("{file}, row {row}, column {column}: unknown line type '{value}'; "
                      "use subscription, one_off, metered, trial, discount or "
                      "credit_note.")  # fmt: skip
    raise CellError(code, template)


def parse_quantity(value: object) -> int:
    """Parse a whole, non-negative quantity such as ``3`` or ``3,0``."""
    amount = parse_amount(value)
    if amount < 0 or amount != amount.to_integral_value():
        raise CellError("input.invalid_quantity", N_("{file}, row {row}, column {column}: "
                        "quantity '{value}' is not a whole number of 0 or more."))  # fmt: skip
    return int(amount)


def parse_flag(value: object) -> bool:
    """Parse a yes/no cell (true, oui, 1, x...)."""
    key = normalise_header(value)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise CellError("input.invalid_flag", N_("{file}, row {row}, column {column}: "
                    "'{value}' is not yes or no; write true or false."))  # fmt: skip
